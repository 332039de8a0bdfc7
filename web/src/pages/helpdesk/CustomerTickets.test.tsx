import { MantineProvider } from '@mantine/core';
import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../../api/helpdesk';
import { theme } from '../../theme';
import { CustomerTicketsSection } from './CustomerTickets';

const TICKET = {
  id: '00000000-0000-7000-8000-00000000a001',
  number: 'TKT-2026-00007',
  subject: 'Cooler stopped',
  sla: { status: 'Response Breached' },
} as unknown as Ticket;

type Section = Parameters<typeof CustomerTicketsSection>[0]['section'];

/** `data` is an untyped object in the OpenAPI document; a CustomerTickets here. */
function show(section: { available: boolean; provided_by: string; data: unknown }) {
  render(
    <MantineProvider theme={theme}>
      <MemoryRouter>
        <CustomerTicketsSection section={section as Section} />
      </MemoryRouter>
    </MantineProvider>,
  );
}

describe('customer 360: tickets', () => {
  it('shows counts, mood and the open tickets linked to their pages', () => {
    show({
      available: true,
      provided_by: 'helpdesk',
      data: { open: 1, at_risk: 0, breached: 1, sentiment: -0.6, tickets: [TICKET] },
    });
    expect(screen.getByTestId('customer-tickets-counts')).toHaveTextContent(
      '1 open · 0 at risk · 1 breached',
    );
    expect(screen.getByTestId('sentiment')).toHaveAttribute('data-label', 'negative');
    expect(screen.getByRole('link', { name: 'TKT-2026-00007 · Cooler stopped' })).toHaveAttribute(
      'href',
      `/helpdesk/tickets/${TICKET.id}`,
    );
  });

  it('says so when the caller may not see tickets (data null), or the module is missing', () => {
    show({ available: true, provided_by: 'helpdesk', data: null });
    expect(screen.getByText('Your role does not show tickets.')).toBeInTheDocument();
  });

  it('says the module is to come when it is not there', () => {
    show({ available: false, provided_by: 'helpdesk', data: null });
    expect(screen.getByText('Arrives with the Helpdesk module')).toBeInTheDocument();
  });
});
