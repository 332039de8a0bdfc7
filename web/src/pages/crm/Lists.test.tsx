import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Company } from '../../api/crm';
import { COMPANY } from '../../test/crm';
import {
  ADMIN,
  calls,
  json,
  meridianProblem,
  mockServer,
  renderApp,
  signedIn,
  VIEWER,
} from '../../test/utils';

const company = (n: number): Company => ({
  ...COMPANY,
  id: `company-${String(n)}`,
  name: `Company ${String(n)}`,
});

describe('companies list', () => {
  let fetchMock: ReturnType<typeof mockServer>;
  beforeEach(() => {
    fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/companies': (request) => {
        const cursor = new URL(request.url).searchParams.get('cursor');
        return cursor
          ? json({ data: [company(3)], meta: { next_cursor: null, limit: 50 } })
          : json({ data: [company(1), company(2)], meta: { next_cursor: 'page-2', limit: 50 } });
      },
      'POST /api/v1/companies': () =>
        meridianProblem(422, 'validation_failed', { errors: [{ field: 'name', message: 'is required' }] }),
    });
  });

  const listQueries = () =>
    calls(fetchMock)
      .map((r) => new URL(r.url))
      .filter((u) => u.pathname === '/api/v1/companies')
      .map((u) => Object.fromEntries(u.searchParams));

  it('sorts, filters by name, pages with the cursor, and remembers the columns', async () => {
    const user = userEvent.setup();
    renderApp('/crm/companies');
    const table = await screen.findByRole('table', { name: 'companies' });
    expect(await within(table).findByRole('link', { name: 'Company 1' })).toHaveAttribute(
      'href',
      '/crm/companies/company-1',
    );
    expect(listQueries()[0]).toEqual({ limit: '50', sort: 'name' });

    await user.click(within(table).getByRole('button', { name: /Name/ }));
    await waitFor(() => {
      expect(listQueries().at(-1)).toMatchObject({ sort: '-name' });
    });
    expect(within(table).getByRole('columnheader', { name: /Name/ })).toHaveAttribute(
      'aria-sort',
      'descending',
    );

    await user.type(screen.getByRole('textbox', { name: 'Filter companies by name' }), 'north');
    await waitFor(() => {
      expect(listQueries().at(-1)).toMatchObject({ 'name[contains]': 'north', sort: '-name' });
    });

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await within(table).findByRole('link', { name: 'Company 3' })).toBeInTheDocument();
    expect(listQueries().at(-1)).toMatchObject({ cursor: 'page-2' });
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();

    // hide "Industry", show "Updated": remembered for the next visit
    expect(within(table).getByRole('columnheader', { name: 'Industry' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Columns' }));
    await user.click(await screen.findByRole('checkbox', { name: 'Industry' }));
    // (jsdom counts the popover as hidden once the table re-rendered; a browser keeps it open)
    await user.click(await screen.findByRole('checkbox', { name: 'Updated', hidden: true }));
    expect(within(table).queryByRole('columnheader', { name: 'Industry' })).toBeNull();
    expect(JSON.parse(localStorage.getItem('meridian.crm.companies.columns') ?? '[]')).toEqual([
      'name',
      'domain',
      'created_at',
      'updated_at',
    ]);
  });

  it('shows the server field errors next to the fields of the create dialog', async () => {
    const user = userEvent.setup();
    renderApp('/crm/companies');
    await user.click(await screen.findByRole('button', { name: 'New company' }));
    const form = await screen.findByRole('form', { name: 'New company' });
    await user.click(within(form).getByRole('button', { name: 'Create' }));
    expect(await within(form).findByText('is required')).toBeInTheDocument();
    expect(within(form).getByRole('textbox', { name: /Name/ })).toHaveAttribute('aria-invalid', 'true');
  });

  it('hides "New company" without companies:create', async () => {
    mockServer({
      ...signedIn({ ...VIEWER, permissions: ['companies:read'] }),
      'GET /api/v1/companies': () => json({ data: [company(1)], meta: { next_cursor: null, limit: 50 } }),
    });
    renderApp('/crm/companies');
    await screen.findByRole('link', { name: 'Company 1' });
    expect(screen.queryByRole('button', { name: 'New company' })).toBeNull();
    // only the tabs this user may read
    expect(screen.getAllByRole('tab').map((t) => t.textContent)).toEqual(['Companies']);
  });
});
