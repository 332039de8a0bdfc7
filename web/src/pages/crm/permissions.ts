import type { ApiError } from '../../api/client';
import { useCan } from '../../auth/me';

/**
 * Whether the user may do `resource:action` on at least some records: the full permission
 * or its `:own` form (a Sales Rep's `deals:update:own`). The server decides per record.
 */
export function useCanSome(): (permission: string) => boolean {
  const can = useCan();
  return (permission: string) => can(permission) || can(`${permission}:own`);
}

/** The message for a refused save: a conflict, no permission, or the server's words. */
export function saveProblem(error: ApiError, what: string): string {
  if (error.status === 412)
    return `Someone else changed this ${what} meanwhile: the page now shows their version. Try again.`;
  if (error.status === 403) return `You can only change ${what}s you own.`;
  return error.fieldErrors[0]?.message ?? error.detail ?? error.title;
}
