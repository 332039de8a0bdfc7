import { Badge, Checkbox, Group, ScrollArea, Table, Text, TextInput } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { ACTIONS, allows, groupByResource, RESOURCES, resourceLabel } from '../../auth/permissions';

/** Permissions as badges, grouped by resource ("Deals: read, update"). */
export function PermissionList({ permissions }: { permissions: readonly string[] }) {
  if (permissions.includes('*')) {
    return (
      <Badge variant="light" color="grape" radius="sm">
        Everything (*)
      </Badge>
    );
  }
  if (permissions.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No permissions
      </Text>
    );
  }
  return (
    <Group gap={6}>
      {groupByResource(permissions).map(([resource, actions]) => (
        <Badge key={resource} variant="light" color="gray" radius="sm" tt="none" fw={500}>
          {resourceLabel(resource)}: {actions.includes('*') ? 'all' : actions.join(', ')}
        </Badge>
      ))}
    </Group>
  );
}

/**
 * Picks `resource:action` permissions, one row per resource. `available` limits the choice
 * to what the caller holds (API keys get a subset of their creator's permissions).
 */
export function PermissionPicker({
  value,
  onChange,
  available,
  error,
}: {
  value: readonly string[];
  onChange: (permissions: string[]) => void;
  available?: readonly string[];
  error?: string | undefined;
}) {
  const [filter, setFilter] = useState('');
  const selected = new Set(value);
  const offered = (p: string) => !available || allows(available, p);
  const resources = RESOURCES.filter(
    (r) =>
      ACTIONS.some((a) => offered(`${r}:${a}`)) &&
      (!filter.trim() || resourceLabel(r).toLowerCase().includes(filter.trim().toLowerCase())),
  );

  const toggle = (permission: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(permission);
    else next.delete(permission);
    const [resource] = permission.split(':', 1);
    // "all" replaces the single actions of its resource
    if (on && permission.endsWith(':*')) for (const a of ACTIONS) next.delete(`${resource}:${a}`);
    onChange(
      RESOURCES.flatMap((r) => [`${r}:*`, ...ACTIONS.map((a) => `${r}:${a}`)]).filter((p) => next.has(p)),
    );
  };

  return (
    <div>
      <Group justify="space-between" mb="xs">
        <Text size="sm" fw={500}>
          Permissions{' '}
          <Text span c="dimmed" size="sm">
            ({value.length} selected)
          </Text>
        </Text>
        <TextInput
          size="xs"
          placeholder="Find a resource"
          aria-label="Find a resource"
          leftSection={<IconSearch size={14} />}
          value={filter}
          onChange={(e) => {
            setFilter(e.currentTarget.value);
          }}
        />
      </Group>
      <ScrollArea.Autosize
        mah={320}
        type="auto"
        style={{
          border: '1px solid var(--mantine-color-default-border)',
          borderRadius: 'var(--mantine-radius-md)',
        }}
      >
        <Table
          striped
          highlightOnHover
          verticalSpacing={4}
          fz="sm"
          stickyHeader
          data-testid="permission-picker"
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Resource</Table.Th>
              <Table.Th ta="center">All</Table.Th>
              {ACTIONS.map((a) => (
                <Table.Th key={a} ta="center" tt="capitalize">
                  {a}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {resources.map((r) => {
              const all = selected.has(`${r}:*`);
              return (
                <Table.Tr key={r}>
                  <Table.Td>{resourceLabel(r)}</Table.Td>
                  <Table.Td ta="center">
                    <Checkbox
                      size="xs"
                      display="inline-block"
                      aria-label={`${r}:*`}
                      checked={all}
                      disabled={!offered(`${r}:*`)}
                      onChange={(e) => {
                        toggle(`${r}:*`, e.currentTarget.checked);
                      }}
                    />
                  </Table.Td>
                  {ACTIONS.map((a) => {
                    const p = `${r}:${a}`;
                    return (
                      <Table.Td key={a} ta="center">
                        <Checkbox
                          size="xs"
                          display="inline-block"
                          aria-label={p}
                          checked={all || selected.has(p)}
                          disabled={all || !offered(p)}
                          onChange={(e) => {
                            toggle(p, e.currentTarget.checked);
                          }}
                        />
                      </Table.Td>
                    );
                  })}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
      {error ? (
        <Text size="xs" c="red" mt={4} role="alert">
          {error}
        </Text>
      ) : null}
    </div>
  );
}
