import { useQuery } from '@tanstack/react-query';
import { type ApiClient, type ApiError, unwrap } from './client';
import { useApi } from './context';
import { loose } from './loose';
import type { components } from './schema';
import { CONTENT_TYPES, type SpreadsheetFormat } from '../lib/spreadsheet';

export type ImportReport = components['schemas']['ImportReport'];
export type RowError = components['schemas']['RowError'];
export type ImportDuplicate = components['schemas']['Duplicate'];
export type ImportMapping = components['schemas']['ImportMapping'];

/**
 * A background import (`?background=true` answers 202 with one), polled at
 * `GET /api/v1/imports/{id}` until it is `done` (with the report) or `failed`.
 * `total_rows` counts units of work (reading and checking rows, then writing them).
 */
export type ImportJob = components['schemas']['ImportJob'];

/** The contact fields an import can fill, in the order the mapping step shows them. */
export const CONTACT_IMPORT_FIELDS = [
  { field: 'first_name', label: 'First name', required: true },
  { field: 'last_name', label: 'Last name' },
  { field: 'email', label: 'Email' },
  { field: 'phone', label: 'Phone' },
  { field: 'title', label: 'Job title' },
  { field: 'company', label: 'Company' },
] as const;

/** Files above this size are imported in the background, with a progress bar. */
export const BACKGROUND_IMPORT_BYTES = 1024 * 1024;

/** How often a background import is polled. */
export const IMPORT_POLL_MS = 500;

export const importKeys = {
  mappings: ['crm', 'import-mappings'] as const,
};

export interface ImportRequest {
  file: Blob;
  format: SpreadsheetFormat;
  /** Validate only. */
  dryRun: boolean;
  /** Import the valid rows, report the others. */
  skipInvalid?: boolean;
  /** Field → file header, sent as `map[field]=Header`. */
  mapping: Record<string, string>;
  /** Run as a background job (202 + polling). */
  background: boolean;
}

/** The query string of an import request. */
export function importQuery(req: Omit<ImportRequest, 'file' | 'format'>): string {
  const search = new URLSearchParams();
  if (req.dryRun) search.set('dry_run', 'true');
  if (req.skipInvalid) search.set('skip_invalid', 'true');
  if (req.background) search.set('background', 'true');
  for (const [field, header] of Object.entries(req.mapping)) {
    if (header) search.set(`map[${field}]`, header);
  }
  return search.toString();
}

function isImportJob(value: unknown): value is ImportJob {
  return typeof value === 'object' && value !== null && 'status' in value && 'processed_rows' in value;
}

/**
 * Sends a file to `POST /api/v1/imports/contacts`. Answers either the report (200) or, in
 * background mode, the job (202), which the caller polls with `pollImport`.
 */
export async function sendImport(
  api: ApiClient,
  req: ImportRequest,
  signal?: AbortSignal,
): Promise<{ report: ImportReport } | { job: ImportJob }> {
  const body = await req.file.arrayBuffer();
  const result = (await unwrap(
    loose(api).POST('/api/v1/imports/contacts', {
      signal,
      body,
      bodySerializer: (b) => b as ArrayBuffer,
      headers: { 'content-type': CONTENT_TYPES[req.format] },
      querySerializer: () => importQuery(req),
    }),
  )) as { data: ImportReport | ImportJob };
  return isImportJob(result.data) ? { job: result.data } : { report: result.data };
}

/** One look at a background import. */
export async function fetchImportJob(api: ApiClient, id: string, signal?: AbortSignal): Promise<ImportJob> {
  const result = (await unwrap(loose(api).GET(`/api/v1/imports/${encodeURIComponent(id)}`, { signal }))) as {
    data: ImportJob;
  };
  return result.data;
}

/**
 * Polls a background import until it ends; `onProgress` sees every state. Resolves with the
 * report, or throws the job's error.
 */
export async function pollImport(
  api: ApiClient,
  job: ImportJob,
  onProgress: (job: ImportJob) => void,
  signal?: AbortSignal,
  intervalMs = IMPORT_POLL_MS,
): Promise<ImportReport> {
  let current = job;
  for (;;) {
    onProgress(current);
    if (current.status === 'done' && current.report) return current.report;
    if (current.status === 'failed') throw new Error(current.error ?? 'the import failed');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (signal?.aborted) throw new Error('cancelled');
    current = await fetchImportJob(api, current.id, signal);
  }
}

/** Saved column mappings of contact imports. */
export function useImportMappings(enabled = true) {
  const api = useApi();
  return useQuery<ImportMapping[], ApiError>({
    queryKey: importKeys.mappings,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/import-mappings', { signal }))).data.filter(
        (m) => m.object === 'contacts',
      ),
    enabled,
  });
}

export type ExportFormat = 'csv' | 'xlsx';

/**
 * Downloads `GET /api/v1/exports/contacts.<format>` with the list's query (filters and sort):
 * fetched with the session's token, then handed to the browser as a file.
 */
export async function downloadContactsExport(
  api: ApiClient,
  format: ExportFormat,
  query: Record<string, string>,
): Promise<void> {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v.trim() !== ''));
  const blob = (await unwrap(
    loose(api).GET(`/api/v1/exports/contacts.${format}`, {
      parseAs: 'blob',
      querySerializer: () => search.toString(),
    }),
  )) as Blob;
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = `contacts.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // give the browser a moment to start the download before the URL goes
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 10_000);
  }
}
