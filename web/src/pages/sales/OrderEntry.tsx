import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { IconAlertTriangle, IconArrowLeft, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  formatMoney,
  lineAmounts,
  orderAmounts,
  priceInForce,
  SALES_MONEY_KEYS,
  type SalesOrder,
  useAllStores,
  usePriceList,
  usePriceLists,
  useProducts,
  useStoreNames,
} from '../../api/sales';
import { NoAccess } from '../../components/NoAccess';
import { isoDate } from '../../lib/format';
import { useCanSome } from '../crm/permissions';
import { blankLine, type EntryLine, orderLinesBody } from './logic';

/** The state the order page reads after "Save and confirm" was refused (the problem, as plain data). */
export interface ConfirmRefusal {
  confirmProblem: ApiError['problem'];
}

/**
 * Order entry: a store, lines with a product picker priced from the price list in force on
 * the order date, totals computed live (exactly as the server rounds them), then save as a
 * draft or save and confirm. A refused confirmation (the credit limit) opens the order
 * page with the refusal and, for a Manager, the override.
 */
export function OrderEntryPage() {
  const canSome = useCanSome();
  const allowed = canSome('orders:create');
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const stores = useAllStores(allowed);
  const products = useProducts(allowed);
  const priceLists = usePriceLists(allowed);
  const names = useStoreNames((stores.data ?? []).map((s) => s.id));
  const [storeId, setStoreId] = useState<string | null>(params.get('store'));
  const [orderDate, setOrderDate] = useState(isoDate(new Date()));
  const [priceListId, setPriceListId] = useState<string | null>(null);
  const [lines, setLines] = useState<EntryLine[]>([blankLine()]);
  const [notes, setNotes] = useState('');

  const store = stores.data?.find((s) => s.id === storeId) ?? null;
  const listId = priceListId ?? store?.price_list_id ?? null;
  const priceList = usePriceList(listId).data ?? null;
  const listPrice = (productId: string | null) =>
    productId && priceList ? priceInForce(priceList.items, productId, orderDate) : null;
  const currency =
    lines.map((l) => listPrice(l.productId)?.currency).find(Boolean) ??
    store?.credit_limit?.currency ??
    'EUR';
  // a line without a typed price shows the price list's
  const priced = lines.map((l) =>
    l.priceTouched ? l : { ...l, unitPrice: listPrice(l.productId)?.unit_price ?? '' },
  );
  const amounts = priced.map((l) => (l.productId ? lineAmounts(l, currency) : null));
  const totals = orderAmounts(amounts);
  const missingPrice = priced.some((l) => l.productId && !l.unitPrice);

  const update = (key: number, change: Partial<EntryLine>) => {
    setLines((ls) => ls.map((l) => (l.key === key ? { ...l, ...change } : l)));
  };

  const save = useMutation<{ order: SalesOrder; refusal?: ApiError }, ApiError, { confirm: boolean }>({
    mutationFn: async ({ confirm }) => {
      const created = (
        await unwrap(
          api.POST('/api/v1/sales-orders', {
            body: {
              store_id: storeId ?? '',
              order_date: orderDate || null,
              price_list_id: priceListId,
              notes: notes.trim() || null,
              lines: orderLinesBody(lines),
            },
          }),
        )
      ).data;
      if (!confirm) return { order: created };
      try {
        const confirmed = (
          await unwrap(
            api.PATCH('/api/v1/sales-orders/{id}', {
              params: { path: { id: created.id } },
              body: { status: 'confirmed', version: created.version },
            }),
          )
        ).data;
        return { order: confirmed };
      } catch (e) {
        if (e instanceof ApiError) return { order: created, refusal: e };
        throw e;
      }
    },
    onSuccess: async ({ order, refusal }) => {
      await Promise.all(SALES_MONEY_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
      void navigate(`/sales/orders/${order.id}`, {
        state: refusal ? ({ confirmProblem: refusal.problem } satisfies ConfirmRefusal) : null,
      });
    },
  });

  if (!allowed) return <NoAccess what="order entry" />;

  const productOptions = (products.data ?? []).map((p) => ({ value: p.id, label: `${p.sku} · ${p.name}` }));
  const storeOptions = (stores.data ?? []).map((s) => ({
    value: s.id,
    label: [names.get(s.id) ?? 'Store', s.city ?? s.region].filter(Boolean).join(' · '),
  }));
  const lineError = (i: number, field: string) => save.error?.fieldError(`lines[${String(i)}].${field}`);

  return (
    <Stack gap="md" data-testid="order-entry">
      <Anchor component={Link} to={storeId ? `/sales/stores/${storeId}` : '/sales/orders'} size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {storeId ? 'Store' : 'Orders'}
        </Group>
      </Anchor>
      <Title order={2} fz={22}>
        New order
      </Title>
      <form
        aria-label="Order"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({ confirm: true });
        }}
      >
        <Stack gap="md">
          <Group align="flex-start" gap="sm">
            <Select
              label="Store"
              placeholder="Choose a store"
              data={storeOptions}
              value={storeId}
              onChange={setStoreId}
              searchable
              required
              w={320}
              error={save.error?.fieldError('store_id')}
              comboboxProps={{ withinPortal: true }}
            />
            <TextInput
              label="Order date"
              type="date"
              value={orderDate}
              onChange={(e) => {
                setOrderDate(e.currentTarget.value);
              }}
              w={170}
              error={save.error?.fieldError('order_date')}
            />
            <Select
              label="Price list"
              placeholder="The store's"
              data={(priceLists.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
              value={priceListId ?? store?.price_list_id ?? null}
              onChange={setPriceListId}
              w={220}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          <Table.ScrollContainer minWidth={860}>
            <Table aria-label="Order lines" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Product</Table.Th>
                  <Table.Th w={110}>Quantity</Table.Th>
                  <Table.Th w={130}>Unit price</Table.Th>
                  <Table.Th w={100}>Discount %</Table.Th>
                  <Table.Th w={90}>Tax %</Table.Th>
                  <Table.Th w={140} ta="right">
                    Line total
                  </Table.Th>
                  <Table.Th w={40} />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {priced.map((l, i) => {
                  const n = String(i + 1);
                  const a = amounts[i];
                  return (
                    <Table.Tr key={l.key}>
                      <Table.Td>
                        <Select
                          aria-label={`Product of line ${n}`}
                          placeholder="SKU or name"
                          data={productOptions}
                          value={l.productId}
                          onChange={(v) => {
                            update(l.key, { productId: v, priceTouched: false, unitPrice: '' });
                          }}
                          searchable
                          error={lineError(i, 'product_id')}
                          comboboxProps={{ withinPortal: true }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={`Quantity of line ${n}`}
                          value={l.quantity}
                          inputMode="decimal"
                          onChange={(e) => {
                            update(l.key, { quantity: e.currentTarget.value });
                          }}
                          error={lineError(i, 'quantity')}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={`Unit price of line ${n}`}
                          value={l.unitPrice}
                          placeholder={l.productId ? 'no list price' : ''}
                          inputMode="decimal"
                          onChange={(e) => {
                            update(l.key, { unitPrice: e.currentTarget.value, priceTouched: true });
                          }}
                          error={lineError(i, 'unit_price')}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={`Discount of line ${n}`}
                          value={l.discountPct}
                          placeholder="0"
                          inputMode="decimal"
                          onChange={(e) => {
                            update(l.key, { discountPct: e.currentTarget.value });
                          }}
                          error={lineError(i, 'discount_pct')}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={`Tax of line ${n}`}
                          value={l.taxPct}
                          placeholder="0"
                          inputMode="decimal"
                          onChange={(e) => {
                            update(l.key, { taxPct: e.currentTarget.value });
                          }}
                          error={lineError(i, 'tax_pct')}
                        />
                      </Table.Td>
                      <Table.Td ta="right" ff="monospace" data-testid={`line-total-${n}`}>
                        {a ? formatMoney(a.total, currency) : '–'}
                      </Table.Td>
                      <Table.Td>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          aria-label={`Remove line ${n}`}
                          disabled={lines.length === 1}
                          onClick={() => {
                            setLines((ls) => ls.filter((x) => x.key !== l.key));
                          }}
                        >
                          <IconTrash size={16} />
                        </ActionIcon>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between" align="flex-start">
            <Stack gap="sm">
              <Button
                variant="default"
                leftSection={<IconPlus size={16} />}
                onClick={() => {
                  setLines((ls) => [...ls, blankLine()]);
                }}
                w="fit-content"
              >
                Add line
              </Button>
              <Textarea
                label="Notes"
                value={notes}
                onChange={(e) => {
                  setNotes(e.currentTarget.value);
                }}
                w={360}
                autosize
                minRows={2}
              />
            </Stack>
            <Card withBorder padding="md" miw={300} data-testid="order-totals">
              <Stack gap={4}>
                {(
                  [
                    ['Subtotal', totals.gross],
                    ['Discount', -totals.discount],
                    ['Tax', totals.tax],
                  ] as const
                ).map(([label, value]) => (
                  <Group key={label} justify="space-between">
                    <Text size="sm" c="dimmed">
                      {label}
                    </Text>
                    <Text size="sm" ff="monospace">
                      {formatMoney(value, currency)}
                    </Text>
                  </Group>
                ))}
                <Group justify="space-between">
                  <Text fw={700}>Total</Text>
                  <Text fw={700} ff="monospace" data-testid="order-total">
                    {formatMoney(totals.total, currency)}
                  </Text>
                </Group>
              </Stack>
            </Card>
          </Group>
          {missingPrice ? (
            <Text size="sm" c="orange">
              A product has no price in force on {orderDate} in this price list: type its unit price.
            </Text>
          ) : null}
          {save.error ? (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {(save.error.fieldErrors.map((f) => `${f.field}: ${f.message}`).join(' · ') ||
                save.error.detail) ??
                save.error.title}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button
              variant="default"
              loading={save.isPending && !save.variables.confirm}
              disabled={!storeId || save.isPending}
              onClick={() => {
                save.mutate({ confirm: false });
              }}
            >
              Save draft
            </Button>
            <Button
              type="submit"
              loading={save.isPending && save.variables.confirm}
              disabled={!storeId || save.isPending}
            >
              Save and confirm
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
