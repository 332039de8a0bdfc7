import { useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { createApiClient } from './api/client';
import { Providers } from './Providers';
import { createQueryClient } from './queryClient';
import { routes } from './routes';

export function App() {
  const [api] = useState(() => createApiClient());
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <Providers api={api} queryClient={queryClient}>
      <RouterProvider router={router} />
    </Providers>
  );
}
