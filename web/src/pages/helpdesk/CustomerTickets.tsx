import { Anchor, Card, Group, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { type CustomerTickets, sentimentLabel, ticketPath } from '../../api/helpdesk';
import type { components } from '../../api/schema';
import { SentimentMarker, SlaStatusBadge } from './badges';

type CustomerSection = components['schemas']['CustomerSection'];

/** The helpdesk's section of the customer 360 (`data` is a `CustomerTickets`), when it is one. */
function customerTickets(data: unknown): CustomerTickets | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Partial<CustomerTickets>;
  return typeof d.open === 'number' && Array.isArray(d.tickets) ? (data as CustomerTickets) : null;
}

/**
 * The customer's tickets in the CRM customer 360: open, at-risk and breached counts, the
 * mood of the open tickets, and the open tickets most urgent first (linked).
 */
export function CustomerTicketsSection({ section }: { section: CustomerSection }) {
  const data = section.available ? customerTickets(section.data) : null;
  return (
    <Card withBorder padding="xs" data-testid="customer-tickets">
      <Text size="sm" fw={600}>
        Tickets
      </Text>
      {!section.available ? (
        <Text size="xs" c="dimmed">
          Arrives with the Helpdesk module
        </Text>
      ) : !data ? (
        <Text size="xs" c="dimmed">
          Your role does not show tickets.
        </Text>
      ) : (
        <Stack gap={4}>
          <Group gap="xs">
            <Text size="xs" data-testid="customer-tickets-counts">
              {data.open} open · {data.at_risk} at risk · {data.breached} breached
            </Text>
            {typeof data.sentiment === 'number' ? (
              <SentimentMarker label={sentimentLabel(data.sentiment)} compound={data.sentiment} />
            ) : null}
          </Group>
          {data.tickets.length === 0 ? (
            <Text size="xs" c="dimmed">
              No open tickets.
            </Text>
          ) : (
            data.tickets.map((t) => (
              <Group key={t.id} gap="xs" wrap="nowrap" justify="space-between">
                <Anchor component={Link} to={ticketPath(t.id)} size="sm" truncate>
                  {t.number} · {t.subject}
                </Anchor>
                <SlaStatusBadge status={t.sla.status} />
              </Group>
            ))
          )}
        </Stack>
      )}
    </Card>
  );
}
