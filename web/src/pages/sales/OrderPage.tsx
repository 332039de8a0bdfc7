import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import {
  IconAlertTriangle,
  IconArrowLeft,
  IconCash,
  IconCheck,
  IconFileInvoice,
  IconTruckDelivery,
  IconX,
} from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  formatMoney,
  type Invoice,
  type OrderStatus,
  SALES_MONEY_KEYS,
  type SalesOrder,
  useInvoice,
  useInvoices,
  useOrder,
  useProducts,
  useStoreNames,
} from '../../api/sales';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { useCanSome } from '../crm/permissions';
import type { ConfirmRefusal } from './OrderEntry';
import { PaymentForm } from './PaymentForm';
import { InvoiceStatusBadge, OrderStatusBadge } from './shared';
import { isCreditLimit } from './logic';

/** The credit-limit refusal, in words, and the Manager's override with its reason. */
function CreditLimitRefusal({
  error,
  canOverride,
  busy,
  onOverride,
}: {
  error: ApiError;
  canOverride: boolean;
  busy: boolean;
  onOverride: (reason: string) => void;
}) {
  const [reason, setReason] = useState('');
  return (
    <Alert
      color="red"
      variant="light"
      icon={<IconAlertTriangle size={18} />}
      title="Over the credit limit"
      role="alert"
      data-testid="credit-limit"
    >
      <Stack gap="xs">
        <Text size="sm">
          {error.detail ?? 'Confirming this order would exceed the store’s credit limit.'}
        </Text>
        {canOverride ? (
          <form
            aria-label="Override the credit limit"
            onSubmit={(e) => {
              e.preventDefault();
              onOverride(reason.trim());
            }}
          >
            <Group align="flex-end" gap="xs">
              <TextInput
                label="Reason for the override"
                description="Recorded in the audit log with the amounts"
                value={reason}
                onChange={(e) => {
                  setReason(e.currentTarget.value);
                }}
                error={error.fieldError('override_reason')}
                w={360}
              />
              <Button type="submit" color="red" disabled={!reason.trim()} loading={busy}>
                Confirm over the limit
              </Button>
            </Group>
          </form>
        ) : (
          <Text size="sm">Ask a Manager to confirm it over the limit, or take a payment first.</Text>
        )}
      </Stack>
    </Alert>
  );
}

interface Change {
  status: OrderStatus;
  override?: string;
}

