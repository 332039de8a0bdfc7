import { Alert, Button, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError } from '../api/client';
import { NoAccess } from './NoAccess';

/** A failed load: "You don't have access" for a 403, otherwise the problem and a retry button. */
export function ErrorAlert({
  error,
  what,
  onRetry,
}: {
  error: unknown;
  what?: string;
  onRetry?: () => void;
}) {
  if (error instanceof ApiError && error.status === 403) return <NoAccess {...(what ? { what } : {})} />;
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  const detail = error instanceof ApiError ? error.detail : String(error);
  return (
    <Alert
      color="red"
      variant="light"
      title={title}
      icon={<IconAlertTriangle size={18} />}
      data-testid="problem"
    >
      <Stack gap="xs" align="flex-start">
        {detail ? <Text size="sm">{detail}</Text> : null}
        {error instanceof ApiError && error.requestId ? (
          <Text size="xs" c="dimmed">
            request {error.requestId}
          </Text>
        ) : null}
        {onRetry ? (
          <Button size="xs" variant="light" color="red" onClick={onRetry}>
            Try again
          </Button>
        ) : null}
      </Stack>
    </Alert>
  );
}
