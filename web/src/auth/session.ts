import createClient from 'openapi-fetch';
import { type ApiError, defaultBaseUrl, guardedFetch, type TokenSource, toApiError } from '../api/client';
import type { components, paths } from '../api/schema';

export type TokenPair = components['schemas']['TokenPair'];
export type LoginRequest = components['schemas']['LoginRequest'];
export type OrgChoice = components['schemas']['OrgChoice'];

/** Where the refresh token lives between page loads (see README, "Sessions"). */
export const REFRESH_TOKEN_KEY = 'meridian.refresh_token';
/** Renew the access token this long before it expires, so no request goes out with a stale one. */
export const EXPIRY_SKEW_MS = 30_000;
/** Serialises refreshes across tabs: they share one refresh token, and each can be used once. */
const REFRESH_LOCK = 'meridian.session.refresh';
/** Lockout length when a 429 comes without `Retry-After` (the server's default). */
const DEFAULT_LOCKOUT_SECONDS = 15 * 60;

/** How a sign-in attempt ended; the sign-in page shows one step per kind. */
export type LoginResult =
  | { kind: 'signed_in' }
  | { kind: 'totp_required' }
  | { kind: 'choose_org'; orgs: OrgChoice[] }
  | { kind: 'locked'; minutes: number }
  | { kind: 'failed'; error: ApiError };

export interface SessionOptions {
  /** Origin of the Meridian server; the page's own origin by default. */
  baseUrl?: string;
  /** Custom fetch; by default the global fetch, looked up on every call. */
  fetch?: (request: Request) => Promise<Response>;
  /** Where the refresh token is kept; `localStorage` by default, memory only when null. */
  storage?: Storage | null;
  /** Clock, for tests. */
  now?: () => number;
}

function isOrgChoice(value: unknown): value is OrgChoice {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).id === 'string' &&
    typeof (value as Record<string, unknown>).name === 'string'
  );
}

function defaultStorage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled by the browser: the session then lasts as long as the tab
  }
}

/**
 * The signed-in session: the short-lived access token in memory only, the refresh token in
 * storage so a reload keeps you signed in. Framework-free; React reads it through
 * `useSession()`. Implements the API client's TokenSource.
 */
export class Session implements TokenSource {
  private access: { token: string; expiresAt: number } | null = null;
  private memoryRefreshToken: string | null = null;
  private inflight: Promise<string | null> | null = null;
  private endedByUser = false;
  private readonly listeners = new Set<() => void>();
  private readonly auth;
  private readonly storage: Storage | null;
  private readonly now: () => number;

  constructor(options: SessionOptions = {}) {
    this.auth = createClient<paths>({
      baseUrl: options.baseUrl ?? defaultBaseUrl(),
      fetch: guardedFetch(options.fetch),
    });
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.now = options.now ?? Date.now;
    if (typeof window !== 'undefined') window.addEventListener('storage', this.onStorage);
  }

  /** True while there is a refresh token, i.e. the user has not signed out. */
  get signedIn(): boolean {
    return this.refreshToken() !== null;
  }

  /**
   * True after the user signed out themselves (rather than the session expiring): the
   * sign-in page then starts afresh instead of returning to the page they were on.
   */
  get signedOutByUser(): boolean {
    return this.endedByUser && !this.signedIn;
  }

  /** Calls `listener` whenever `signedIn` may have changed. Returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Stops listening to other tabs (tests create many sessions). */
  dispose() {
    if (typeof window !== 'undefined') window.removeEventListener('storage', this.onStorage);
  }

  /** Signs in; anything but `signed_in` tells the sign-in page what to ask for next. */
  async login(request: LoginRequest): Promise<LoginResult> {
    const { data, error, response } = await this.auth.POST('/api/v1/auth/login', { body: request });
    if (response.ok && data) {
      this.accept(data);
      return { kind: 'signed_in' };
    }
    const e = toApiError(error, response);
    if (e.code === 'totp_required') return { kind: 'totp_required' };
    if (e.code === 'validation_failed' && e.fieldErrors[0]?.field === 'org') {
      const current: unknown = e.problem.current;
      const orgs = Array.isArray(current) ? current.filter(isOrgChoice) : [];
      if (orgs.length > 0) return { kind: 'choose_org', orgs };
    }
    if (e.status === 429) {
      const seconds = e.retryAfter ?? DEFAULT_LOCKOUT_SECONDS;
      return { kind: 'locked', minutes: Math.max(1, Math.ceil(seconds / 60)) };
    }
    return { kind: 'failed', error: e };
  }

