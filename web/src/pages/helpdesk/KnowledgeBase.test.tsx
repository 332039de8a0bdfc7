import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { HelpdeskAnalytics, KbArticle } from '../../api/helpdesk';
import { ADMIN, calls, json, meAs, mockServer, renderApp, signedIn, VIEWER } from '../../test/utils';

const ARTICLE: KbArticle = {
  id: 'a1',
  title: 'Restart a walk-in cooler',
  body_markdown: 'Switch it **off** and on.',
  category_id: 'c1',
  tags: ['cooling'],
  status: 'draft',
  author: 'user:u1',
  author_id: 'u1',
  published_at: null,
  created_at: '2026-03-01T10:00:00Z',
  updated_at: '2026-03-01T10:00:00Z',
  version: 3,
};

const CATEGORY = {
  id: 'c1',
  name: 'Cooling',
  description: '',
  position: 1,
  created_at: '2026-03-01T10:00:00Z',
  updated_at: '2026-03-01T10:00:00Z',
  version: 1,
};

describe('knowledge base', () => {
  it('searches, edits with a live preview, and publishes with If-Match', async () => {
    const user = userEvent.setup();
    let sent: unknown = null;
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/kb/categories': () => json({ data: [CATEGORY] }),
      'GET /api/v1/kb/articles': () => json({ data: [ARTICLE], meta: { next_cursor: null, limit: 100 } }),
      'PATCH /api/v1/kb/articles/a1': async (r) => {
        const body = (await r.json()) as Partial<KbArticle>;
        sent = body;
        return json({ data: { ...ARTICLE, ...body, version: 4 } });
      },
    });
    renderApp('/helpdesk/kb');
    expect((await screen.findAllByText('Cooling')).length).toBeGreaterThan(0);
    await user.type(screen.getByRole('textbox', { name: 'Search articles' }), 'cooler');
    await waitFor(() => {
      const qs = calls(fetchMock)
        .map((r) => new URL(r.url))
        .filter((u) => u.pathname === '/api/v1/kb/articles')
        .map((u) => u.searchParams.get('q'));
      expect(qs).toContain('cooler');
    });
    await user.click(await screen.findByText('Restart a walk-in cooler'));
    const editor = await screen.findByTestId('kb-editor');
    const preview = within(editor).getByTestId('kb-preview');
    expect(preview.querySelector('strong')).toHaveTextContent('off');
    const body = within(editor).getByRole('textbox', { name: 'Body (Markdown)' });
    await user.clear(body);
    await user.type(body, '# Steps{enter}{enter}- unplug');
    expect(within(preview).getByRole('heading', { name: 'Steps' })).toBeInTheDocument();
    expect(within(preview).getByRole('listitem')).toHaveTextContent('unplug');

    await user.click(within(editor).getByRole('button', { name: 'Publish' }));
    await waitFor(() => {
      expect(calls(fetchMock).some((r) => r.method === 'PATCH')).toBe(true);
    });
    const patch = calls(fetchMock).find((r) => r.method === 'PATCH')!;
    expect(patch.headers.get('if-match')).toBe('"3"');
    expect(sent).toMatchObject({
      status: 'published',
      body_markdown: '# Steps\n\n- unplug',
      category_id: 'c1',
    });
  });

  it('shows no access to a role without kb:read, and hides editing without kb:manage', async () => {
    mockServer({ ...signedIn(VIEWER) });
    renderApp('/helpdesk/kb');
    expect(await screen.findByTestId('no-access')).toBeInTheDocument();
  });

  it('lets a reader without kb:manage read but not write', async () => {
    mockServer({
      ...signedIn(meAs('Reader', ['kb:read', 'tickets:read'])),
      'GET /api/v1/kb/categories': () => json({ data: [CATEGORY] }),
      'GET /api/v1/kb/articles': () =>
        json({ data: [{ ...ARTICLE, status: 'published' }], meta: { next_cursor: null, limit: 100 } }),
    });
    renderApp('/helpdesk/kb');
    expect(await screen.findByText('Restart a walk-in cooler')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'New article' })).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'New category' })).not.toBeInTheDocument();
  });
});

const ANALYTICS: HelpdeskAnalytics = {
  first_response_hours: { mean: 1.5, median: 1.2, p90: 3, count: 10 },
  resolution_hours: { mean: 20, median: 16.25, p90: 40, count: 8 },
  sla_compliance: { response_pct: 90, resolution_pct: 87.5, met: 18, breached: 2 },
  backlog_by_age: [
    { bucket: '<1d', count: 3 },
    { bucket: '1-3d', count: 1 },
  ],
  volume: [
    { date: '2026-03-01', created: 4, resolved: 2 },
    { date: '2026-03-02', created: 1, resolved: 3 },
  ],
  sentiment_by_customer: [{ company_id: 'co1', tickets: 2, avg_compound: -0.4, latest_label: 'negative' }],
  csat: { average: 4.2, count: 5, distribution: { '3': 1, '4': 2, '5': 2 } },
  by_priority: [{ priority: 'Critical', open: 2, breached: 1 }],
};

describe('helpdesk dashboard', () => {
  it('shows the KPIs and a chart per measure', async () => {
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/helpdesk/analytics': () => json({ data: ANALYTICS }),
      'GET /api/v1/teams': () => json({ data: [] }),
    });
    renderApp('/helpdesk/dashboard');
    const dashboard = await screen.findByTestId('helpdesk-dashboard');
    expect(within(dashboard).getByTestId('kpi-response')).toHaveTextContent('90%');
    expect(within(dashboard).getByTestId('kpi-resolution')).toHaveTextContent('87.5%');
    expect(within(dashboard).getByTestId('kpi-resolution-time')).toHaveTextContent('16.3 h');
    expect(within(dashboard).getByTestId('kpi-csat')).toHaveTextContent('4.2 / 5');
    expect(within(dashboard).getAllByTestId('echart')).toHaveLength(6);
    const query = calls(fetchMock)
      .map((r) => new URL(r.url))
      .find((u) => u.pathname === '/api/v1/helpdesk/analytics');
    expect(query?.searchParams.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(query?.searchParams.get('to')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('shows no access when the server refuses the analytics (403)', async () => {
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/teams': () => json({ data: [] }),
      'GET /api/v1/helpdesk/analytics': () =>
        json({ type: 'about:blank', code: 'forbidden', title: 'Forbidden', status: 403 }, 403),
    });
    renderApp('/helpdesk/dashboard');
    expect(await screen.findByTestId('no-access')).toBeInTheDocument();
  });
});
