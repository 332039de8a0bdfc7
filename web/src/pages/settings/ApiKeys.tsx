import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Modal,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCheck, IconCopy, IconKey, IconPlus } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { type ApiKey, type CreatedApiKey, identityKeys, useApiKeys } from '../../api/identity';
import { useMe } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { endOfDay, formatDate, isoDate } from '../../lib/format';
import { PermissionList, PermissionPicker } from './Permissions';

type KeyState = 'active' | 'revoked' | 'expired';

function keyState(key: ApiKey, now = Date.now()): KeyState {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && new Date(key.expires_at).getTime() <= now) return 'expired';
  return 'active';
}

const STATE_LOOK: Record<KeyState, { color: string; label: string }> = {
  active: { color: 'teal', label: 'Active' },
  revoked: { color: 'gray', label: 'Revoked' },
  expired: { color: 'orange', label: 'Expired' },
};

function SecretOnce({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <Stack gap="md">
      <Alert
        color="orange"
        variant="light"
        icon={<IconAlertTriangle size={18} />}
        title="Copy the secret now"
      >
        This is the only time it is shown. Store it in your integration&apos;s secret store; send it as{' '}
        <Code>Authorization: Bearer …</Code>.
      </Alert>
      <Code block data-testid="api-key-secret" style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
        {created.secret}
      </Code>
      <Group justify="space-between">
        <CopyButton value={created.secret} timeout={2000}>
          {({ copied, copy }) => (
            <Button
              variant="light"
              color={copied ? 'teal' : undefined}
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              onClick={copy}
            >
              {copied ? 'Copied' : 'Copy secret'}
            </Button>
          )}
        </CopyButton>
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}

function NewKeyModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [permissions, setPermissions] = useState<string[]>([]);
  const create = useMutation<CreatedApiKey, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/api-keys', {
            body: { name: name.trim(), permissions, expires_at: expires ? endOfDay(expires) : null },
          }),
        )
      ).data,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: identityKeys.apiKeys });
    },
  });
  const close = () => {
    setName('');
    setExpires('');
    setPermissions([]);
    create.reset();
    onClose();
  };
  const error = create.error;
  const permissionsError = error?.fieldErrors.find((e) => e.field.startsWith('permissions'))?.message;
  const otherError =
    error && !error.fieldError('name') && !error.fieldError('expires_at') && !permissionsError;
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const minDate = isoDate(new Date());

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={create.data ? `API key “${create.data.name}” created` : 'New API key'}
      size="xl"
      centered
      closeOnClickOutside={!create.data}
    >
      {create.data ? (
        <SecretOnce created={create.data} onDone={close} />
      ) : (
        <form onSubmit={submit} noValidate aria-label="New API key">
          <Stack gap="sm">
            {otherError ? (
              <Alert color="red" variant="light" title={error.title} icon={<IconAlertTriangle size={18} />}>
                {error.detail}
              </Alert>
            ) : null}
            <Group grow align="flex-start">
              <TextInput
                label="Name"
                description="What uses it, e.g. “ERP sync”"
                required
                data-autofocus
                value={name}
                error={error?.fieldError('name')}
                onChange={(e) => {
                  setName(e.currentTarget.value);
                }}
              />
              <TextInput
                label="Expires"
                description="Optional; valid until the end of that day"
                type="date"
                min={minDate}
                value={expires}
                error={error?.fieldError('expires_at')}
                onChange={(e) => {
                  setExpires(e.currentTarget.value);
                }}
              />
            </Group>
            <PermissionPicker
              value={permissions}
              onChange={setPermissions}
              available={me?.permissions ?? []}
              error={permissionsError}
            />
            <Text size="xs" c="dimmed">
              A key can only hold permissions you hold yourself.
            </Text>
            <Group justify="flex-end" mt="xs">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                type="submit"
                loading={create.isPending}
                disabled={!name.trim() || permissions.length === 0}
              >
                Create key
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export function ApiKeysPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const keys = useApiKeys();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useMutation<unknown, ApiError, ApiKey>({
    mutationFn: (key) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: key.id } } })),
    onSuccess: (_, key) => {
      void queryClient.invalidateQueries({ queryKey: identityKeys.apiKeys });
      notifications.show({ color: 'teal', message: `API key ${key.name} revoked.` });
      setRevoking(null);
    },
  });

  if (keys.isError)
    return <ErrorAlert error={keys.error} what="the API keys" onRetry={() => void keys.refetch()} />;
  const list = keys.data ?? [];

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          Keys let integrations call the API with a fixed set of permissions.
        </Text>
        <Button
          leftSection={<IconPlus size={16} />}
          onClick={() => {
            setCreating(true);
          }}
        >
          New API key
        </Button>
      </Group>
      <Card p={0}>
        <Table.ScrollContainer minWidth={820}>
          <Table verticalSpacing="sm" horizontalSpacing="md" aria-label="API keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Permissions</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th w={90} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.isPending ? (
                <Table.Tr>
                  <Table.Td colSpan={7}>
                    <Skeleton h={28} />
                  </Table.Td>
                </Table.Tr>
              ) : list.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={7}>
                    <Group gap="xs" justify="center" py="lg" c="dimmed">
                      <IconKey size={18} />
                      <Text size="sm">No API keys yet.</Text>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ) : (
                list.map((k) => {
                  const state = keyState(k);
                  return (
                    <Table.Tr key={k.id} data-testid="api-key-row">
                      <Table.Td>
                        <Text size="sm" fw={500}>
                          {k.name}
                        </Text>
                        <Code fz="xs">{k.prefix}…</Code>
                      </Table.Td>
                      <Table.Td maw={320}>
                        <PermissionList permissions={k.permissions} />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatDate(k.created_at)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{k.expires_at ? formatDate(k.expires_at) : 'Never'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{k.last_used_at ? formatDate(k.last_used_at, true) : 'Never'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge variant="dot" color={STATE_LOOK[state].color} radius="sm">
                          {STATE_LOOK[state].label}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {state === 'active' ? (
                          <Tooltip label="Revoke: it stops working at once">
                            <Button
                              variant="subtle"
                              color="red"
                              size="compact-sm"
                              onClick={() => {
                                setRevoking(k);
                              }}
                            >
                              Revoke
                            </Button>
                          </Tooltip>
                        ) : null}
                      </Table.Td>
                    </Table.Tr>
                  );
                })
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>

      <NewKeyModal
        opened={creating}
        onClose={() => {
          setCreating(false);
        }}
      />
      <Modal
        opened={revoking !== null}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
        title="Revoke API key?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            <b>{revoking?.name}</b> stops working at once; whatever uses it will get 401 answers. This cannot
            be undone.
          </Text>
          {revoke.error ? (
            <Alert color="red" variant="light" title={revoke.error.title}>
              {revoke.error.detail}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                setRevoking(null);
                revoke.reset();
              }}
            >
              Cancel
            </Button>
            <Button
              color="red"
              loading={revoke.isPending}
              onClick={() => {
                if (revoking) revoke.mutate(revoking);
              }}
            >
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
