import type { ApiClient } from './client';

/**
 * The API client without path types, for endpoints whose contract is agreed but not yet in
 * `openapi.json` (custom fields, background imports, the XLSX export, `contact_ids`). The
 * request still goes through the same client (Bearer token, renewal on 401) and `unwrap`
 * still turns a non-2xx answer into an ApiError; only the compile-time check of the path
 * and body is missing. Once the server documents an endpoint, call it through `api`.
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
