import {
  Button,
  Card,
  Checkbox,
  Group,
  Popover,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue, useLocalStorage } from '@mantine/hooks';
import {
  IconArrowDown,
  IconArrowUp,
  IconColumns,
  IconPlus,
  IconSearch,
  IconSelector,
} from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import { type Collection, type RowOf, useCrmList } from '../../api/crm';
import { useCustomFields } from '../../api/customFields';
import { ErrorAlert } from '../../components/ErrorAlert';
import { customFieldColumns } from './customFieldColumns';

/** A column of a list view. */
export interface ColumnSpec<R> {
  key: string;
  label: string;
  render: (row: R) => ReactNode;
  /** The server's `sort` field, when the column can be sorted. */
  sort?: string;
  /** Shown unless the user hides it. */
  defaultVisible?: boolean;
}

function SortIcon({ state }: { state: 'asc' | 'desc' | null }) {
  if (state === 'asc') return <IconArrowUp size={14} />;
  if (state === 'desc') return <IconArrowDown size={14} />;
  return <IconSelector size={14} opacity={0.5} />;
}

/**
 * A CRM list: a "name contains" filter, server-side sorting on sortable columns, a column
 * chooser remembered in localStorage, and "Load more" over the cursor.
 */
export function ListView<C extends Collection>({
  collection,
  noun,
  columns,
  defaultSort = '',
  onCreate,
  createLabel,
  textFilter,
  filters,
  toolbar,
  actions,
}: {
  collection: C;
  noun: string;
  columns: ColumnSpec<RowOf<C>>[];
  defaultSort?: string;
  onCreate?: (() => void) | undefined;
  createLabel?: string;
  /** The query parameter the filter box sets (`name[contains]`), or none for no box. */
  textFilter?: string;
  filters?: Record<string, string>;
  /** More filter controls, next to the filter box. */
  toolbar?: ReactNode;
  /** More actions next to the create button, given the list's current query (filters, sort). */
  actions?: (query: Record<string, string>) => ReactNode;
}) {
  const [search, setSearch] = useState('');
  const [name] = useDebouncedValue(search, 300);
  const [sort, setSort] = useState(defaultSort);
  const customFields = useCustomFields(collection);
  const allColumns = [...columns, ...customFieldColumns<RowOf<C>>(customFields.data ?? [])];
  const [visible, setVisible] = useLocalStorage<string[]>({
    key: `meridian.crm.${collection}.columns`,
    defaultValue: columns.filter((c) => c.defaultVisible !== false).map((c) => c.key),
    getInitialValueInEffect: false,
  });
  const listFilters = { ...filters, ...(textFilter ? { [textFilter]: name } : {}) };
  const list = useCrmList(collection, { sort, filters: listFilters });
  const shown = allColumns.filter((c) => visible.includes(c.key));
  const rows: RowOf<C>[] = list.data?.pages.flatMap((p) => p.data) ?? [];

  const toggleSort = (field: string) => {
    setSort((s) => (s === field ? `-${field}` : field));
  };

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Group gap="xs">
          {textFilter ? (
            <TextInput
              placeholder="Name contains…"
              aria-label={`Filter ${noun} by name`}
              leftSection={<IconSearch size={16} />}
              value={search}
              onChange={(e) => {
                setSearch(e.currentTarget.value);
              }}
              w={260}
            />
          ) : null}
          {toolbar}
          <Popover position="bottom-start" shadow="md" withinPortal>
            <Popover.Target>
              <Button variant="default" leftSection={<IconColumns size={16} />}>
                Columns
              </Button>
            </Popover.Target>
            <Popover.Dropdown>
              <Stack gap={6} role="group" aria-label="Visible columns">
                {allColumns.map((c) => (
                  <Checkbox
                    key={c.key}
                    label={c.label}
                    checked={visible.includes(c.key)}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      setVisible((v) => (on ? [...v, c.key] : v.filter((k) => k !== c.key)));
                    }}
                  />
                ))}
              </Stack>
            </Popover.Dropdown>
          </Popover>
        </Group>
        <Group gap="xs">
          {actions?.({ ...listFilters, ...(sort ? { sort } : {}) })}
          {onCreate ? (
            <Button leftSection={<IconPlus size={16} />} onClick={onCreate}>
              {createLabel}
            </Button>
          ) : null}
        </Group>
      </Group>
      {list.isError ? (
        <ErrorAlert error={list.error} what={noun} onRetry={() => void list.refetch()} />
      ) : null}
      <Card padding={0} withBorder>
        <Table.ScrollContainer minWidth={600}>
          <Table highlightOnHover verticalSpacing="sm" aria-label={noun}>
            <Table.Thead>
              <Table.Tr>
                {shown.map((c) => {
                  const state =
                    c.sort && sort === c.sort ? 'asc' : c.sort && sort === `-${c.sort}` ? 'desc' : null;
                  return (
                    <Table.Th
                      key={c.key}
                      aria-sort={state === 'asc' ? 'ascending' : state === 'desc' ? 'descending' : undefined}
                    >
                      {c.sort ? (
                        <UnstyledButton
                          onClick={() => {
                            if (c.sort) toggleSort(c.sort);
                          }}
                          fw={600}
                          fz="sm"
                        >
                          <Group gap={4} wrap="nowrap">
                            {c.label}
                            <SortIcon state={state} />
                          </Group>
                        </UnstyledButton>
                      ) : (
                        c.label
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.isPending
                ? [0, 1, 2].map((i) => (
                    <Table.Tr key={i}>
                      {shown.map((c) => (
                        <Table.Td key={c.key}>
                          <Skeleton h={14} />
                        </Table.Td>
                      ))}
                    </Table.Tr>
                  ))
                : rows.map((row) => (
                    <Table.Tr key={row.id}>
                      {shown.map((c) => (
                        <Table.Td key={c.key}>{c.render(row)}</Table.Td>
                      ))}
                    </Table.Tr>
                  ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {list.isSuccess && rows.length === 0 ? (
          <Text c="dimmed" ta="center" py="xl">
            No {noun} {name ? `matching “${name}”` : 'yet'}.
          </Text>
        ) : null}
      </Card>
      {list.hasNextPage ? (
        <Group justify="center">
          <Button
            variant="default"
            loading={list.isFetchingNextPage}
            onClick={() => void list.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