/** A sales order: its lines and totals, and the next step of its life (confirm, deliver, invoice). */
export function OrderPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const can = useCan();
  const canSome = useCanSome();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const location = useLocation();
  const arrived = (location.state as ConfirmRefusal | null)?.confirmProblem;
  const [refusal, setRefusal] = useState<ApiError | null>(arrived ? new ApiError(arrived) : null);
  const order = useOrder(id);
  const products = useProducts();
  const names = useStoreNames(order.data ? [order.data.store_id] : []);
  const invoices = useInvoices(
    { store_id: order.data?.store_id ?? '' },
    order.data?.status === 'invoiced' && can('invoices:read'),
  );
  useDocumentTitle(order.data ? `${order.data.number} · Sales` : 'Order · Sales');

  const refresh = async () => {
    await Promise.all(SALES_MONEY_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
  };

  const change = useMutation<SalesOrder, ApiError, Change>({
    mutationFn: async ({ status, override }) =>
      (
        await unwrap(
          api.PATCH('/api/v1/sales-orders/{id}', {
            params: { path: { id } },
            body: {
              status,
              version: order.data?.version ?? null,
              ...(override !== undefined ? { override_credit_limit: true, override_reason: override } : {}),
            },
          }),
        )
      ).data,
    onMutate: () => {
      setRefusal(null);
    },
    onSuccess: async (next) => {
      queryClient.setQueryData(['sales', 'order', id], next);
      notifications.show({ color: 'teal', message: `${next.number} is now ${next.status}.` });
      await refresh();
    },
    onError: async (e) => {
      if (isCreditLimit(e)) setRefusal(e);
      if (e.status === 412 || e.status === 409) await refresh();
    },
  });

  const invoice = useMutation<Invoice, ApiError>({
    mutationFn: async () =>
      (await unwrap(api.POST('/api/v1/sales-orders/{id}/invoice', { params: { path: { id } } }))).data,
    onSuccess: async (inv) => {
      notifications.show({ color: 'teal', message: `Invoice ${inv.number} issued.` });
      await refresh();
      void navigate(`/sales/invoices/${inv.id}`);
    },
  });

  if (order.error) return <ErrorAlert error={order.error} what="this order" />;
  if (!order.data) return <Skeleton h={300} />;
  const o = order.data;
  const productName = new Map((products.data ?? []).map((p) => [p.id, `${p.sku} · ${p.name}`]));
  const canUpdate = canSome('orders:update');
  const billed = invoices.data?.find((inv) => inv.order_id === o.id);
  const otherError = change.error && !isCreditLimit(change.error) ? change.error : (invoice.error ?? null);

  return (
    <Stack gap="md" data-testid="order-page">
      <Anchor component={Link} to={`/sales/stores/${o.store_id}`} size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {names.get(o.store_id) ?? 'Store'}
        </Group>
      </Anchor>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={2} fz={22}>
            Order {o.number}
          </Title>
          <OrderStatusBadge status={o.status} />
        </Group>
        <Group>
          {o.status === 'draft' && canUpdate ? (
            <Button
              leftSection={<IconCheck size={16} />}
              loading={change.isPending && change.variables.status === 'confirmed'}
              onClick={() => {
                change.mutate({ status: 'confirmed' });
              }}
            >
              Confirm
            </Button>
          ) : null}
          {o.status === 'confirmed' && canUpdate ? (
            <Button
              leftSection={<IconTruckDelivery size={16} />}
              loading={change.isPending && change.variables.status === 'delivered'}
              onClick={() => {
                change.mutate({ status: 'delivered' });
              }}
            >
              Mark delivered
            </Button>
          ) : null}
          {o.status === 'delivered' && can('invoices:create') ? (
            <Button
              leftSection={<IconFileInvoice size={16} />}
              loading={invoice.isPending}
              onClick={() => {
                invoice.mutate();
              }}
            >
              Create invoice
            </Button>
          ) : null}
          {billed ? (
            <Button
              component={Link}
              to={`/sales/invoices/${billed.id}`}
              variant="light"
              leftSection={<IconFileInvoice size={16} />}
            >
              Invoice {billed.number}
            </Button>
          ) : null}
          {(o.status === 'draft' || o.status === 'confirmed') && canUpdate ? (
            <Button
              variant="default"
              color="red"
              leftSection={<IconX size={16} />}
              loading={change.isPending && change.variables.status === 'cancelled'}
              onClick={() => {
                change.mutate({ status: 'cancelled' });
              }}
            >
              Cancel order
            </Button>
          ) : null}
        </Group>
      </Group>
      {refusal ? (
        <CreditLimitRefusal
          error={refusal}
          canOverride={can('orders:manage')}
          busy={change.isPending}
          onOverride={(reason) => {
            change.mutate({ status: 'confirmed', override: reason });
          }}
        />
      ) : null}
      {otherError ? (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
          {otherError.fieldErrors.map((f) => f.message).join(' · ') ||
            (otherError.detail ?? otherError.title)}
        </Alert>
      ) : null}
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Card withBorder padding="sm">
          <Text size="xs" c="dimmed">
            Order date
          </Text>
          <Text size="sm">{formatDate(o.order_date)}</Text>
        </Card>
        <Card withBorder padding="sm">
          <Text size="xs" c="dimmed">
            Currency
          </Text>
          <Text size="sm">{o.currency}</Text>
        </Card>
        <Card withBorder padding="sm">
          <Text size="xs" c="dimmed">
            Total
          </Text>
          <Text size="sm" fw={700} data-testid="order-total">
            {formatMoney(o.total, o.currency)}
          </Text>
        </Card>
        {o.credit_override_reason ? (
          <Card withBorder padding="sm">
            <Text size="xs" c="dimmed">
              Credit limit overridden
            </Text>
            <Text size="sm">{o.credit_override_reason}</Text>
          </Card>
        ) : null}
      </SimpleGrid>
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label="Order lines" verticalSpacing={6}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>Product</Table.Th>
              <Table.Th ta="right">Quantity</Table.Th>
              <Table.Th ta="right">Unit price</Table.Th>
              <Table.Th ta="right">Discount</Table.Th>
              <Table.Th ta="right">Tax</Table.Th>
              <Table.Th ta="right">Total</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {o.lines.map((l) => (
              <Table.Tr key={l.line_no}>
                <Table.Td>{l.line_no}</Table.Td>
                <Table.Td>{productName.get(l.product_id) ?? l.product_id}</Table.Td>
                <Table.Td ta="right">{l.quantity}</Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {formatMoney(l.unit_price, o.currency)}
                </Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {formatMoney(l.discount, o.currency)}
                </Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {formatMoney(l.tax, o.currency)}
                </Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {formatMoney(l.total, o.currency)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {o.notes ? (
        <Text size="sm" c="dimmed">
          {o.notes}
        </Text>
      ) : null}
    </Stack>
  );
}

/** An invoice: its amounts, what is paid and credited, and "Record payment". */
export function InvoicePage() {
  const { id = '' } = useParams();
  const can = useCan();
  const inv = useInvoice(id);
  const names = useStoreNames(inv.data ? [inv.data.store_id] : []);
  const [paying, setPaying] = useState(false);
  useDocumentTitle(inv.data ? `${inv.data.number} · Sales` : 'Invoice · Sales');
  if (inv.error) return <ErrorAlert error={inv.error} what="this invoice" />;
  if (!inv.data) return <Skeleton h={300} />;
  const i = inv.data;
  const figures: [string, string][] = [
    ['Subtotal', i.subtotal],
    ['Discount', i.discount],
    ['Tax', i.tax],
    ['Total', i.total],
    ['Paid', i.paid],
    ['Credited', i.credited],
  ];
  return (
    <Stack gap="md" data-testid="invoice-page">
      <Anchor component={Link} to={`/sales/stores/${i.store_id}`} size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {names.get(i.store_id) ?? 'Store'}
        </Group>
      </Anchor>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={2} fz={22}>
            Invoice {i.number}
          </Title>
          <InvoiceStatusBadge status={i.status} />
        </Group>
        <Group>
          <Button component={Link} to={`/sales/orders/${i.order_id}`} variant="default">
            The order
          </Button>
          {can('payments:create') && i.status !== 'paid' ? (
            <Button
              leftSection={<IconCash size={16} />}
              onClick={() => {
                setPaying(true);
              }}
            >
              Record payment
            </Button>
          ) : null}
        </Group>
      </Group>
      <Text size="sm" c="dimmed">
        Issued {formatDate(i.issued_on)}
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 4, md: 7 }}>
        {figures.map(([label, value]) => (
          <Card key={label} withBorder padding="sm">
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm" ff="monospace">
              {formatMoney(value, i.currency)}
            </Text>
          </Card>
        ))}
        <Card withBorder padding="sm">
          <Text size="xs" c="dimmed">
            Balance
          </Text>
          <Text size="sm" ff="monospace" fw={700} data-testid="invoice-balance">
            {formatMoney(i.balance, i.currency)}
          </Text>
        </Card>
      </SimpleGrid>
      {paying ? (
        <PaymentForm
          storeId={i.store_id}
          currency={i.currency}
          invoices={[i]}
          preselected={[i.id]}
          opened
          onClose={() => {
            setPaying(false);
          }}
        />
      ) : null}
    </Stack>
  );
}
