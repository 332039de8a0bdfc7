import { Box } from '@mantine/core';
import type { ReactNode } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorAlert } from '../components/ErrorAlert';
import { NoAccess } from '../components/NoAccess';
import { PageLoader } from '../components/PageLoader';
import { useSession, useSignedIn } from './context';
import { useCan, useMe } from './me';

/**
 * Route guard for everything but /login and /status: sends a signed-out visitor to /login,
 * remembering where they were going, and waits for `me` so pages can rely on permissions.
 */
export function RequireAuth() {
  const session = useSession();
  const signedIn = useSignedIn();
  const location = useLocation();
  const me = useMe();
  if (!signedIn) {
    // Come back here after signing in, unless the user signed out on purpose (the next
    // person to sign in at this browser should start at the dashboard).
    if (session.signedOutByUser) return <Navigate to="/login" replace />;
    const from = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to="/login" replace state={{ from }} />;
  }
  if (me.isPending) return <PageLoader />;
  if (me.isError) {
    return (
      <Box p="xl">
        <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
      </Box>
    );
  }
  return <Outlet />;
}

/**
 * Shows `children` only with `permission` (or any one of several); otherwise the "You
 * don't have access" state.
 */
export function RequirePermission({
  permission,
  what,
  children,
}: {
  permission: string | readonly string[];
  what?: string;
  children: ReactNode;
}) {
  const can = useCan();
  const allowed = typeof permission === 'string' ? can(permission) : permission.some(can);
  if (!allowed) return <NoAccess {...(what ? { what } : {})} />;
  return children;
}
