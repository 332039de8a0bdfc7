import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  List,
  Modal,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  ThemeIcon,
} from '@mantine/core';
import { IconCheck, IconCopy, IconShieldCheck } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { type SubmitEvent, useState } from 'react';
import { type ApiError, unwrap } from '../api/client';
import { useApi } from '../api/context';
import type { components } from '../api/schema';
import { meKey } from '../auth/me';

type UserSummary = components['schemas']['UserSummary'];
type Enrollment = components['schemas']['TotpEnrollment'];

/** The secret in groups of four, easier to type into an authenticator app. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function CopyAll({ value, label }: { value: string; label: string }) {
  return (
    <CopyButton value={value} timeout={2000}>
      {({ copied, copy }) => (
        <Button
          variant="light"
          size="xs"
          color={copied ? 'teal' : undefined}
          leftSection={copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
          onClick={copy}
        >
          {copied ? 'Copied' : label}
        </Button>
      )}
    </CopyButton>
  );
}

/**
 * Two-step verification (TOTP): enrol with a QR code drawn here (the secret never leaves
 * the page), confirm with a first code, then see the recovery codes once.
 */
function TotpSetup({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const [code, setCode] = useState('');
  const enroll = useMutation<Enrollment, ApiError>({
    mutationFn: async () => (await unwrap(api.POST('/api/v1/auth/totp/enroll'))).data,
  });
  const confirm = useMutation<string[], ApiError, string>({
    mutationFn: async (totp) =>
      (await unwrap(api.POST('/api/v1/auth/totp/confirm', { body: { code: totp } }))).data.recovery_codes,
  });

  if (confirm.data) {
    const codes = confirm.data;
    return (
      <Stack gap="md">
        <Alert
          color="teal"
          variant="light"
          icon={<IconShieldCheck size={18} />}
          title="Two-step verification is on"
        >
          Save these recovery codes somewhere safe. Each works once instead of a code from your app, and this
          is the only time they are shown.
        </Alert>
        <SimpleGrid cols={2} spacing="xs" data-testid="recovery-codes">
          {codes.map((c) => (
            <Code key={c} ta="center" fz="sm" py={6}>
              {c}
            </Code>
          ))}
        </SimpleGrid>
        <Group justify="space-between">
          <CopyAll value={codes.join('\n')} label="Copy codes" />
          <Button onClick={onDone}>I have saved them</Button>
        </Group>
      </Stack>
    );
  }

  if (!enroll.data) {
    return (
      <Stack gap="md" align="flex-start">
        <Text size="sm">
          Protect your account with a second step at sign-in: a 6-digit code from an authenticator app (such
          as Aegis, Google Authenticator or 1Password).
        </Text>
        {enroll.error ? (
          <Alert color="red" variant="light" title={enroll.error.title} w="100%">
            {enroll.error.detail}
          </Alert>
        ) : null}
        <Button
          loading={enroll.isPending}
          onClick={() => {
            enroll.mutate();
          }}
        >
          Set up two-step verification
        </Button>
      </Stack>
    );
  }

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    confirm.mutate(code.trim());
  };
  const codeError = confirm.error
    ? (confirm.error.fieldError('code') ?? confirm.error.detail ?? 'That code is not valid.')
    : undefined;
  return (
    <form onSubmit={submit}>
      <Stack gap="md">
        <List type="ordered" size="sm" spacing={4}>
          <List.Item>Scan the QR code with your authenticator app.</List.Item>
          <List.Item>Enter the 6-digit code it shows.</List.Item>
        </List>
        <Group align="flex-start" gap="lg" wrap="wrap">
          <div
            style={{ background: '#fff', padding: 8, borderRadius: 8, lineHeight: 0 }}
            data-testid="totp-qr"
          >
            <QRCodeSVG
              value={enroll.data.otpauth_uri}
              size={168}
              marginSize={1}
              title="QR code of the TOTP secret"
            />
          </div>
          <Stack gap={6} style={{ flex: 1, minWidth: 180 }}>
            <Text size="sm" fw={500}>
              Can&apos;t scan it? Enter this key
            </Text>
            <Code fz="sm" data-testid="totp-secret" style={{ wordBreak: 'break-all' }}>
              {grouped(enroll.data.secret)}
            </Code>
            <Group>
              <CopyAll value={enroll.data.secret} label="Copy key" />
            </Group>
          </Stack>
        </Group>
        <TextInput
          label="Code from the app"
          autoComplete="one-time-code"
          inputMode="numeric"
          maxLength={6}
          required
          value={code}
          error={codeError}
          onChange={(e) => {
            setCode(e.currentTarget.value);
          }}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={confirm.isPending} disabled={!/^\d{6}$/.test(code.trim())}>
            Turn on
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function SecurityModal({
  opened,
  onClose,
  user,
}: {
  opened: boolean;
  onClose: () => void;
  user: UserSummary;
}) {
  const queryClient = useQueryClient();
  // `me` learns whether TOTP is now on only once the modal closes: refreshing it earlier
  // would swap the recovery codes for the "On" state before they were saved.
  const close = () => {
    void queryClient.invalidateQueries({ queryKey: meKey });
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Security" size="lg" centered>
      <Stack gap="md">
        <Group gap="sm">
          <ThemeIcon variant="light" radius="md">
            <IconShieldCheck size={18} />
          </ThemeIcon>
          <Text fw={600}>Two-step verification</Text>
          <Badge variant="light" color={user.totp_enabled ? 'teal' : 'gray'} radius="sm">
            {user.totp_enabled ? 'On' : 'Off'}
          </Badge>
        </Group>
        {user.totp_enabled ? (
          <Text size="sm" c="dimmed">
            Signing in asks for a code from your authenticator app, or one of your recovery codes.
          </Text>
        ) : (
          // Remounted on every opening, so a half-done enrolment starts afresh.
          opened && <TotpSetup onDone={close} />
        )}
      </Stack>
    </Modal>
  );
}
