import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient, unwrap } from '../api/client';
import { calls, json, meridianProblem, mockServer, ORIGIN } from '../test/utils';
import { EXPIRY_SKEW_MS, REFRESH_TOKEN_KEY, Session } from './session';

const pair = (n: number, expiresIn = 900) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: 'Bearer',
  expires_in: expiresIn,
});

const sessions: Session[] = [];
function setUp(options: { now?: () => number } = {}) {
  const session = new Session({ baseUrl: ORIGIN, ...options });
  sessions.push(session);
  const api = createApiClient({ baseUrl: ORIGIN, tokens: session });
  return { session, api };
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});

const bearer = (r: Request) => r.headers.get('authorization');
const paths = (fetchMock: ReturnType<typeof mockServer>) =>
  calls(fetchMock).map((r) => `${r.method} ${new URL(r.url).pathname}`);

describe('Session', () => {
  it('signs in, keeps the refresh token in storage, and sends the access token as Bearer', async () => {
    let seen: string | null = null;
    const fetchMock = mockServer({
      'POST /api/v1/auth/login': () => json(pair(1)),
      'GET /api/v1/roles': (r) => {
        seen = bearer(r);
        return json({ data: [] });
      },
    });
    const { session, api } = setUp();
    expect(session.signedIn).toBe(false);
    await expect(session.login({ email: 'a@acme.test', password: 'pw' })).resolves.toEqual({
      kind: 'signed_in',
    });
    expect(session.signedIn).toBe(true);
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-1');
    await unwrap(api.GET('/api/v1/roles'));
    expect(seen).toBe('Bearer access-1');
    // the login itself went out without a token
    expect(bearer(calls(fetchMock)[0]!)).toBeNull();
  });

  it('asks for the TOTP code, then signs in with it', async () => {
    const bodies: unknown[] = [];
    mockServer({
      'POST /api/v1/auth/login': async (r) => {
        const body = (await r.json()) as { totp_code?: string | null };
        bodies.push(body);
        return body.totp_code === '123456'
          ? json(pair(1))
          : meridianProblem(401, 'totp_required', { detail: 'enter the code from your app' });
      },
    });
    const { session } = setUp();
    await expect(session.login({ email: 'a@acme.test', password: 'pw' })).resolves.toEqual({
      kind: 'totp_required',
    });
    expect(session.signedIn).toBe(false);
    await expect(
      session.login({ email: 'a@acme.test', password: 'pw', totp_code: '123456' }),
    ).resolves.toEqual({ kind: 'signed_in' });
    expect(bodies).toEqual([
      { email: 'a@acme.test', password: 'pw' },
      { email: 'a@acme.test', password: 'pw', totp_code: '123456' },
    ]);
  });

  it('offers the organisations when the user belongs to several', async () => {
    const orgs = [
      { id: 'o1', name: 'Acme' },
      { id: 'o2', name: 'Globex' },
    ];
    mockServer({
      'POST /api/v1/auth/login': () =>
        meridianProblem(422, 'validation_failed', {
          errors: [{ field: 'org', message: 'choose an organisation' }],
          current: orgs,
        }),
    });
    const { session } = setUp();
    await expect(session.login({ email: 'a@acme.test', password: 'pw' })).resolves.toEqual({
      kind: 'choose_org',
      orgs,
    });
  });

  it('reports a lockout in minutes from Retry-After', async () => {
    mockServer({
      'POST /api/v1/auth/login': () => meridianProblem(429, 'rate_limited', {}, { 'retry-after': '840' }),
    });
    const { session } = setUp();
    await expect(session.login({ email: 'a@acme.test', password: 'pw' })).resolves.toEqual({
      kind: 'locked',
      minutes: 14,
    });
  });

  it('reports wrong credentials as a plain failure', async () => {
    mockServer({ 'POST /api/v1/auth/login': () => meridianProblem(401, 'unauthorized') });
    const { session } = setUp();
    const result = await session.login({ email: 'a@acme.test', password: 'nope' });
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.error).toBeInstanceOf(ApiError);
  });

  it('refreshes once for concurrent 401s, then repeats every request with the new token', async () => {
    let refreshes = 0;
    const fetchMock = mockServer({
      // the server has since forgotten access-1 (say, it expired early or keys rotated)
      'POST /api/v1/auth/login': () => json(pair(1)),
      'POST /api/v1/auth/refresh': async (r) => {
        refreshes += 1;
        expect(await r.json()).toEqual({ refresh_token: 'refresh-1' });
        await new Promise((res) => setTimeout(res, 20)); // the others arrive meanwhile
        return json(pair(2));
      },
      'GET /api/v1/users': (r) =>
        bearer(r) === 'Bearer access-2'
          ? json({ data: [], meta: { limit: 50 } })
          : meridianProblem(401, 'unauthorized'),
      'GET /api/v1/roles': (r) =>
        bearer(r) === 'Bearer access-2' ? json({ data: [] }) : meridianProblem(401, 'unauthorized'),
    });
    const { session, api } = setUp();
    await session.login({ email: 'a@acme.test', password: 'pw' });

    const results = await Promise.all([
      unwrap(api.GET('/api/v1/users')),
      unwrap(api.GET('/api/v1/roles')),
      unwrap(api.GET('/api/v1/users')),
    ]);
    expect(results).toHaveLength(3);
    expect(refreshes).toBe(1);
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-2');
    const refreshCalls = paths(fetchMock).filter((p) => p === 'POST /api/v1/auth/refresh');
    expect(refreshCalls).toHaveLength(1);
  });

  it('refreshes before the access token expires, without waiting for a 401', async () => {
    let now = 1_000_000;
    mockServer({
      'POST /api/v1/auth/login': () => json(pair(1, 900)),
      'POST /api/v1/auth/refresh': () => json(pair(2, 900)),
      'GET /api/v1/roles': () => json({ data: [] }),
    });
    const { session, api } = setUp({ now: () => now });
    await session.login({ email: 'a@acme.test', password: 'pw' });
    await expect(session.accessToken()).resolves.toBe('access-1');
    now += 900_000 - EXPIRY_SKEW_MS + 1;
    const fetchMock = vi.mocked(globalThis.fetch);
    fetchMock.mockClear();
    await unwrap(api.GET('/api/v1/roles'));
    expect(paths(fetchMock as never)).toEqual(['POST /api/v1/auth/refresh', 'GET /api/v1/roles']);
    expect(bearer(calls(fetchMock as never)[1]!)).toBe('Bearer access-2');
  });

  it('signs out when the refresh is refused, and hands the 401 to the caller', async () => {
    localStorage.setItem(REFRESH_TOKEN_KEY, 'refresh-reused');
    mockServer({
      'POST /api/v1/auth/refresh': () => meridianProblem(401, 'unauthorized', { detail: 'session revoked' }),
      'GET /api/v1/roles': () => meridianProblem(401, 'unauthorized'),
    });
    const { session, api } = setUp();
    const listener = vi.fn();
    session.subscribe(listener);
    expect(session.signedIn).toBe(true);
    const error = (await unwrap(api.GET('/api/v1/roles')).catch((e: unknown) => e)) as ApiError;
    // no access token and a refused refresh: the request went out anonymous
    expect(error.status).toBe(401);
    expect(session.signedIn).toBe(false);
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    expect(listener).toHaveBeenCalled();
  });

  it('keeps the session when the server cannot be reached during a refresh', async () => {
    localStorage.setItem(REFRESH_TOKEN_KEY, 'refresh-1');
    mockServer({
      'POST /api/v1/auth/refresh': () => {
        throw new TypeError('Failed to fetch');
      },
    });
    const { session } = setUp();
    await expect(session.refresh()).rejects.toMatchObject({ status: 0 });
    expect(session.signedIn).toBe(true);
  });

  it('signs out: calls logout with the refresh token and forgets both tokens', async () => {
    const fetchMock = mockServer({
      'POST /api/v1/auth/login': () => json(pair(1)),
      'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
    });
    const { session } = setUp();
    await session.login({ email: 'a@acme.test', password: 'pw' });
    expect(session.signedOutByUser).toBe(false);
    await session.signOut();
    expect(session.signedIn).toBe(false);
    expect(session.signedOutByUser).toBe(true);
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    await expect(session.accessToken()).resolves.toBeNull();
    const logout = calls(fetchMock).find((r) => r.url.endsWith('/logout'))!;
    expect(await logout.json()).toEqual({ refresh_token: 'refresh-1' });
  });

  it('follows a sign-out in another tab', () => {
    localStorage.setItem(REFRESH_TOKEN_KEY, 'refresh-1');
    const { session } = setUp();
    const listener = vi.fn();
    session.subscribe(listener);
    localStorage.removeItem(REFRESH_TOKEN_KEY);
    window.dispatchEvent(new StorageEvent('storage', { key: REFRESH_TOKEN_KEY, newValue: null }));
    expect(listener).toHaveBeenCalled();
    expect(session.signedIn).toBe(false);
  });
});
