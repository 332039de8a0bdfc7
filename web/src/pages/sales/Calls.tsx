import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { type CallStore, isMissing, percent, useCallList } from '../../api/sales';
import { useMe } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate, isoDate } from '../../lib/format';
import { EmptyState } from './shared';

/** One store to call: why (the score's reasons), the expected order and what to suggest. */
function CallCard({ call, rank, top }: { call: CallStore; rank: number; top: number }) {
  return (
    <Card withBorder padding="md" data-testid="call-card">
      <Stack gap={8}>
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Badge variant="filled" size="lg" circle>
              {rank}
            </Badge>
            <Anchor component={Link} to={`/sales/stores/${call.store_id}`} fw={600}>
              {call.name}
            </Anchor>
          </Group>
          <Text fw={700} aria-label="score">
            {call.score.toFixed(0)}
          </Text>
        </Group>
        <Progress value={top > 0 ? (call.score / top) * 100 : 0} size="sm" aria-hidden />
        <Stack gap={2}>
          {call.reasons.map((r) => (
            <Group key={r.factor} justify="space-between" wrap="nowrap" gap="xs">
              <Text size="sm">{r.detail}</Text>
              <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                +{r.points.toFixed(0)}
              </Text>
            </Group>
          ))}
        </Stack>
        <Text size="sm">
          Expected order: <b>{call.expected_on ? formatDate(call.expected_on) : 'unknown'}</b>
          {call.overdue_days > 0 ? (
            <Text span c="red" fw={600}>
              {' '}
              · {call.overdue_days} days overdue
            </Text>
          ) : null}
        </Text>
        {call.basket.length ? (
          <Text size="sm" c="dimmed">
            Likely:{' '}
            {call.basket
              .slice(0, 4)
              .map((b) => `${b.name ?? b.sku} ×${String(b.expected_qty)}`)
              .join(', ')}
          </Text>
        ) : null}
        {call.upsell.length ? (
          <Group gap={4}>
            <Text size="sm" c="dimmed">
              Suggest:
            </Text>
            {call.upsell.slice(0, 3).map((u) => (
              <Badge key={u.sku} variant="light" color="grape" title={u.reason}>
                {u.name ?? u.sku} ({percent(u.similar_stores_share)})
              </Badge>
            ))}
          </Group>
        ) : null}
        <Button
          component={Link}
          to={`/sales/orders/new?store=${call.store_id}`}
          size="md"
          variant="light"
          leftSection={<IconPlus size={16} />}
          fullWidth
        >
          Take an order
        </Button>
      </Stack>
    </Card>
  );
}

/** The rep's "today's calls": stores to call in order of priority, one card each (phone first). */
export function CallsPage() {
  const me = useMe();
  const [on, setOn] = useState(isoDate(new Date()));
  const rep = me.data?.user?.id ?? '';
  const calls = useCallList(rep, on);
  const stores = calls.data?.stores ?? [];
  const top = stores[0]?.score ?? 0;
  return (
    <Stack gap="md" maw={640}>
      <Group justify="space-between" align="flex-end">
        <Title order={2} fz={20}>
          Calls for {formatDate(on)}
        </Title>
        <TextInput
          aria-label="Day"
          type="date"
          value={on}
          onChange={(e) => {
            setOn(e.currentTarget.value);
          }}
          w={160}
        />
      </Group>
      {calls.isPending && rep ? <Skeleton h={200} /> : null}
      {calls.error && !isMissing(calls.error) ? (
        <ErrorAlert error={calls.error} what="your call list" />
      ) : null}
      {calls.data && stores.length === 0 ? (
        <EmptyState title="No call today">
          No store of yours is due or overdue for an order on this day.
        </EmptyState>
      ) : null}
      {isMissing(calls.error) ? (
        <EmptyState title="No call list yet">
          The call list ranks the stores assigned to you by when they are due to order; it needs stores with
          order history.
        </EmptyState>
      ) : null}
      {stores.map((c, i) => (
        <CallCard key={c.store_id} call={c} rank={i + 1} top={top} />
      ))}
    </Stack>
  );
}
