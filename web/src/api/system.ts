import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import {
  type ApiClient,
  ApiError,
  type Health,
  type Problem,
  type Readiness,
  toApiError,
  unwrap,
} from './client';
import { useApi } from './context';

/** How often the status page polls the server. */
export const STATUS_POLL_MS = 5_000;
/** How many readiness polls the latency chart keeps. */
export const LATENCY_HISTORY = 30;

export const healthKey = ['system', 'health'] as const;
export const readinessKey = ['system', 'readiness'] as const;

export function useHealth() {
  const api = useApi();
  return useQuery<Health, ApiError>({
    queryKey: healthKey,
    queryFn: ({ signal }) => unwrap(api.GET('/health', { signal })),
    refetchInterval: STATUS_POLL_MS,
    retry: false,
  });
}

export type ReadinessState = 'ready' | 'not_ready' | 'unreachable';

/** One poll of GET /ready. */
export interface ReadinessSample {
  /** When the poll started (ms since epoch). */
  at: number;
  /** Round trip including reading the body, in ms. */
  latencyMs: number;
  state: ReadinessState;
  readiness?: Readiness;
  /** The 503 problem, or a made-up one when the server could not be reached. */
  problem?: Problem;
}

export interface ReadinessData {
  latest: ReadinessSample;
  /** The last LATENCY_HISTORY samples, oldest first. */
  history: ReadinessSample[];
}

/** Polls GET /ready once. Never throws: "not ready" and "unreachable" are states, not failures. */
export async function probeReadiness(api: ApiClient, signal?: AbortSignal): Promise<ReadinessSample> {
  const at = Date.now();
  const started = performance.now();
  try {
    const { data, error, response } = await api.GET('/ready', signal ? { signal } : {});
    const latencyMs = performance.now() - started;
    if (response.ok && data) {
      return { at, latencyMs, state: 'ready', readiness: data };
    }
    return { at, latencyMs, state: 'not_ready', problem: toApiError(error, response).problem };
  } catch (e) {
    if (signal?.aborted) throw e;
    const latencyMs = performance.now() - started;
    const problem =
      e instanceof ApiError
        ? e.problem
        : {
            type: 'about:blank',
            code: 'network_error',
            title: 'Unexpected error',
            status: 0,
            detail: String(e),
          };
    return { at, latencyMs, state: problem.status === 0 ? 'unreachable' : 'not_ready', problem };
  }
}

export async function pollReadiness(api: ApiClient, queryClient: QueryClient, signal: AbortSignal) {
  const latest = await probeReadiness(api, signal);
  const previous = queryClient.getQueryData<ReadinessData>(readinessKey)?.history ?? [];
  return { latest, history: [...previous, latest].slice(-LATENCY_HISTORY) } satisfies ReadinessData;
}

export function useReadiness() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useQuery<ReadinessData>({
    queryKey: readinessKey,
    queryFn: ({ signal }) => pollReadiness(api, queryClient, signal),
    refetchInterval: STATUS_POLL_MS,
    refetchIntervalInBackground: false,
    retry: false,
  });
}
