import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';

/** A refusal (401, 403, 404, 412, 422, ...) will not change on a retry; a flaky network may. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failureCount < 3;
}

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 10_000, refetchOnWindowFocus: true, retry: shouldRetry },
    },
  });
}
