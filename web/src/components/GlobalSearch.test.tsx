import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { groupHits, SEARCH_DEBOUNCE_MS, type SearchHit } from '../api/crm';
import { ADMIN, calls, json, mockServer, renderApp, signedIn, VIEWER } from '../test/utils';

const HITS: SearchHit[] = [
  { record_type: 'lead', id: 'lead-1', title: 'John Smith', score: 0.7 },
  { record_type: 'contact', id: 'contact-1', title: 'John Smith', score: 0.9 },
  { record_type: 'contact', id: 'contact-2', title: 'Joan Smythe', score: 0.4 },
  { record_type: 'company', id: 'company-1', title: 'Smith Logistics', score: 0.5 },
];

describe('groupHits', () => {
  it('groups by record type in a fixed order, best first', () => {
    const groups = groupHits(HITS);
    expect(groups.map((g) => g.label)).toEqual(['Companies', 'Contacts', 'Leads']);
    expect(groups[1]?.hits.map((h) => h.id)).toEqual(['contact-1', 'contact-2']);
  });
});

describe('global search box', () => {
  let fetchMock: ReturnType<typeof mockServer>;
  beforeEach(() => {
    fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /health': () => json({ status: 'ok', version: '0.1.0' }),
      'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
      'GET /api/v1/search': () => json({ data: HITS }),
      'GET /api/v1/contacts/contact-1': () => json({ data: null }, 404),
    });
  });

  const searches = () =>
    calls(fetchMock)
      .map((r) => new URL(r.url))
      .filter((u) => u.pathname === '/api/v1/search')
      .map((u) => u.searchParams.get('q'));

  it('debounces typing, groups the hits, and opens one with the keyboard', async () => {
    const { router } = renderApp('/');
    const box = await screen.findByRole('textbox', { name: 'Search' });
    vi.useFakeTimers({ shouldAdvanceTime: true });
    fireEvent.focus(box);
    for (const text of ['j', 'jo', 'jon', 'jon ', 'jon s', 'jon smth']) {
      fireEvent.change(box, { target: { value: text } });
      act(() => {
        vi.advanceTimersByTime(50);
      });
    }
    expect(searches()).toEqual([]);
    act(() => {
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    });
    vi.useRealTimers();
    const list = await screen.findByRole('listbox', { name: 'Search results', hidden: true });
    expect(await within(list).findAllByRole('option', { name: 'John Smith', hidden: true })).toHaveLength(2);
    // one request, for what was typed last
    expect(searches()).toEqual(['jon smth']);
    expect(within(list).getByText('Companies')).toBeInTheDocument();
    expect(within(list).getByText('Contacts')).toBeInTheDocument();
    expect(within(list).getByText('Leads')).toBeInTheDocument();

    // ArrowDown: the first hit (the company), again: the best contact; Enter opens it
    const user = userEvent.setup();
    act(() => {
      box.focus();
    });
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(
      within(list)
        .getAllByRole('option', { hidden: true })
        .map((o) => o.hasAttribute('data-combobox-selected')),
    ).toEqual([false, true, false, false]);
    await user.keyboard('{Enter}');
    await waitFor(() => {
      expect(router.state.location.pathname).toBe('/crm/contacts/contact-1');
    });
    expect(box).toHaveValue('');
  });

  it('does not search below two characters', async () => {
    renderApp('/');
    const box = await screen.findByRole('textbox', { name: 'Search' });
    fireEvent.change(box, { target: { value: 'j' } });
    await act(() => new Promise((r) => setTimeout(r, SEARCH_DEBOUNCE_MS + 100)));
    expect(searches()).toEqual([]);
  });

  it('is not shown to users who may read no CRM records', async () => {
    mockServer({
      ...signedIn(VIEWER),
      'GET /health': () => json({ status: 'ok', version: '0.1.0' }),
      'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
    });
    renderApp('/');
    await screen.findByRole('heading', { level: 1, name: 'Dashboard' });
    expect(screen.queryByRole('textbox', { name: 'Search' })).toBeNull();
  });
});
