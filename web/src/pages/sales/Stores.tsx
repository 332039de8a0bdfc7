import { Anchor, Button, Checkbox, Group, Select, Skeleton, Stack, Table, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { type User, withQuery } from '../../api/identity';
import { formatMoney, MAX_STORE_SEARCH, type StoreFilters, useStoreNames, useStores } from '../../api/sales';
import { useCan, useMe } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { EmptyState } from './shared';

/** The users a store can be assigned to (only for those who may list users). */
function useReps(enabled: boolean) {
  const api = useApi();
  return useQuery<User[], ApiError>({
    queryKey: ['sales', 'reps'],
    enabled,
    staleTime: 5 * 60_000,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/users', { signal, ...withQuery({ limit: 200 }) }))).data,
  });
}

/** Stores: searched (name, region, province, city, area) and filtered by region, channel and rep on the server. */
export function StoresPage() {
  const can = useCan();
  const me = useMe();
  const [region, setRegion] = useState('');
  const [channel, setChannel] = useState('');
  const [rep, setRep] = useState<string | null>(null);
  const [mine, setMine] = useState(false);
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search, 300);
  const [debouncedRegion] = useDebouncedValue(region, 300);
  const [debouncedChannel] = useDebouncedValue(channel, 300);
  const myId = me.data?.user?.id ?? '';
  const filters: StoreFilters = {
    q: debouncedSearch,
    region: debouncedRegion,
    channel: debouncedChannel,
    assigned_rep: mine ? myId : (rep ?? ''),
  };
  const stores = useStores(filters);
  const canSeeUsers = can('users:read');
  const users = useReps(canSeeUsers);
  const rows = stores.data?.pages.flatMap((p) => p.data) ?? [];
  const names = useStoreNames(rows.map((s) => s.id));
  const userOptions = canSeeUsers
    ? (users.data ?? []).map((u) => ({ value: u.id, label: u.name || u.email }))
    : [];
  const repName = new Map(userOptions.map((o) => [o.value, o.label]));

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <Group align="flex-end" gap="sm">
          <TextInput
            label="Search stores"
            placeholder="Name, region, city, area"
            maxLength={MAX_STORE_SEARCH}
            leftSection={<IconSearch size={14} />}
            value={search}
            onChange={(e) => {
              setSearch(e.currentTarget.value);
            }}
            w={220}
          />
          <TextInput
            label="Region"
            value={region}
            onChange={(e) => {
              setRegion(e.currentTarget.value);
            }}
            w={160}
          />
          <TextInput
            label="Channel"
            value={channel}
            onChange={(e) => {
              setChannel(e.currentTarget.value);
            }}
            w={160}
          />
          {canSeeUsers ? (
            <Select
              label="Rep"
              placeholder="Any rep"
              data={userOptions}
              value={rep}
              onChange={setRep}
              clearable
              searchable
              disabled={mine}
              w={200}
              comboboxProps={{ withinPortal: true }}
            />
          ) : null}
          <Checkbox
            label="My stores"
            checked={mine}
            onChange={(e) => {
              setMine(e.currentTarget.checked);
            }}
            mb={8}
          />
        </Group>
        {can('orders:create') ? (
          <Button component={Link} to="/sales/orders/new" leftSection={<IconPlus size={16} />}>
            New order
          </Button>
        ) : null}
      </Group>
      {stores.error ? (
        <ErrorAlert error={stores.error} what="the stores" onRetry={() => void stores.refetch()} />
      ) : null}
      {stores.isPending ? (
        <Skeleton h={200} />
      ) : rows.length === 0 ? (
        <EmptyState title="No stores here">
          {filters.q.trim() || filters.region || filters.channel || filters.assigned_rep
            ? 'No store matches these filters: clear one of them.'
            : 'A store is a CRM company with a region, a credit limit and a rep: make a company a store through the API (POST /api/v1/stores), or import sales data.'}
        </EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table striped highlightOnHover aria-label="stores" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Store</Table.Th>
                <Table.Th>Region</Table.Th>
                <Table.Th>Province</Table.Th>
                <Table.Th>City</Table.Th>
                <Table.Th>Channel</Table.Th>
                <Table.Th>Rep</Table.Th>
                <Table.Th ta="right">Credit limit</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/sales/stores/${s.id}`} size="sm" fw={500}>
                      {names.get(s.id) ?? 'Store'}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{s.region ?? '–'}</Table.Td>
                  <Table.Td>{s.province ?? '–'}</Table.Td>
                  <Table.Td>{s.city ?? '–'}</Table.Td>
                  <Table.Td>{s.channel ?? '–'}</Table.Td>
                  <Table.Td>
                    {s.assigned_rep
                      ? (repName.get(s.assigned_rep) ?? (s.assigned_rep === myId ? 'You' : '…'))
                      : '–'}
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {s.credit_limit ? formatMoney(s.credit_limit.amount, s.credit_limit.currency) : 'none'}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {stores.hasNextPage ? (
        <Group>
          <Button
            variant="default"
            onClick={() => void stores.fetchNextPage()}
            loading={stores.isFetchingNextPage}
          >
            Load more
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
