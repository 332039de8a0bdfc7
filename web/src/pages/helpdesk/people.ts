import { useQuery } from '@tanstack/react-query';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { withQuery, type User } from '../../api/identity';
import { useCan, useMe } from '../../auth/me';

/**
 * The organisation's users (for assignee names and the assignee picker) when the signed-in
 * user may list them; otherwise just the signed-in user.
 */
export function usePeople() {
  const api = useApi();
  const can = useCan();
  const me = useMe();
  const allowed = can('users:read');
  const users = useQuery<User[], ApiError>({
    queryKey: ['helpdesk', 'people'],
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/users', { signal, ...withQuery({ limit: 200 }) }))).data,
    enabled: allowed,
    staleTime: 5 * 60_000,
  });
  const self = me.data?.user ?? null;
  const meId = self?.id ?? null;
  const list: { id: string; name: string }[] = allowed
    ? (users.data ?? []).map((u) => ({ id: u.id, name: u.name || u.email }))
    : self
      ? [{ id: self.id, name: self.name }]
      : [];
  const nameOf = (id: string | null | undefined): string => {
    if (!id) return 'Unassigned';
    const name = list.find((p) => p.id === id)?.name ?? 'Someone';
    return id === meId ? `${name} (me)` : name;
  };
  return { list, meId, nameOf };
}
