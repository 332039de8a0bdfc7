import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type ApiError, unwrap } from './client';
import { useApi } from './context';
import type { components } from './schema';

export type User = components['schemas']['User'];
export type Role = components['schemas']['Role'];
export type ApiKey = components['schemas']['ApiKey'];
export type CreatedApiKey = components['schemas']['CreatedApiKey'];
export type AuditRow = components['schemas']['AuditRow'];
export type Org = components['schemas']['Org'];
export type PageMeta = components['schemas']['PageMeta'];

type QueryValue = string | number | boolean | null | undefined;

/**
 * Query parameters for the list endpoints. Their OpenAPI entries describe the parameters
 * only in prose (no `parameters`), so openapi-fetch cannot type them: we serialise them
 * ourselves. Empty values are left out.
 */
export function withQuery(params: Record<string, QueryValue>) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  return { querySerializer: () => search.toString() };
}

export const identityKeys = {
  users: ['identity', 'users'] as const,
  roles: ['identity', 'roles'] as const,
  apiKeys: ['identity', 'api-keys'] as const,
  org: ['identity', 'org'] as const,
  audit: (filters: AuditFilters) => ['identity', 'audit', filters] as const,
};

export const PAGE_SIZE = 50;

/** Users of the organisation, a page at a time ("Load more"). */
export function useUsers() {
  const api = useApi();
  return useInfiniteQuery<{ data: User[]; meta: PageMeta }, ApiError>({
    queryKey: identityKeys.users,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/users', {
          signal,
          ...withQuery({ limit: PAGE_SIZE, cursor: pageParam as string | null }),
        }),
      ),
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}

export function useRoles(enabled = true) {
  const api = useApi();
  return useQuery<Role[], ApiError>({
    queryKey: identityKeys.roles,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/roles', { signal }))).data,
    enabled,
  });
}

export function useApiKeys() {
  const api = useApi();
  return useQuery<ApiKey[], ApiError>({
    queryKey: identityKeys.apiKeys,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/api-keys', { signal }))).data,
  });
}

export function useOrg(enabled = true) {
  const api = useApi();
  return useQuery<Org, ApiError>({
    queryKey: identityKeys.org,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/orgs/current', { signal }))).data,
    enabled,
  });
}

export interface AuditFilters {
  action: string;
  actor: string;
  entityType: string;
  /** RFC 3339 timestamp, or '' for no lower bound. */
  from: string;
}

/** The audit trail, newest first, a page at a time. */
export function useAudit(filters: AuditFilters) {
  const api = useApi();
  return useInfiniteQuery<{ data: AuditRow[]; meta: PageMeta }, ApiError>({
    queryKey: identityKeys.audit(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/audit', {
          signal,
          ...withQuery({
            limit: PAGE_SIZE,
            cursor: pageParam as string | null,
            action: filters.action.trim(),
            actor: filters.actor.trim(),
            entity_type: filters.entityType.trim(),
            'occurred_at[gte]': filters.from,
          }),
        }),
      ),
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}
