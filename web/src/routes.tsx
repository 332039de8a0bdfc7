import { Center, Loader } from '@mantine/core';
import { lazy, Suspense } from 'react';
import type { RouteObject } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { SECTIONS } from './modules';
import { ComingSoon } from './pages/ComingSoon';
import { Dashboard } from './pages/Dashboard';
import { NotFound } from './pages/NotFound';

// ECharts is only needed on the status page: keep it out of the first load.
const StatusPage = lazy(async () => ({ default: (await import('./pages/Status')).StatusPage }));

function PageLoader() {
  return (
    <Center h={240}>
      <Loader size="sm" />
    </Center>
  );
}

export const routes: RouteObject[] = [
  {
    element: <AppLayout />,
    children: [
      { index: true, element: <Dashboard /> },
      {
        path: 'status',
        element: (
          <Suspense fallback={<PageLoader />}>
            <StatusPage />
          </Suspense>
        ),
      },
      ...SECTIONS.map((m) => ({ path: `${m.path.slice(1)}/*`, element: <ComingSoon module={m} /> })),
      { path: '*', element: <NotFound /> },
    ],
  },
];
