import { Alert, Button, Checkbox, Group, Modal, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  formatMoney,
  formatScaled,
  type Invoice,
  PAYMENT_METHODS,
  type Payment,
  type PaymentMethod,
  parseDecimal,
  SALES_MONEY_KEYS,
} from '../../api/sales';
import { isoDate } from '../../lib/format';
import { allocate } from './logic';

/** Record a payment from a store, applied to its open invoices (oldest first). */
export function PaymentForm({
  storeId,
  currency,
  invoices,
  preselected,
  opened,
  onClose,
}: {
  storeId: string;
  currency: string;
  /** The store's invoices with a balance, to apply the payment to. */
  invoices: Invoice[];
  /** Invoices ticked at first (all open ones when absent). */
  preselected?: string[];
  opened: boolean;
  onClose: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const open = invoices.filter((i) => (parseDecimal(i.balance) ?? 0n) > 0n);
  const [chosen, setChosen] = useState<string[]>(preselected ?? open.map((i) => i.id));
  const due = open
    .filter((i) => chosen.includes(i.id))
    .reduce((sum, i) => sum + (parseDecimal(i.balance) ?? 0n), 0n);
  const [amount, setAmount] = useState(formatScaled(due, 2));
  const [method, setMethod] = useState<PaymentMethod>('bank_transfer');
  const [reference, setReference] = useState('');
  const [receivedOn, setReceivedOn] = useState(isoDate(new Date()));
  const selected = open.filter((i) => chosen.includes(i.id));
  const allocations = allocate(amount, selected);
  const save = useMutation<Payment, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/payments', {
            body: {
              store_id: storeId,
              amount: amount.trim(),
              currency,
              method,
              received_on: receivedOn || null,
              reference: reference.trim() || null,
              allocations,
            },
          }),
        )
      ).data,
    onSuccess: async (payment) => {
      notifications.show({
        color: 'teal',
        message: `Payment of ${formatMoney(payment.amount, payment.currency)} recorded.`,
      });
      await Promise.all(SALES_MONEY_KEYS.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
      onClose();
    },
  });
  const amountError =
    save.error?.fieldError('amount') ??
    (amount && parseDecimal(amount) === null ? 'Not an amount' : undefined);
  return (
    <Modal opened={opened} onClose={onClose} title="Record a payment" size="lg">
      <form
        aria-label="Record payment"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <Group grow align="flex-start">
            <TextInput
              label={`Amount (${currency})`}
              value={amount}
              onChange={(e) => {
                setAmount(e.currentTarget.value);
              }}
              error={amountError}
              inputMode="decimal"
              required
            />
            <Select
              label="Method"
              data={PAYMENT_METHODS.map((m) => ({ value: m.value, label: m.label }))}
              value={method}
              onChange={(v) => {
                if (v) setMethod(v);
              }}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          <Group grow align="flex-start">
            <TextInput
              label="Received on"
              type="date"
              value={receivedOn}
              onChange={(e) => {
                setReceivedOn(e.currentTarget.value);
              }}
            />
            <TextInput
              label="Reference"
              placeholder="Bank or cheque reference"
              value={reference}
              onChange={(e) => {
                setReference(e.currentTarget.value);
              }}
            />
          </Group>
          {open.length > 0 ? (
            <Table aria-label="Apply to invoices" verticalSpacing={4}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40} />
                  <Table.Th>Invoice</Table.Th>
                  <Table.Th ta="right">Balance</Table.Th>
                  <Table.Th ta="right">Applied</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {open.map((inv) => (
                  <Table.Tr key={inv.id}>
                    <Table.Td>
                      <Checkbox
                        aria-label={`Apply to ${inv.number}`}
                        checked={chosen.includes(inv.id)}
                        onChange={(e) => {
                          const on = e.currentTarget.checked;
                          setChosen((c) => (on ? [...c, inv.id] : c.filter((x) => x !== inv.id)));
                        }}
                      />
                    </Table.Td>
                    <Table.Td>{inv.number}</Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {formatMoney(inv.balance, inv.currency)}
                    </Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {formatMoney(
                        allocations.find((a) => a.invoice_id === inv.id)?.amount ?? '0',
                        inv.currency,
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          ) : (
            <Text size="sm" c="dimmed">
              No open invoice: the payment stays on the store&apos;s account.
            </Text>
          )}
          {save.error && !amountError ? (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {(save.error.fieldErrors.map((f) => f.message).join(' · ') || save.error.detail) ??
                save.error.title}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              leftSection={<IconCash size={16} />}
              loading={save.isPending}
              disabled={!amount.trim()}
            >
              Record payment
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
