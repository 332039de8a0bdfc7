import { Anchor, Badge, Card, Group, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { formatMoney } from '../../api/crm';
import type { components } from '../../api/schema';
import { formatDate } from '../../lib/format';

type CustomerSection = components['schemas']['CustomerSection'];

interface OrderBrief {
  id: string;
  number: string;
  status: string;
  order_date: string;
  total: string;
  currency: string;
}

/** The sales module's section of the customer 360 (`data` of the `orders` section). */
export interface CustomerOrders {
  store_id: string;
  open_orders: OrderBrief[] | null;
  last_orders: OrderBrief[] | null;
  unpaid_invoices: string | null;
  currency: string | null;
  next_expected_order: { expected_on: string | null; overdue_days: number; confidence: string } | null;
}

/** `data` as a `CustomerOrders` when it is one (`null`: the company is not a store). */
function customerOrders(data: unknown): CustomerOrders | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Partial<CustomerOrders>;
  return typeof d.store_id === 'string' ? (data as CustomerOrders) : null;
}

/**
 * The customer's orders in the CRM customer 360: unpaid balance, the next expected order,
 * and the open orders (linked); a company that is not a store says so.
 */
export function CustomerOrdersSection({ section }: { section: CustomerSection }) {
  const data = section.available ? customerOrders(section.data) : null;
  const next = data?.next_expected_order;
  return (
    <Card withBorder padding="xs" data-testid="customer-orders">
      <Text size="sm" fw={600}>
        Orders
      </Text>
      {!section.available ? (
        <Text size="xs" c="dimmed">
          Arrives with the Sales module
        </Text>
      ) : !data ? (
        <Text size="xs" c="dimmed">
          Not a store yet: no orders.
        </Text>
      ) : (
        <Stack gap={4}>
          <Group gap="xs">
            {data.unpaid_invoices !== null && data.currency ? (
              <Text size="xs" data-testid="customer-orders-unpaid">
                Unpaid {formatMoney(data.unpaid_invoices, data.currency)}
              </Text>
            ) : null}
            {next?.expected_on ? (
              <Text size="xs">
                Next order expected {formatDate(next.expected_on)}
                {next.overdue_days > 0 ? ` (${next.overdue_days} days overdue)` : ''}
              </Text>
            ) : null}
          </Group>
          {(data.open_orders ?? []).length === 0 ? (
            <Text size="xs" c="dimmed">
              No open orders.
            </Text>
          ) : (
            (data.open_orders ?? []).map((o) => (
              <Group key={o.id} gap="xs" wrap="nowrap" justify="space-between">
                <Anchor component={Link} to={`/sales/orders/${o.id}`} size="sm" truncate>
                  {o.number} · {formatMoney(o.total, o.currency)}
                </Anchor>
                <Badge size="xs" variant="light">
                  {o.status}
                </Badge>
              </Group>
            ))
          )}
          <Anchor component={Link} to={`/sales/stores/${data.store_id}`} size="xs">
            Open the store
          </Anchor>
        </Stack>
      )}
    </Card>
  );
}
