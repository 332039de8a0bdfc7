import { Badge, Button, Card, Group, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconDatabaseOff, IconFileImport } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { InvoiceStatus, OrderStatus, Urgency } from '../../api/sales';

const ORDER_COLORS: Record<OrderStatus, string> = {
  draft: 'gray',
  confirmed: 'blue',
  delivered: 'teal',
  invoiced: 'violet',
  cancelled: 'red',
};

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return (
    <Badge color={ORDER_COLORS[status]} variant="light" data-testid="order-status">
      {status}
    </Badge>
  );
}

const INVOICE_COLORS: Record<InvoiceStatus, string> = {
  open: 'orange',
  partially_paid: 'yellow',
  paid: 'teal',
};

export function InvoiceStatusBadge({ status }: { status: InvoiceStatus }) {
  return (
    <Badge color={INVOICE_COLORS[status]} variant="light" data-testid="invoice-status">
      {status.replace('_', ' ')}
    </Badge>
  );
}

export function UrgencyBadge({ urgency }: { urgency: Urgency }) {
  if (!urgency)
    return (
      <Text size="xs" c="dimmed">
        –
      </Text>
    );
  return (
    <Badge color={urgency === 'HIGH' ? 'red' : 'orange'} variant={urgency === 'HIGH' ? 'filled' : 'light'}>
      {urgency}
    </Badge>
  );
}

/** A KPI: a label, a big figure and an optional note (a change, a period). */
export function Kpi({
  label,
  value,
  note,
  color,
}: {
  label: string;
  value: ReactNode;
  note?: ReactNode;
  color?: string;
}) {
  return (
    <Card withBorder padding="md" data-testid={`kpi-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz={26} fw={700} c={color}>
        {value}
      </Text>
      {note ? (
        <Text size="xs" c="dimmed">
          {note}
        </Text>
      ) : null}
    </Card>
  );
}

/** What to do when there is nothing to show yet. */
export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <Card withBorder padding="xl" data-testid="empty-state">
      <Stack align="center" gap="sm">
        <ThemeIcon variant="light" size={48} radius="xl">
          <IconDatabaseOff size={26} />
        </ThemeIcon>
        <Text fw={600}>{title}</Text>
        {children ? (
          <Text size="sm" c="dimmed" ta="center" maw={520}>
            {children}
          </Text>
        ) : null}
        {action}
      </Stack>
    </Card>
  );
}

/** "No sales data yet": the way to the import wizard. */
export function ImportSalesAction() {
  return (
    <Group>
      <Button component={Link} to="/sales/imports/new" leftSection={<IconFileImport size={16} />}>
        Import sales data
      </Button>
    </Group>
  );
}

/** Signed growth as a percentage with its colour ("+4.2%" teal, "−3.0%" red). */
export function Growth({ value }: { value: number | null | undefined }) {
  if (value === null || value === undefined || Number.isNaN(value))
    return (
      <Text span c="dimmed">
        –
      </Text>
    );
  const pct = (value * 100).toFixed(1);
  return (
    <Text span c={value >= 0 ? 'teal' : 'red'} fw={600}>
      {value >= 0 ? '+' : ''}
      {pct}%
    </Text>
  );
}
