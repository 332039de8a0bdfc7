import { render, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { vi } from 'vitest';
import { createApiClient } from '../api/client';
import type { Me } from '../auth/me';
import { REFRESH_TOKEN_KEY, Session } from '../auth/session';
import { Providers } from '../Providers';
import { createQueryClient } from '../queryClient';
import { routes } from '../routes';

export const ORIGIN = 'http://meridian.test';

type Handler = (request: Request) => Response | Promise<Response>;
export type Routes = Record<string, Handler>;

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

/** A Meridian problem with its `code`, `type` and `title` filled in. */
export function meridianProblem(
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  return problem(
    { type: `urn:meridian:problem:${code}`, code, title: code.replaceAll('_', ' '), status, ...extra },
    headers,
  );
}

/**
 * Replaces the global fetch with a fake Meridian server: `routes` maps "METHOD /path" to a
 * handler; anything else is a 404 problem. Returns the mock for call assertions.
 */
export function mockServer(routes: Routes) {
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

/** The requests a fetch mock saw, as "METHOD /path?query". */
export function calls(fetchMock: ReturnType<typeof mockServer>): Request[] {
  return fetchMock.mock.calls.map(([input]) => input as Request);
}

export const ORG = { id: '00000000-0000-7000-8000-000000000001', name: 'Acme Test' };

export function meAs(role: string, permissions: string[], name = `${role} Person`): Me {
  return {
    user: {
      id: `00000000-0000-7000-8000-0000000000${role.length.toString().padStart(2, '0')}`,
      email: `${role.toLowerCase()}@acme.test`,
      name,
      totp_enabled: false,
    },
    org: ORG,
    role,
    permissions,
    scope: { site_ids: [], division_ids: [] },
    principal: 'user',
  };
}

export const ADMIN = meAs('Admin', ['*'], 'Ada Admin');
export const VIEWER = meAs('Viewer', ['org:read', 'users:read', 'roles:read'], 'Vera Viewer');

let issued = 0;
export function tokenPair(expiresIn = 900) {
  issued += 1;
  return {
    access_token: `access-${issued}`,
    refresh_token: `refresh-${issued}`,
    token_type: 'Bearer',
    expires_in: expiresIn,
  };
}

/**
 * A signed-in browser: a stored refresh token, and the server routes that trade it for an
 * access token and answer `me`. Spread the result into mockServer's routes.
 */
export function signedIn(me: Me): Routes {
  localStorage.setItem(REFRESH_TOKEN_KEY, 'refresh-stored');
  return {
    'POST /api/v1/auth/refresh': () => json(tokenPair()),
    'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
    'GET /api/v1/auth/me': () => json({ data: me }),
  };
}

/** Renders the whole app (shell + routes) at `path`, against the global fetch. */
export function renderApp(path = '/') {
  const session = new Session({ baseUrl: ORIGIN });
  const api = createApiClient({ baseUrl: ORIGIN, tokens: session });
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <Providers api={api} session={session} queryClient={queryClient}>
      <RouterProvider router={router} />
    </Providers>,
  );
  return { ...view, router, queryClient, session };
}

/**
 * Picks an option of a Mantine Select/MultiSelect: every select keeps its own listbox in the
 * DOM, so the option is looked up in the one the input controls.
 */
export async function pickOption(
  user: { click: (element: Element) => Promise<void> },
  input: HTMLElement,
  option: string,
) {
  await user.click(input);
  const listbox = await waitFor(() => {
    const id = input.getAttribute('aria-controls');
    const el = id ? document.getElementById(id) : null;
    if (!el) throw new Error(`no listbox for ${input.getAttribute('aria-label') ?? input.id}`);
    return el;
  });
  await user.click(await within(listbox).findByRole('option', { name: option, hidden: true }));
}
