import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message, Ticket } from '../../api/helpdesk';
import {
  ADMIN,
  calls,
  json,
  meridianProblem,
  mockServer,
  pickOption,
  renderApp,
  type Routes,
  signedIn,
} from '../../test/utils';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ID = '00000000-0000-7000-8000-00000000a001';

function ticket(over: Partial<Ticket> = {}): Ticket {
  return {
    id: ID,
    number: 'TKT-2026-00001',
    subject: 'Cooler stopped',
    description: 'The cooler in store 4 stopped.',
    type: 'Incident',
    priority: 'Critical',
    status: 'Open',
    company_id: null,
    contact_id: null,
    assignee_id: null,
    team_id: null,
    tags: [],
    equipment_ref: null,
    sla: {
      policy: { id: 'p1', name: 'Standard' },
      response_due_at: '2026-03-02T11:00:00Z',
      resolution_due_at: '2026-03-02T14:00:00Z',
      first_response_at: null,
      resolved_at: null,
      status: 'On Track',
      paused: false,
      response_target_minutes: 60,
      resolution_target_minutes: 240,
    },
    sentiment: { compound: -0.6, label: 'negative', trend: -0.3 },
    created_by: 'user:x',
    created_at: '2026-03-02T10:00:00Z',
    updated_at: '2026-03-02T10:00:00Z',
    version: 1,
    ...over,
  };
}

const MESSAGES: Message[] = [
  {
    id: 'm1',
    ticket_id: ID,
    kind: 'customer',
    author: 'api_key:k',
    body: 'This is terrible, everything melted',
    created_at: '2026-03-02T10:00:00Z',
    sentiment: { neg: 0.5, neu: 0.5, pos: 0, compound: -0.6, label: 'negative' },
  },
  {
    id: 'm2',
    ticket_id: ID,
    kind: 'note',
    author: 'user:x',
    body: 'Check the compressor first',
    created_at: '2026-03-02T10:01:00Z',
  },
];

function server(t: Ticket, extra: Routes = {}) {
  return mockServer({
    ...signedIn(ADMIN),
    [`GET /api/v1/tickets/${ID}`]: () => json({ data: t }),
    [`GET /api/v1/tickets/${ID}/messages`]: () => json({ data: MESSAGES }),
    [`GET /api/v1/tickets/${ID}/attachments`]: () => json({ data: [] }),
    'GET /api/v1/teams': () => json({ data: [] }),
    'GET /api/v1/users': () => json({ data: [], meta: { next_cursor: null, limit: 200 } }),
    ...extra,
  });
}

describe('ticket page', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows notes apart from customer messages, the SLA panel, and only allowed status changes', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, now: NOW });
    server(ticket());
    renderApp(`/helpdesk/tickets/${ID}`);
    expect(await screen.findByText('Cooler stopped')).toBeInTheDocument();
    const conversation = await screen.findByTestId('conversation');
    await within(conversation).findByText('Check the compressor first');
    const kinds = within(conversation)
      .getAllByTestId('message')
      .map((m) => m.getAttribute('data-kind'));
    expect(kinds).toEqual(['customer', 'note']);
    expect(within(conversation).getByText('Internal note')).toBeInTheDocument();
    // the customer message carries its mood, the note does not
    const [customer, note] = within(conversation).getAllByTestId('message');
    expect(within(customer!).getByTestId('sentiment')).toHaveAttribute('data-label', 'negative');
    expect(within(note!).queryByTestId('sentiment')).toBeNull();

    const panel = screen.getByTestId('sla-panel');
    expect(within(panel).getByTestId('sla-status')).toHaveTextContent('On Track');
    expect(within(panel).getByTestId('response-target')).toHaveTextContent('1h');
    expect(within(panel).getByTestId('response-countdown').textContent).toMatch(/^(1h 00m|59m \d\ds)$/);

    const group = screen.getByRole('group', { name: 'Status changes' });
    expect(
      within(group)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['Start work', 'Wait on customer', 'Resolve']);
    // no insight, no suggestions (the server answers none) and no CSAT on an open ticket: hidden
    expect(screen.queryByTestId('insight-panel')).toBeNull();
    expect(screen.queryByTestId('suggested-articles')).toBeNull();
    expect(screen.queryByTestId('csat-panel')).toBeNull();
  });

  it('shows the AI insight and suggested articles when the server sends them', async () => {
    server(
      ticket({
        insights: {
          source: 'rules',
          predicted_priority: 'Critical',
          escalation_risk: 0.72,
          urgency_keywords: ['urgent'],
          ai_insights: ['Urgency keywords detected', 'Negative sentiment trend'],
          recommended_actions: [{ action: 'assign_senior_agent', detail: 'risk above 60%' }],
          computed_at: '2026-03-02T10:00:00Z',
        },
        csat: null,
      }),
      {
        [`GET /api/v1/tickets/${ID}/suggested-articles`]: () =>
          json({
            data: [{ id: 'a1', title: 'Restart a cooler', score: 0.9, snippet: 'Switch it off and on' }],
          }),
      },
    );
    renderApp(`/helpdesk/tickets/${ID}`);
    const insight = await screen.findByTestId('insight-panel');
    expect(insight).toHaveTextContent('72%');
    expect(insight).toHaveTextContent('Negative sentiment trend');
    const action = within(insight).getByTestId('recommended-action');
    expect(within(action).getByText('Assign a senior agent')).toBeInTheDocument();
    expect(within(action).getByText('risk above 60%')).toBeInTheDocument();
    const suggested = await screen.findByTestId('suggested-articles');
    expect(within(suggested).getByRole('link', { name: 'Restart a cooler' })).toHaveAttribute(
      'href',
      '/helpdesk/kb?article=a1',
    );
    // csat is null on an open ticket: nothing to ask yet
    expect(screen.queryByTestId('csat-panel')).toBeNull();
  });

  it('sends an internal note as a note, and shows why an upload was refused', async () => {
    const user = userEvent.setup();
    const fetchMock = server(ticket(), {
      [`POST /api/v1/tickets/${ID}/messages`]: () => json({ data: MESSAGES[1] }, 201),
      [`POST /api/v1/tickets/${ID}/attachments`]: () =>
        meridianProblem(415, 'unsupported_media_type', {
          detail: 'Content-Type: application/x-msdownload is not allowed',
          errors: [{ field: 'Content-Type', message: 'application/x-msdownload is not allowed' }],
        }),
    });
    renderApp(`/helpdesk/tickets/${ID}`);
    await screen.findByTestId('conversation');
    await user.click(screen.getByRole('radio', { name: 'Internal note' }));
    await user.type(screen.getByRole('textbox', { name: 'Internal note' }), 'Ping the vendor');
    await user.click(screen.getByRole('button', { name: 'Add note' }));
    await waitFor(() => {
      const post = calls(fetchMock).find((r) => r.method === 'POST' && r.url.endsWith('/messages'));
      expect(post).toBeDefined();
    });
    const post = calls(fetchMock).find((r) => r.method === 'POST' && r.url.endsWith('/messages'))!;
    expect(await post.clone().json()).toEqual({ kind: 'note', body: 'Ping the vendor' });

    const input = document.querySelector<HTMLInputElement>('input[type="file"]')!;
    await user.upload(input, new File(['MZ'], 'tool.exe', { type: 'application/x-msdownload' }));
    const refused = await screen.findByTestId('upload-problem');
    expect(refused).toHaveTextContent(
      'tool.exe was refused: Content-Type: application/x-msdownload is not allowed',
    );
  });
});

