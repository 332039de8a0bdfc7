import { useQuery } from '@tanstack/react-query';
import { useCallback } from 'react';
import type { ApiError } from '../api/client';
import { unwrap } from '../api/client';
import { useApi } from '../api/context';
import type { components } from '../api/schema';
import { useSignedIn } from './context';
import { allows } from './permissions';

export type Me = components['schemas']['Me'];

export const meKey = ['auth', 'me'] as const;

/** The signed-in user, organisation, role and permissions (`GET /api/v1/auth/me`). */
export function useMe() {
  const api = useApi();
  const signedIn = useSignedIn();
  return useQuery<Me, ApiError>({
    queryKey: meKey,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/auth/me', { signal }))).data,
    enabled: signedIn,
    staleTime: 60_000,
  });
}

/**
 * `can('users:manage')`: whether the signed-in user holds a permission. False while `me`
 * loads or when signed out, so guarded things appear rather than disappear.
 */
export function useCan(): (permission: string) => boolean {
  const { data } = useMe();
  const permissions = data?.permissions;
  return useCallback((permission: string) => allows(permissions ?? [], permission), [permissions]);
}
