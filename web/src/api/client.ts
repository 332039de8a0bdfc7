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

  constructor(problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title, options);
    this.problem = problem;
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

/** Turns the error body of a non-2xx response into an ApiError, whatever the body was. */
export function toApiError(body: unknown, response: Response): ApiError {
  if (isProblem(body)) {
    return new ApiError({
      ...body,
      type: body.type ?? 'about:blank',
      code: body.code ?? 'unexpected_response',
    });
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
  return new ApiError(problem);
}

/** The error for a request that never got an HTTP response (server down, DNS, CORS, abort). */
export function networkError(cause: unknown): ApiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(
    { type: 'about:blank', code: 'network_error', title: 'Server unreachable', status: 0, detail: reason },
    { cause },
  );
}

export interface ApiClientOptions {
  /** Origin of the Meridian server; the page's own origin by default. */
  baseUrl?: string;
  /** Custom fetch; by default the global fetch, looked up on every call so tests can stub it. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createApiClient(options: ApiClientOptions = {}) {
  const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  return createClient<paths>({
    baseUrl: options.baseUrl ?? window.location.origin,
    fetch: async (request) => {
      try {
        return await fetchImpl(request);
      } catch (cause) {
        throw networkError(cause);
      }
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
