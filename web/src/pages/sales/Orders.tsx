import { Anchor, Button, Group, SegmentedControl, Skeleton, Stack, Table } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { formatMoney, useOrders, useStoreNames } from '../../api/sales';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { useCanSome } from '../crm/permissions';
import { EmptyState, OrderStatusBadge } from './shared';

const STATUSES = ['all', 'draft', 'confirmed', 'delivered', 'invoiced', 'cancelled'];

/** Sales orders, newest first, by status. */
export function OrdersPage() {
  const canSome = useCanSome();
  const [status, setStatus] = useState('all');
  const orders = useOrders(status === 'all' ? {} : { status });
  const rows = orders.data?.pages.flatMap((p) => p.data) ?? [];
  const names = useStoreNames(rows.map((o) => o.store_id));
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <SegmentedControl data={STATUSES} value={status} onChange={setStatus} aria-label="Status" />
        {canSome('orders:create') ? (
          <Button component={Link} to="/sales/orders/new" leftSection={<IconPlus size={16} />}>
            New order
          </Button>
        ) : null}
      </Group>
      {orders.error ? <ErrorAlert error={orders.error} what="the orders" /> : null}
      {orders.isPending ? (
        <Skeleton h={200} />
      ) : rows.length === 0 ? (
        <EmptyState title="No orders">Orders entered for your stores show here.</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table striped highlightOnHover aria-label="orders" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Store</Table.Th>
                <Table.Th>Date</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Total</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((o) => (
                <Table.Tr key={o.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/sales/orders/${o.id}`} size="sm">
                      {o.number}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/sales/stores/${o.store_id}`} size="sm">
                      {names.get(o.store_id) ?? 'Store'}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{formatDate(o.order_date)}</Table.Td>
                  <Table.Td>
                    <OrderStatusBadge status={o.status} />
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {formatMoney(o.total, o.currency)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {orders.hasNextPage ? (
        <Group>
          <Button
            variant="default"
            onClick={() => void orders.fetchNextPage()}
            loading={orders.isFetchingNextPage}
          >
            Load more
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
