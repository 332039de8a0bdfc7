import { Alert, Badge, Button, Card, Group, Stack, TagsInput, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconLink } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import type { components } from '../../api/schema';
import { salesKeys } from '../../api/sales';

/** An outlet as the imported spreadsheets name it. */
export type Outlet = components['schemas']['Outlet'];

const outletKeys = {
  ofStore: (storeId: string) => ['sales', 'store-outlets', storeId] as const,
  search: (q: string) => ['sales', 'outlets', 'unlinked', q] as const,
};

/** The outlet codes linked to a store. */
function useStoreOutlets(storeId: string) {
  const api = useApi();
  return useQuery<Outlet[], ApiError>({
    queryKey: outletKeys.ofStore(storeId),
    enabled: Boolean(storeId),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/stores/{id}/outlets', { signal, params: { path: { id: storeId } } })))
        .data,
  });
}

/** Unlinked outlets whose code or name contains `q`: the suggestions when adding a code. */
function useUnlinkedOutlets(q: string, enabled: boolean) {
  const api = useApi();
  return useQuery<Outlet[], ApiError>({
    queryKey: outletKeys.search(q),
    enabled,
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/sales/outlets', {
            signal,
            params: { query: { q: q || undefined, linked: false, limit: 20 } },
          }),
        )
      ).data,
  });
}

/**
 * The outlets whose imported sales count as this store's purchases (next order, upsell,
 * call list). Editable by whoever may change the store.
 */
export function StoreOutlets({ storeId, canEdit }: { storeId: string; canEdit: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const linked = useStoreOutlets(storeId);
  const [editing, setEditing] = useState(false);
  const [codes, setCodes] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const suggestions = useUnlinkedOutlets(search.trim(), editing);
  const save = useMutation<Outlet[], ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.PUT('/api/v1/stores/{id}/outlets', {
            params: { path: { id: storeId } },
            body: { outlet_codes: codes },
          }),
        )
      ).data,
    onSuccess: async (outlets) => {
      notifications.show({
        color: 'teal',
        message: `${outlets.length} outlet${outlets.length === 1 ? '' : 's'} linked.`,
      });
      setEditing(false);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: outletKeys.ofStore(storeId) }),
        queryClient.invalidateQueries({ queryKey: salesKeys.nextOrder(storeId) }),
        queryClient.invalidateQueries({ queryKey: salesKeys.upsell(storeId) }),
      ]);
    },
  });
  const current = linked.data ?? [];
  const fieldErrors = (save.error?.fieldErrors ?? []).map((e) => {
    const index = /^outlet_codes\[(\d+)\]$/.exec(e.field)?.[1];
    return index === undefined ? e.message : `${codes[Number(index)] ?? ''}: ${e.message}`;
  });
  return (
    <Card withBorder padding="md" data-testid="store-outlets">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Linked outlets
          </Text>
          {canEdit && !editing ? (
            <Button
              size="xs"
              variant="subtle"
              leftSection={<IconLink size={14} />}
              onClick={() => {
                setCodes(current.map((o) => o.outlet_code));
                save.reset();
                setEditing(true);
              }}
            >
              Edit
            </Button>
          ) : null}
        </Group>
        <Text size="xs" c="dimmed">
          Imported sales of these outlet codes count as this store&apos;s purchases.
        </Text>
        {editing ? (
          <form
            aria-label="Linked outlets"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate();
            }}
          >
            <Stack gap="xs">
              <TagsInput
                label="Outlet codes"
                placeholder="Type a code or name"
                value={codes}
                onChange={setCodes}
                searchValue={search}
                onSearchChange={setSearch}
                data={(suggestions.data ?? []).map((o) => ({
                  value: o.outlet_code,
                  label: `${o.outlet_code} · ${o.outlet_name}`,
                }))}
                comboboxProps={{ withinPortal: true }}
                clearable
              />
              {fieldErrors.length ? (
                <Alert color="red" title="Not linked" data-testid="outlet-errors">
                  <Stack gap={2}>
                    {fieldErrors.map((m) => (
                      <Text key={m} size="sm">
                        {m}
                      </Text>
                    ))}
                  </Stack>
                </Alert>
              ) : save.error ? (
                <Alert color="red">{save.error.message}</Alert>
              ) : null}
              <Group justify="flex-end" gap="xs">
                <Button
                  variant="default"
                  size="xs"
                  onClick={() => {
                    setEditing(false);
                  }}
                >
                  Cancel
                </Button>
                <Button type="submit" size="xs" loading={save.isPending}>
                  Save
                </Button>
              </Group>
            </Stack>
          </form>
        ) : current.length ? (
          <Group gap={6}>
            {current.map((o) => (
              <Badge key={o.outlet_code} variant="light" title={`${o.outlet_name} · ${o.precision_area}`}>
                {o.outlet_code}
              </Badge>
            ))}
          </Group>
        ) : (
          <Text size="sm" c="dimmed">
            None yet.
          </Text>
        )}
      </Stack>
    </Card>
  );
}
