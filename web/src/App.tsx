import { useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { createApiClient } from './api/client';
import { Session } from './auth/session';
import { Providers } from './Providers';
import { createQueryClient } from './queryClient';
import { routes } from './routes';

export function App() {
  const [session] = useState(() => new Session());
  const [api] = useState(() => createApiClient({ tokens: session }));
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <Providers api={api} session={session} queryClient={queryClient}>
      <RouterProvider router={router} />
    </Providers>
  );
}
