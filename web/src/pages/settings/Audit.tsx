import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Code,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconChevronDown, IconChevronRight, IconFilterOff, IconSearch } from '@tabler/icons-react';
import { Fragment, type ReactNode, useMemo, useState } from 'react';
import { type AuditFilters, type AuditRow, useAudit } from '../../api/identity';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate, startOfDay } from '../../lib/format';

/** The stored JSON text, indented; as it is when it is not JSON. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase" lts={0.5}>
        {label}
      </Text>
      <Text size="sm" component="div" style={{ wordBreak: 'break-all' }}>
        {children}
      </Text>
    </Stack>
  );
}

function AuditDetails({ row }: { row: AuditRow }) {
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md" p="sm" data-testid="audit-details">
      <Stack gap="xs">
        <Text size="xs" c="dimmed" fw={600} tt="uppercase" lts={0.5}>
          Changes
        </Text>
        <Code block fz="xs" data-testid="audit-changes">
          {prettyJson(row.changes)}
        </Code>
      </Stack>
      <Stack gap="sm">
        <Detail label="IP">{row.ip ?? '–'}</Detail>
        <Detail label="Request id">
          <Code fz="xs">{row.request_id ?? '–'}</Code>
        </Detail>
        <Detail label="User agent">{row.user_agent ?? '–'}</Detail>
        <Detail label="Entity id">
          <Code fz="xs">{row.entity_id ?? '–'}</Code>
        </Detail>
        <Detail label="Hash">
          <Code fz="xs">{row.hash}</Code>
        </Detail>
        <Detail label="Previous hash">
          <Code fz="xs">{row.prev_hash}</Code>
        </Detail>
      </Stack>
    </SimpleGrid>
  );
}

const EMPTY: AuditFilters = { action: '', actor: '', entityType: '', from: '' };

export function AuditPage() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [entityType, setEntityType] = useState('');
  const [fromDate, setFromDate] = useState('');
  const [open, setOpen] = useState<Set<string>>(new Set());
  const typed = useMemo(
    () => ({ action, actor, entityType, from: startOfDay(fromDate) ?? '' }),
    [action, actor, entityType, fromDate],
  );
  const [filters] = useDebouncedValue<AuditFilters>(typed, 300);
  const audit = useAudit(filters);
  const rows = audit.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = JSON.stringify(typed) !== JSON.stringify(EMPTY);

  const toggle = (id: string) => {
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };
  const clear = () => {
    setAction('');
    setActor('');
    setEntityType('');
    setFromDate('');
  };

  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        Every change and security event in your organisation, newest first. Rows are hash-chained: each
        row&apos;s hash covers the one before, so an edited or removed row is detected.
      </Text>
      <Card p="sm">
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput
            label="Action"
            placeholder="e.g. user.created"
            leftSection={<IconSearch size={14} />}
            value={action}
            onChange={(e) => {
              setAction(e.currentTarget.value);
            }}
          />
          <TextInput
            label="Actor"
            placeholder="e.g. user:…"
            value={actor}
            onChange={(e) => {
              setActor(e.currentTarget.value);
            }}
          />
          <TextInput
            label="Entity type"
            placeholder="e.g. user"
            value={entityType}
            onChange={(e) => {
              setEntityType(e.currentTarget.value);
            }}
          />
          <TextInput
            label="From"
            type="date"
            value={fromDate}
            onChange={(e) => {
              setFromDate(e.currentTarget.value);
            }}
          />
          {filtered ? (
            <Button variant="subtle" leftSection={<IconFilterOff size={16} />} onClick={clear}>
              Clear
            </Button>
          ) : null}
        </Group>
      </Card>

      {audit.isError ? (
        <ErrorAlert error={audit.error} what="the audit log" onRetry={() => void audit.refetch()} />
      ) : (
        <Card p={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" horizontalSpacing="md" aria-label="Audit log">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={36} />
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Entity</Table.Th>
                  <Table.Th ta="right">#</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {audit.isPending ? (
                  [0, 1, 2, 3].map((i) => (
                    <Table.Tr key={i}>
                      <Table.Td colSpan={6}>
                        <Skeleton h={22} />
                      </Table.Td>
                    </Table.Tr>
                  ))
                ) : rows.length === 0 ? (
                  <Table.Tr>
                    <Table.Td colSpan={6}>
                      <Text size="sm" c="dimmed" ta="center" py="lg">
                        {filtered ? 'No entries match these filters.' : 'No entries yet.'}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ) : (
                  rows.map((row) => {
                    const expanded = open.has(row.id);
                    return (
                      <Fragment key={row.id}>
                        <Table.Tr
                          data-testid="audit-row"
                          onClick={() => {
                            toggle(row.id);
                          }}
                          style={{ cursor: 'pointer' }}
                        >
                          <Table.Td>
                            <ActionIcon
                              variant="subtle"
                              color="gray"
                              size="sm"
                              aria-expanded={expanded}
                              aria-label={expanded ? 'Hide details' : 'Show details'}
                              onClick={(e) => {
                                e.stopPropagation();
                                toggle(row.id);
                              }}
                            >
                              {expanded ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
                            </ActionIcon>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                              {formatDate(row.occurred_at, true)}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <Badge
                              variant="light"
                              radius="sm"
                              tt="none"
                              color={/failed|denied|lock|reuse/.test(row.action) ? 'red' : 'meridian'}
                            >
                              {row.action}
                            </Badge>
                          </Table.Td>
                          <Table.Td>
                            <Code fz="xs">{row.actor}</Code>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{row.entity_type}</Text>
                          </Table.Td>
                          <Table.Td ta="right">
                            <Text size="xs" c="dimmed">
                              {row.seq}
                            </Text>
                          </Table.Td>
                        </Table.Tr>
                        {expanded ? (
                          <Table.Tr>
                            <Table.Td colSpan={6} bg="var(--mantine-color-default-hover)">
                              <AuditDetails row={row} />
                            </Table.Td>
                          </Table.Tr>
                        ) : null}
                      </Fragment>
                    );
                  })
                )}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      {audit.hasNextPage ? (
        <Group justify="center">
          <Button
            variant="default"
            loading={audit.isFetchingNextPage}
            onClick={() => void audit.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