  /** The access token to send, renewed first when it expires within EXPIRY_SKEW_MS. */
  async accessToken(): Promise<string | null> {
    if (this.access && this.now() < this.access.expiresAt - EXPIRY_SKEW_MS) return this.access.token;
    if (!this.signedIn) return null;
    return this.refresh();
  }

  async renewAfter401(rejected: string): Promise<string | null> {
    // Another request's renewal already replaced the token that was refused: use the new one.
    if (this.access && this.access.token !== rejected) return this.access.token;
    this.access = null;
    return this.refresh();
  }

  /**
   * Trades the refresh token for a new pair. Single-flight: concurrent callers share one
   * request (the refresh token is single-use; sending it twice would revoke the session).
   * Resolves to the new access token, or null when the server refused (the session is then
   * over and every subscriber hears so). A server that cannot be reached rejects, and the
   * session is kept for the next try.
   */
  refresh(): Promise<string | null> {
    this.inflight ??= this.refreshOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Ends the session on the server (best effort) and here. */
  async signOut(): Promise<void> {
    const token = this.refreshToken();
    this.endedByUser = true;
    this.clear();
    if (!token) return;
    try {
      await this.auth.POST('/api/v1/auth/logout', { body: { refresh_token: token } });
    } catch {
      // Unreachable server: the refresh token is gone from this browser, and expires there.
    }
  }

  private async refreshOnce(): Promise<string | null> {
    return withLock(async () => {
      // Read it inside the lock: another tab may have just rotated it.
      const token = this.refreshToken();
      if (!token) {
        this.clear();
        return null;
      }
      const { data, error, response } = await this.auth.POST('/api/v1/auth/refresh', {
        body: { refresh_token: token },
      });
      if (response.ok && data) {
        this.accept(data);
        return data.access_token;
      }
      const e = toApiError(error, response);
      if (e.status >= 500 || e.status === 429) throw e; // the server's trouble, not the session's
      this.clear();
      return null;
    });
  }

  private accept(pair: TokenPair) {
    this.endedByUser = false;
    this.access = { token: pair.access_token, expiresAt: this.now() + pair.expires_in * 1000 };
    this.writeRefreshToken(pair.refresh_token);
    this.notify();
  }

  private clear() {
    const was = this.signedIn || this.access !== null;
    this.access = null;
    this.writeRefreshToken(null);
    if (was) this.notify();
  }

  private notify() {
    for (const listener of [...this.listeners]) listener();
  }

  private refreshToken(): string | null {
    if (!this.storage) return this.memoryRefreshToken;
    try {
      return this.storage.getItem(REFRESH_TOKEN_KEY);
    } catch {
      return this.memoryRefreshToken;
    }
  }

  private writeRefreshToken(token: string | null) {
    this.memoryRefreshToken = token;
    if (!this.storage) return;
    try {
      if (token === null) this.storage.removeItem(REFRESH_TOKEN_KEY);
      else this.storage.setItem(REFRESH_TOKEN_KEY, token);
    } catch {
      // quota or disabled storage: memory only
    }
  }

  /** Another tab signed out (token removed) or rotated the token: follow it. */
  private readonly onStorage = (event: StorageEvent) => {
    if (event.key !== REFRESH_TOKEN_KEY && event.key !== null) return;
    if (event.newValue === null) this.access = null;
    this.notify();
  };
}

/** Runs `fn` under a cross-tab Web Lock where the browser has them, directly otherwise. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === 'undefined' ? undefined : (navigator.locks as LockManager | undefined);
  if (!locks) return fn();
  return locks.request(REFRESH_LOCK, fn);
}
