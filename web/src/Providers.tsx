import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { type QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect } from 'react';
import type { ApiClient } from './api/client';
import { ApiContext } from './api/context';
import { SessionContext } from './auth/context';
import type { Session } from './auth/session';
import { cssVariablesResolver, theme } from './theme';

/**
 * Drops every cached server answer except the public system ones when someone signs in or
 * out (also in another tab), so one user never sees what was loaded for another.
 */
function ForgetDataOnSessionChange({ session }: { session: Session }) {
  const queryClient = useQueryClient();
  useEffect(() => {
    let signedIn = session.signedIn;
    return session.subscribe(() => {
      if (session.signedIn === signedIn) return;
      signedIn = session.signedIn;
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'system' });
    });
  }, [session, queryClient]);
  return null;
}

/** Everything but the router: theme, notifications, data cache, session, API client. Tests wrap pages in this. */
export function Providers({
  api,
  session,
  queryClient,
  children,
}: {
  api: ApiClient;
  session: Session;
  queryClient: QueryClient;
  children: ReactNode;
}) {
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <SessionContext.Provider value={session}>
          <ForgetDataOnSessionChange session={session} />
          <ApiContext.Provider value={api}>{children}</ApiContext.Provider>
        </SessionContext.Provider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
