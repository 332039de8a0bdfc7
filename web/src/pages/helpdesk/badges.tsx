import { Badge, Text, Tooltip } from '@mantine/core';
import { IconClockPause, IconMoodHappy, IconMoodNeutral, IconMoodSad } from '@tabler/icons-react';
import {
  PRIORITY_COLOR,
  type Priority,
  SENTIMENT_COLOR,
  SLA_COLOR,
  type SlaStatus,
  STATUS_COLOR,
  type TicketSla,
  type TicketStatus,
  trendLabel,
} from '../../api/helpdesk';
import { deadlineClock, slaClock } from '../../lib/countdown';
import { useNow } from '../../lib/useNow';

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <Badge color={PRIORITY_COLOR[priority]} variant="light" radius="sm" data-testid="priority-badge">
      {priority}
    </Badge>
  );
}

export function TicketStatusBadge({ status }: { status: TicketStatus }) {
  return (
    <Badge color={STATUS_COLOR[status]} variant="outline" radius="sm" data-testid="status-badge">
      {status}
    </Badge>
  );
}

export function SlaStatusBadge({ status }: { status: SlaStatus }) {
  return (
    <Badge color={SLA_COLOR[status]} variant="filled" radius="sm" data-testid="sla-status">
      {status}
    </Badge>
  );
}

/** A face for a sentiment label, with the compound score (and trend) in its tooltip. */
export function SentimentMarker({
  label,
  compound,
  trend,
}: {
  label: string;
  compound: number;
  trend?: number | null;
}) {
  const Icon = label === 'positive' ? IconMoodHappy : label === 'negative' ? IconMoodSad : IconMoodNeutral;
  const direction = trendLabel(trend);
  const tip = `Customer mood: ${label} (${compound.toFixed(2)})${direction ? `, ${direction}` : ''}`;
  return (
    <Tooltip label={tip} withinPortal>
      <Text
        span
        c={SENTIMENT_COLOR[label] ?? 'gray'}
        aria-label={tip}
        data-testid="sentiment"
        data-label={label}
        style={{ display: 'inline-flex', alignItems: 'center' }}
      >
        <Icon size={18} stroke={1.7} />
      </Text>
    </Tooltip>
  );
}

/** The live countdown of a ticket's SLA (ticks every second). */
export function SlaCountdown({ sla }: { sla: TicketSla }) {
  const now = useNow(1000);
  const clock = slaClock(sla, now);
  const color = clock.paused ? 'dimmed' : clock.overdue ? 'red' : undefined;
  const what = clock.target === 'response' ? 'Reply' : clock.target === 'resolution' ? 'Resolve' : '';
  const running = what !== '' && !clock.paused && clock.remainingMs !== null;
  return (
    <Text
      span
      size="sm"
      ff="monospace"
      c={color}
      fw={clock.overdue && !clock.paused ? 600 : undefined}
      data-testid="sla-countdown"
      data-overdue={clock.overdue}
      data-paused={clock.paused}
      style={{ display: 'inline-flex', alignItems: 'center', gap: 4, whiteSpace: 'nowrap' }}
    >
      {clock.paused ? <IconClockPause size={14} aria-hidden /> : null}
      {running ? (clock.overdue ? `${what} ` : `${what} in `) : ''}
      {clock.text}
    </Text>
  );
}

/** Countdown to one deadline (the SLA panel's response and resolution rows). */
export function DeadlineCountdown({
  dueAt,
  done,
  paused,
  testId,
}: {
  dueAt: string | null | undefined;
  done: boolean;
  paused: boolean;
  testId: string;
}) {
  const now = useNow(1000);
  const clock = deadlineClock(dueAt, now, { done, paused });
  return (
    <Text
      span
      size="sm"
      ff="monospace"
      c={clock.overdue && !paused && !done ? 'red' : paused ? 'dimmed' : undefined}
      data-testid={testId}
      data-overdue={clock.overdue}
    >
      {clock.text}
    </Text>
  );
}
