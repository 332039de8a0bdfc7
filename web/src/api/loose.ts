import type { ApiClient } from './client';

/**
 * The API client without path types, for the few calls the OpenAPI document cannot type:
 * a spreadsheet sent as the raw body with `map[field]=` query parameters (the import), and
 * a file read as a blob from a path chosen at run time (the exports). The request still
 * goes through the same client (Bearer token, renewal on 401) and `unwrap` still turns a
 * non-2xx answer into an ApiError; only the compile-time check of path and body is missing.
 */
export interface LooseInit {
  signal?: AbortSignal;
  body?: unknown;
  headers?: Record<string, string>;
  querySerializer?: () => string;
  bodySerializer?: (body: unknown) => BodyInit;
  parseAs?: 'json' | 'blob' | 'text';
}

type LooseResult = Promise<{ data?: unknown; error?: unknown; response: Response }>;

export interface LooseClient {
  GET(path: string, init?: LooseInit): LooseResult;
  POST(path: string, init?: LooseInit): LooseResult;
  PATCH(path: string, init?: LooseInit): LooseResult;
  DELETE(path: string, init?: LooseInit): LooseResult;
}

export function loose(api: ApiClient): LooseClient {
  return api as unknown as LooseClient;
}