describe('inbox', () => {
  it('asks the server for the chosen view and shows each ticket with its countdown', async () => {
    const user = userEvent.setup();
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/tickets': () => json({ data: [ticket()], meta: { next_cursor: null, limit: 50 } }),
      'GET /api/v1/teams': () => json({ data: [] }),
      'GET /api/v1/users': () => json({ data: [], meta: { next_cursor: null, limit: 200 } }),
    });
    renderApp('/helpdesk');
    const table = await screen.findByRole('table', { name: 'Tickets' });
    const row = await within(table).findByTestId('ticket-row');
    expect(within(row).getByRole('link', { name: 'Cooler stopped' })).toHaveAttribute(
      'href',
      `/helpdesk/tickets/${ID}`,
    );
    expect(within(row).getByTestId('priority-badge')).toHaveTextContent('Critical');
    expect(within(row).getByTestId('sla-countdown')).toBeInTheDocument();
    await user.click(screen.getByRole('radio', { name: 'At risk' }));
    await waitFor(() => {
      const views = calls(fetchMock)
        .map((r) => new URL(r.url))
        .filter((u) => u.pathname === '/api/v1/tickets')
        .map((u) => u.searchParams.get('view'));
      expect(views).toContain('at_risk');
    });
  });
});

describe('routes', () => {
  it('opens /tickets/<id> as the ticket page', async () => {
    server(ticket());
    const { router } = renderApp(`/tickets/${ID}`);
    expect(await screen.findByText('Cooler stopped')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/helpdesk/tickets/${ID}`);
  });
});

describe('ticket tags, CSAT and the new-ticket dialog', () => {
  it('edits the tags in place: a PATCH with the version and the cleaned list', async () => {
    const u = userEvent.setup();
    let t = ticket({ tags: ['cooling'] });
    const sent: unknown[] = [];
    server(t, {
      [`GET /api/v1/tickets/${ID}`]: () => json({ data: t }),
      [`PATCH /api/v1/tickets/${ID}`]: async (r: Request) => {
        const body = (await r.json()) as { tags: string[]; version: number };
        sent.push(body);
        t = { ...t, tags: body.tags, version: t.version + 1 };
        return json({ data: t });
      },
    });
    renderApp(`/helpdesk/tickets/${ID}`);
    const tags = await screen.findByRole('combobox', { name: 'Tags' });
    await u.type(tags, 'Urgent{enter}');
    await waitFor(() => {
      expect(sent).toEqual([{ tags: ['cooling', 'urgent'], version: 1 }]);
    });
  });

  it('records a CSAT rating on a resolved ticket, then shows it', async () => {
    const u = userEvent.setup();
    let t = ticket({ status: 'Resolved', csat: null });
    const sent: unknown[] = [];
    server(t, {
      [`GET /api/v1/tickets/${ID}`]: () => json({ data: t }),
      [`POST /api/v1/tickets/${ID}/csat`]: async (r: Request) => {
        const body = (await r.json()) as { rating: number; comment?: string };
        sent.push(body);
        const csat = { rating: body.rating, comment: body.comment ?? null, rated_at: '2026-03-02T12:00:00Z' };
        t = { ...t, csat };
        return json({ data: csat }, 201);
      },
    });
    renderApp(`/helpdesk/tickets/${ID}`);
    const panel = await screen.findByTestId('csat-panel');
    const record = within(panel).getByRole('button', { name: 'Record rating' });
    expect(record).toBeDisabled();
    // four stars (Mantine's Rating takes Enter on a star)
    within(panel)
      .getAllByRole('radio')
      .find((r) => r.getAttribute('value') === '4')!
      .focus();
    await u.keyboard('{Enter}');
    await u.type(within(panel).getByRole('textbox', { name: 'CSAT comment' }), 'Quick fix');
    await u.click(record);
    await waitFor(() => {
      expect(screen.getByTestId('csat-panel')).toHaveTextContent('“Quick fix”');
    });
    expect(sent).toEqual([{ rating: 4, comment: 'Quick fix' }]);
    expect(screen.getByTestId('csat-rating')).toHaveAttribute('data-rating', '4');
  });

  it('says why a rating was refused (409)', async () => {
    const u = userEvent.setup();
    server(ticket({ status: 'Resolved', csat: null }), {
      [`POST /api/v1/tickets/${ID}/csat`]: () =>
        meridianProblem(409, 'conflict', { detail: 'this resolution is already rated' }),
    });
    renderApp(`/helpdesk/tickets/${ID}`);
    const panel = await screen.findByTestId('csat-panel');
    within(panel)
      .getAllByRole('radio')
      .find((r) => r.getAttribute('value') === '5')!
      .focus();
    await u.keyboard('{Enter}');
    await u.click(within(panel).getByRole('button', { name: 'Record rating' }));
    expect(await within(panel).findByRole('alert')).toHaveTextContent('this resolution is already rated');
  });

  it('opens a ticket with a team, an assignee and tags; says when the team assigns by itself', async () => {
    const u = userEvent.setup();
    const team = {
      id: '00000000-0000-7000-8000-0000000000c1',
      name: 'Field service',
      member_ids: [],
      restricted: false,
      created_at: '2026-03-01T10:00:00Z',
      assignment_method: 'round_robin' as const,
      assign_by_skill: false,
    };
    const agent = {
      id: '00000000-0000-7000-8000-0000000000d1',
      email: 'alice@acme.test',
      name: 'Alice',
      role: 'Support Agent',
      role_id: 'r1',
      scope: { site_ids: [], division_ids: [] },
      active: true,
      totp_enabled: false,
      created_at: '2026-03-01T10:00:00Z',
      version: 1,
    };
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/tickets': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
      'GET /api/v1/teams': () => json({ data: [team] }),
      'GET /api/v1/users': () => json({ data: [agent], meta: { next_cursor: null, limit: 200 } }),
      'GET /api/v1/companies': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
      'GET /api/v1/contacts': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
      'POST /api/v1/tickets': () => json({ data: ticket() }, 201),
      [`GET /api/v1/tickets/${ID}`]: () => json({ data: ticket() }),
      [`GET /api/v1/tickets/${ID}/messages`]: () => json({ data: [] }),
      [`GET /api/v1/tickets/${ID}/attachments`]: () => json({ data: [] }),
    });
    renderApp('/helpdesk');
    await u.click(await screen.findByRole('button', { name: 'New ticket' }));
    const form = await screen.findByRole('form', { name: 'New ticket' });
    await u.type(within(form).getByRole('textbox', { name: 'Subject' }), 'Freezer alarm');
    await pickOption(u, within(form).getByRole('combobox', { name: 'Team' }), 'Field service');
    expect(within(form).getByTestId('auto-assign-hint')).toHaveTextContent(
      'Left unassigned, Field service assigns it to a member (round robin).',
    );
    await pickOption(u, within(form).getByRole('combobox', { name: 'Assignee' }), 'Alice');
    // a chosen assignee wins over the team's rule
    expect(within(form).queryByTestId('auto-assign-hint')).toBeNull();
    await u.type(within(form).getByRole('combobox', { name: 'Tags' }), 'Freezer{enter}');
    await u.click(within(form).getByRole('button', { name: 'Create' }));
    await waitFor(() => {
      expect(calls(fetchMock).some((r) => r.method === 'POST' && r.url.endsWith('/api/v1/tickets'))).toBe(
        true,
      );
    });
    const post = calls(fetchMock).find((r) => r.method === 'POST' && r.url.endsWith('/api/v1/tickets'))!;
    expect(await post.clone().json()).toEqual({
      subject: 'Freezer alarm',
      description: '',
      type: 'Question',
      priority: 'Medium',
      team_id: team.id,
      assignee_id: agent.id,
      tags: ['freezer'],
    });
  });
});
