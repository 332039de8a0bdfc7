import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** RFC 9457 problem details, as the server documents them in its OpenAPI document. */
export type Problem = components['schemas']['Problem'];
export type FieldError = NonNullable<Problem['errors']>[number];

type JsonBody<P extends keyof paths, S extends number> = paths[P]['get'] extends {
  responses: Record<S, { content: { 'application/json': infer T } }>;
}
  ? T
  : never;

export type Health = JsonBody<'/health', 200>;
export type Readiness = JsonBody<'/ready', 200>;

/**
 * Every failed API call surfaces as an ApiError: the server's problem details when it sent
 * them, otherwise a problem made up from what we do know (status line, network failure).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly problem: Problem;
  /** Seconds from the `Retry-After` header (429, 503), when the server sent one. */
  readonly retryAfter: number | undefined;

  constructor(problem: Problem, options?: { cause?: unknown; retryAfter?: number | undefined }) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title, options);
    this.problem = problem;
    this.retryAfter = options?.retryAfter;
  }

  /** HTTP status; 0 when the server could not be reached at all. */
  get status(): number {
    return this.problem.status;
  }
  get title(): string {
    return this.problem.title;
  }
  get detail(): string | undefined {
    return this.problem.detail ?? undefined;
  }
  get type(): string {
    return this.problem.type;
  }
  /**
   * Stable machine-readable code (`not_found`, `validation_failed`, ...): switch on this,
   * never on `title`. Made up on our side: `network_error`, `unexpected_response`.
   */
  get code(): string {
    return this.problem.code;
  }
  get requestId(): string | undefined {
    return this.problem.request_id ?? undefined;
  }
  /** Validation errors per field, empty when there are none. */
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
  /** The message for one field, for forms. */
  fieldError(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field)?.message;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFieldError(value: unknown): value is FieldError {
  return isRecord(value) && typeof value.field === 'string' && typeof value.message === 'string';
}

/**
 * Problem details as they may arrive: RFC 9457 lets `type` be left out ("about:blank"), and
 * a problem from something other than Meridian (a proxy) has no `code`.
 */
export type ProblemLike = Omit<Problem, 'type' | 'code'> & { type?: string; code?: string };

/** True when `value` has the shape of RFC 9457 problem details (`title` and numeric `status`). */
export function isProblem(value: unknown): value is ProblemLike {
  return (
    isRecord(value) &&
    typeof value.title === 'string' &&
    typeof value.status === 'number' &&
    (value.type === undefined || typeof value.type === 'string') &&
    (value.code === undefined || typeof value.code === 'string') &&
    (value.detail === undefined || value.detail === null || typeof value.detail === 'string') &&
    (value.errors === undefined || (Array.isArray(value.errors) && value.errors.every(isFieldError)))
  );
}

/** `Retry-After` in seconds; only the delta-seconds form (the one Meridian sends). */
function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get('retry-after')?.trim();
  if (!value || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Turns the error body of a non-2xx response into an ApiError, whatever the body was. */
export function toApiError(body: unknown, response: Response): ApiError {
  const retryAfter = retryAfterSeconds(response);
  if (isProblem(body)) {
    return new ApiError(
      {
        ...body,
        type: body.type ?? 'about:blank',
        code: body.code ?? 'unexpected_response',
      },
      { retryAfter },
    );
  }
  const text = typeof body === 'string' ? body.trim() : '';
  const problem: Problem = {
    type: 'about:blank',
    code: 'unexpected_response',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
  };
  if (text) problem.detail = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  const requestId = response.headers.get('x-request-id');
  if (requestId) problem.request_id = requestId;
  return new ApiError(problem, { retryAfter });
}

/** The error for a request that never got an HTTP response (server down, DNS, CORS, abort). */
export function networkError(cause: unknown): ApiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(
    { type: 'about:blank', code: 'network_error', title: 'Server unreachable', status: 0, detail: reason },
    { cause },
  );
}

/** What the API client needs from the session: a token to send, and a way to renew it. */
export interface TokenSource {
  /** The access token to send (renewed first when it is about to expire), or null when signed out. */
  accessToken(): Promise<string | null>;
  /**
   * Called after a 401 to a request that carried `rejected`: resolves to a fresh token, or
   * null when the session is over (the caller then gives the 401 to its caller).
   */
  renewAfter401(rejected: string): Promise<string | null>;
}

export interface ApiClientOptions {
  /** Origin of the Meridian server; the page's own origin by default. */
  baseUrl?: string;
  /** Custom fetch; by default the global fetch, looked up on every call so tests can stub it. */
  fetch?: (request: Request) => Promise<Response>;
  /** Signs requests with `Authorization: Bearer`; without it requests go out anonymous. */
  tokens?: TokenSource;
}

/** The page's origin, or a placeholder outside a browser. */
export function defaultBaseUrl(): string {
  return typeof window === 'undefined' ? 'http://localhost' : window.location.origin;
}

/** A fetch that turns "no response at all" into an ApiError with status 0. */
export function guardedFetch(fetchImpl?: (request: Request) => Promise<Response>) {
  const impl = fetchImpl ?? ((request: Request) => globalThis.fetch(request));
  return async (request: Request): Promise<Response> => {
    try {
      return await impl(request);
    } catch (cause) {
      throw networkError(cause);
    }
  };
}

function withToken(request: Request, token: string | null): Request {
  if (!token) return request;
  const signed = new Request(request);
  signed.headers.set('authorization', `Bearer ${token}`);
  return signed;
}

export function createApiClient(options: ApiClientOptions = {}) {
  const send = guardedFetch(options.fetch);
  const tokens = options.tokens;
  return createClient<paths>({
    baseUrl: options.baseUrl ?? defaultBaseUrl(),
    fetch: async (request) => {
      if (!tokens) return send(request);
      // Keep an unsent copy: a request body can be read once, and we may send it twice.
      const spare = request.clone();
      const token = await tokens.accessToken();
      const response = await send(withToken(request, token));
      if (response.status !== 401 || !token) return response;
      // Expired or revoked access token: renew once (every concurrent 401 waits for the
      // same renewal), then repeat the request; if renewal fails the session is over.
      const renewed = await tokens.renewAfter401(token);
      if (!renewed) return response;
      return send(withToken(spare, renewed));
    },
  });
}

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * Returns `data` of an openapi-fetch result, or throws the response's problem as an ApiError.
 * Usage: `const health = await unwrap(api.GET('/health'))`.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) {
    throw toApiError(error, response);
  }
  return data as T;
}
