import {
  Alert,
  Anchor,
  Box,
  Button,
  Card,
  Center,
  Group,
  PasswordInput,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconAlertTriangle, IconLock, IconShieldLock } from '@tabler/icons-react';
import { type SubmitEvent, useState } from 'react';
import { Link, Navigate, useLocation } from 'react-router';
import { useSession, useSignedIn } from '../auth/context';
import { returnPath } from '../auth/redirect';
import type { LoginResult, OrgChoice } from '../auth/session';
import { Logo } from '../components/Logo';
import { useDocumentTitle } from '../lib/useDocumentTitle';

type Step = { kind: 'credentials' } | { kind: 'totp' } | { kind: 'org'; orgs: OrgChoice[] };

interface LoginProblem {
  title: string;
  text: string;
  locked: boolean;
}

function errorText(
  result: Exclude<LoginResult, { kind: 'signed_in' | 'totp_required' | 'choose_org' }>,
): LoginProblem {
  if (result.kind === 'locked') {
    const minutes = `${result.minutes} ${result.minutes === 1 ? 'minute' : 'minutes'}`;
    return {
      title: 'Account locked',
      text: `Too many failed sign-ins. Try again in ${minutes}.`,
      locked: true,
    };
  }
  const { error } = result;
  if (error.status === 0) {
    return { title: 'Server unreachable', text: 'Check your connection and try again.', locked: false };
  }
  if (error.status >= 500) {
    return { title: 'Sign-in failed', text: 'The server had a problem. Try again.', locked: false };
  }
  // Deliberately vague, like the server: never say whether the email exists.
  return { title: 'Sign-in failed', text: 'The email, password or code is not correct.', locked: false };
}

export function LoginPage() {
  useDocumentTitle('Sign in');
  const session = useSession();
  const signedIn = useSignedIn();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [org, setOrg] = useState<string | null>(null);
  const [step, setStep] = useState<Step>({ kind: 'credentials' });
  const [problem, setProblem] = useState<LoginProblem | null>(null);
  const [busy, setBusy] = useState(false);

  if (signedIn) return <Navigate to={returnPath(location.state)} replace />;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const result = await session.login({
        email: email.trim(),
        password,
        org,
        totp_code: step.kind === 'totp' ? totp.trim() : null,
      });
      switch (result.kind) {
        case 'signed_in':
          return; // the session change re-renders this page into a redirect
        case 'totp_required':
          setStep({ kind: 'totp' });
          return;
        case 'choose_org':
          setOrg(result.orgs[0]?.id ?? null);
          setStep({ kind: 'org', orgs: result.orgs });
          return;
        default:
          setProblem(errorText(result));
          if (step.kind === 'totp') setTotp('');
      }
    } finally {
      setBusy(false);
    }
  };

  const restart = () => {
    setStep({ kind: 'credentials' });
    setTotp('');
    setOrg(null);
    setProblem(null);
  };

  return (
    <Center mih="100vh" p="md" style={{ background: 'var(--meridian-page-bg)' }}>
      <Stack w="100%" maw={400} gap="lg">
        <Center>
          <Logo />
        </Center>
        <Card p="xl" shadow="sm">
          <form onSubmit={(e) => void submit(e)} noValidate aria-label="Sign in">
            <Stack gap="md">
              <Stack gap={4}>
                <Title order={1} fz={22}>
                  {step.kind === 'totp'
                    ? 'Two-step verification'
                    : step.kind === 'org'
                      ? 'Choose an organisation'
                      : 'Sign in to Meridian'}
                </Title>
                <Text size="sm" c="dimmed">
                  {step.kind === 'totp'
                    ? 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.'
                    : step.kind === 'org'
                      ? 'Your account belongs to several organisations.'
                      : 'Use your work email and password.'}
                </Text>
              </Stack>

              {problem ? (
                <Alert
                  color="red"
                  variant="light"
                  title={problem.title}
                  icon={problem.locked ? <IconLock size={18} /> : <IconAlertTriangle size={18} />}
                  role="alert"
                  data-testid="login-error"
                >
                  {problem.text}
                </Alert>
              ) : null}

              {step.kind === 'credentials' ? (
                <>
                  <TextInput
                    label="Email"
                    type="email"
                    autoComplete="username"
                    required
                    autoFocus
                    value={email}
                    onChange={(e) => {
                      setEmail(e.currentTarget.value);
                    }}
                  />
                  <PasswordInput
                    label="Password"
                    autoComplete="current-password"
                    required
                    value={password}
                    onChange={(e) => {
                      setPassword(e.currentTarget.value);
                    }}
                  />
                </>
              ) : null}

              {step.kind === 'totp' ? (
                <TextInput
                  label="Authentication code"
                  leftSection={<IconShieldLock size={16} />}
                  autoComplete="one-time-code"
                  inputMode="text"
                  autoFocus
                  required
                  value={totp}
                  onChange={(e) => {
                    setTotp(e.currentTarget.value);
                  }}
                />
              ) : null}

              {step.kind === 'org' ? (
                <Radio.Group label="Organisation" value={org} onChange={setOrg} required>
                  <Stack gap="xs" mt="xs">
                    {step.orgs.map((o) => (
                      <Radio key={o.id} value={o.id} label={o.name} />
                    ))}
                  </Stack>
                </Radio.Group>
              ) : null}

              <Button
                type="submit"
                loading={busy}
                disabled={
                  step.kind === 'credentials'
                    ? !email.trim() || !password
                    : step.kind === 'totp'
                      ? !totp.trim()
                      : !org
                }
                fullWidth
              >
                {step.kind === 'credentials' ? 'Sign in' : 'Continue'}
              </Button>
              {step.kind !== 'credentials' ? (
                <Group justify="center">
                  <Anchor component="button" type="button" size="sm" onClick={restart}>
                    Start over
                  </Anchor>
                </Group>
              ) : null}
            </Stack>
          </form>
        </Card>
        <Box ta="center">
          <Anchor component={Link} to="/status" size="sm" c="dimmed">
            System status
          </Anchor>
        </Box>
      </Stack>
    </Center>
  );
}
