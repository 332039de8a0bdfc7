import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { vi } from 'vitest';
import { createApiClient } from '../api/client';
import { Providers } from '../Providers';
import { createQueryClient } from '../queryClient';
import { routes } from '../routes';

export const ORIGIN = 'http://meridian.test';

type Handler = (request: Request) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function problem(body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  const status = typeof body.status === 'number' ? body.status : 500;
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/**
 * Replaces the global fetch with a fake Meridian server: `routes` maps "METHOD /path" to a
 * handler; anything else is a 404 problem. Returns the mock for call assertions.
 */
export function mockServer(routes: Record<string, Handler>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const handler = routes[`${request.method} ${url.pathname}`];
    if (!handler) {
      return problem({ type: 'about:blank', title: 'Not Found', status: 404, detail: url.pathname });
    }
    return handler(request);
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

/** Renders the whole app (shell + routes) at `path`, against the global fetch. */
export function renderApp(path = '/') {
  const api = createApiClient({ baseUrl: ORIGIN });
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <Providers api={api} queryClient={queryClient}>
      <RouterProvider router={router} />
    </Providers>,
  );
  return { ...view, router, queryClient };
}
