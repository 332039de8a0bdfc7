import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { IconArrowLeft, IconCash, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import {
  formatMoney,
  isMissing,
  parseDecimal,
  percent,
  type Store,
  type StoreBalance,
  useInvoices,
  useNextOrder,
  useOrders,
  usePayments,
  useStore,
  useStoreBalance,
  useStoreNames,
  useUpsell,
} from '../../api/sales';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useCanSome } from '../crm/permissions';
import { PaymentForm } from './PaymentForm';
import { InvoiceStatusBadge, OrderStatusBadge } from './shared';
import { StoreOutlets } from './StoreOutlets';

function Field({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm">{value ?? '–'}</Text>
    </div>
  );
}

/** The balance card: what is owed, against the credit limit, with a bar of its use. */
export function BalanceCard({ balance }: { balance: StoreBalance }) {
  const limit = balance.credit_limit ? parseDecimal(balance.credit_limit) : null;
  const open = parseDecimal(balance.open_balance) ?? 0n;
  const used = limit && limit > 0n ? Number((open * 10000n) / limit) / 100 : null;
  const currency = balance.currency;
  return (
    <Card withBorder padding="md" data-testid="balance-card">
      <Stack gap={6}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Balance
        </Text>
        <Text fz={26} fw={700} data-testid="open-balance">
          {formatMoney(balance.open_balance, currency)}
        </Text>
        <Text size="sm" c="dimmed">
          Unpaid invoices {formatMoney(balance.open_invoices, currency)} · orders not yet invoiced{' '}
          {formatMoney(balance.uninvoiced_orders, currency)}
        </Text>
        {used !== null ? (
          <>
            <Progress
              value={Math.min(100, used)}
              color={used > 100 ? 'red' : used > 80 ? 'orange' : 'teal'}
              aria-label={`${used.toFixed(0)}% of the credit limit used`}
            />
            <Text size="sm">
              Credit limit {formatMoney(balance.credit_limit, currency)} · available{' '}
              <Text
                span
                fw={600}
                c={(parseDecimal(balance.available_credit ?? '0') ?? 0n) < 0n ? 'red' : undefined}
              >
                {formatMoney(balance.available_credit, currency)}
              </Text>
            </Text>
          </>
        ) : (
          <Text size="sm" c="dimmed">
            No credit limit.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

/** The predicted next order: when, how sure, what is likely in it. */
function NextOrderCard({ storeId }: { storeId: string }) {
  const next = useNextOrder(storeId);
  return (
    <Card withBorder padding="md" data-testid="next-order">
      <Stack gap={6}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Predicted next order
        </Text>
        {next.isPending ? (
          <Skeleton h={60} />
        ) : next.data ? (
          <>
            <Group gap="xs">
              <Text fz={20} fw={700}>
                {next.data.expected_on ? formatDate(next.data.expected_on) : 'not enough history'}
              </Text>
              {next.data.overdue_days > 0 ? (
                <Badge color="red" variant="light">
                  {next.data.overdue_days} days overdue
                </Badge>
              ) : null}
            </Group>
            <Text size="xs" c="dimmed">
              {next.data.orders_seen} {next.data.orders_seen === 1 ? 'order' : 'orders'} seen
              {next.data.mean_interval_days
                ? ` · every ${next.data.mean_interval_days.toFixed(0)} days on average`
                : ''}{' '}
              · {next.data.confidence} confidence
            </Text>
            {next.data.basket.slice(0, 5).map((b) => (
              <Group key={b.sku} justify="space-between" gap="xs">
                <Text size="sm">{b.name ?? b.sku}</Text>
                <Text size="sm" c="dimmed">
                  ~{b.expected_qty} · {percent(b.probability)}
                </Text>
              </Group>
            ))}
          </>
        ) : (
          <Text size="sm" c="dimmed">
            {isMissing(next.error)
              ? 'No prediction for this store yet.'
              : (next.error.detail ?? next.error.title)}
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function UpsellCard({ storeId }: { storeId: string }) {
  const upsell = useUpsell(storeId);
  const list = upsell.data?.suggestions ?? [];
  return (
    <Card withBorder padding="md" data-testid="upsell">
      <Stack gap={6}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Suggest to this store
        </Text>
        {upsell.isPending ? (
          <Skeleton h={60} />
        ) : list.length ? (
          list.map((s) => (
            <div key={s.sku}>
              <Text size="sm" fw={500}>
                {s.name ?? s.sku}{' '}
                <Text span size="xs" c="dimmed">
                  sold by {percent(s.similar_stores_share)} of similar stores
                </Text>
              </Text>
              <Text size="xs" c="dimmed">
                {s.reason}
              </Text>
            </div>
          ))
        ) : (
          <Text size="sm" c="dimmed">
            No suggestion yet.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function Profile({ store }: { store: Store }) {
  return (
    <Card withBorder padding="md">
      <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
        <Field label="Region" value={store.region} />
        <Field label="Province" value={store.province} />
        <Field label="City" value={store.city} />
        <Field label="Precision area" value={store.precision_area} />
        <Field label="Channel" value={store.channel} />
        <Field
          label="Visit every"
          value={store.visit_frequency_days ? `${store.visit_frequency_days} days` : null}
        />
        <Field
          label="Credit limit"
          value={
            store.credit_limit ? formatMoney(store.credit_limit.amount, store.credit_limit.currency) : 'none'
          }
        />
      </SimpleGrid>
    </Card>
  );
}

/** A store: profile, balance, predicted next order and suggestions, orders, invoices, payments. */
export function StorePage() {
  const { id = '' } = useParams();
  const can = useCan();
  const canSome = useCanSome();
  const store = useStore(id);
  const names = useStoreNames(store.data ? [id] : []);
  const name = names.get(id) ?? 'Store';
  useDocumentTitle(`${name} · Sales`);
  const canInvoices = can('invoices:read');
  const balance = useStoreBalance(id, canInvoices);
  const orders = useOrders({ store_id: id }, canSome('orders:read'));
  const invoices = useInvoices({ store_id: id }, canInvoices);
  const payments = usePayments({ store_id: id }, can('payments:read'));
  const [paying, setPaying] = useState(false);

  if (store.error) return <ErrorAlert error={store.error} what="this store" />;
  if (!store.data) return <Skeleton h={300} />;
  const orderRows = orders.data?.pages.flatMap((p) => p.data) ?? [];
  const invoiceRows = invoices.data ?? [];
  const currency =
    balance.data?.currency ?? store.data.credit_limit?.currency ?? invoiceRows[0]?.currency ?? 'EUR';

  return (
    <Stack gap="md" data-testid="store-page">
      <Anchor component={Link} to="/sales/stores" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          Stores
        </Group>
      </Anchor>
      <Group justify="space-between">
        <Title order={2} fz={22}>
          {name}
        </Title>
        <Group>
          {can('payments:create') ? (
            <Button
              variant="default"
              leftSection={<IconCash size={16} />}
              onClick={() => {
                setPaying(true);
              }}
            >
              Record payment
            </Button>
          ) : null}
          {canSome('orders:create') ? (
            <Button
              component={Link}
              to={`/sales/orders/new?store=${id}`}
              leftSection={<IconPlus size={16} />}
            >
              New order
            </Button>
          ) : null}
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md">
        {balance.data ? <BalanceCard balance={balance.data} /> : <Profile store={store.data} />}
        <NextOrderCard storeId={id} />
        <UpsellCard storeId={id} />
      </SimpleGrid>
      {balance.data ? <Profile store={store.data} /> : null}
      <StoreOutlets storeId={id} canEdit={canSome('stores:update')} />

      <Title order={3} fz={17}>
        Orders
      </Title>
      {orderRows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No order yet.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table striped aria-label="orders" verticalSpacing={6}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Date</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Total</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {orderRows.map((o) => (
                <Table.Tr key={o.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/sales/orders/${o.id}`} size="sm">
                      {o.number}
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

      {canInvoices ? (
        <>
          <Title order={3} fz={17}>
            Invoices
          </Title>
          {invoiceRows.length === 0 ? (
            <Text size="sm" c="dimmed">
              No invoice yet.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={560}>
              <Table striped aria-label="invoices" verticalSpacing={6}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Invoice</Table.Th>
                    <Table.Th>Issued</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th ta="right">Total</Table.Th>
                    <Table.Th ta="right">Balance</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {invoiceRows.map((inv) => (
                    <Table.Tr key={inv.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/sales/invoices/${inv.id}`} size="sm">
                          {inv.number}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{formatDate(inv.issued_on)}</Table.Td>
                      <Table.Td>
                        <InvoiceStatusBadge status={inv.status} />
                      </Table.Td>
                      <Table.Td ta="right" ff="monospace">
                        {formatMoney(inv.total, inv.currency)}
                      </Table.Td>
                      <Table.Td ta="right" ff="monospace">
                        {formatMoney(inv.balance, inv.currency)}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </>
      ) : null}

      {payments.data ? (
        <>
          <Title order={3} fz={17}>
            Payments
          </Title>
          {payments.data.length === 0 ? (
            <Text size="sm" c="dimmed">
              No payment yet.
            </Text>
          ) : (
            <Table aria-label="payments" verticalSpacing={6}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Received</Table.Th>
                  <Table.Th>Method</Table.Th>
                  <Table.Th>Reference</Table.Th>
                  <Table.Th ta="right">Amount</Table.Th>
                  <Table.Th ta="right">Applied</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {payments.data.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>{formatDate(p.received_on)}</Table.Td>
                    <Table.Td>{p.method.replace('_', ' ')}</Table.Td>
                    <Table.Td>{p.reference ?? '–'}</Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {formatMoney(p.amount, p.currency)}
                    </Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {formatMoney(p.allocated, p.currency)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      ) : null}
      {paying ? (
        <PaymentForm
          storeId={id}
          currency={currency}
          invoices={invoiceRows}
          opened
          onClose={() => {
            setPaying(false);
          }}
        />
      ) : null}
    </Stack>
  );
}
