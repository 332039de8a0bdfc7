import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { User } from '../../api/identity';
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

const ROLES = ['Admin', 'Manager', 'Viewer'].map((name, i) => ({
  id: `role-${i}`,
  name,
  description: `${name} role`,
  permissions: name === 'Admin' ? ['*'] : ['users:read', 'deals:*'],
  builtin: true,
  version: 1,
}));

function user(name: string, role: string, version = 1): User {
  return {
    id: `user-${name.toLowerCase()}`,
    email: `${name.toLowerCase()}@acme.test`,
    name,
    role,
    role_id: `role-${role}`,
    scope: { site_ids: [], division_ids: [] },
    active: true,
    totp_enabled: false,
    created_at: '2026-11-20T10:00:00Z',
    version,
  };
}

const BOB = user('Bob', 'Viewer', 3);

const baseRoutes = {
  'GET /api/v1/users': () => json({ data: [BOB], meta: { limit: 50, next_cursor: null } }),
  'GET /api/v1/roles': () => json({ data: ROLES }),
  'GET /api/v1/orgs/current': () =>
    json({ data: { id: 'org', name: 'Acme Test', slug: 'acme', sites: [], divisions: [] } }),
};

describe('Settings', () => {
  it('lists users for an admin, with "New user" and inline roles', async () => {
    mockServer({ ...signedIn(ADMIN), ...baseRoutes });
    renderApp('/settings');
    const row = await screen.findByTestId('user-row');
    expect(row).toHaveTextContent('Bob');
    expect(row).toHaveTextContent('bob@acme.test');
    expect(within(row).getByRole('combobox', { name: 'Role of Bob' })).toHaveValue('Viewer');
    expect(screen.getByRole('button', { name: 'New user' })).toBeInTheDocument();
    const tabs = screen.getAllByRole('tab').map((t) => t.textContent);
    expect(tabs).toEqual([
      'Users',
      'Roles',
      'API keys',
      'Audit log',
      'Custom fields',
      'SLA & hours',
      'Teams',
    ]);
    expect(document.title).toBe('Users · Settings · Meridian');
  });

  it('shows the server’s validation errors next to the New user fields', async () => {
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      ...baseRoutes,
      'POST /api/v1/users': () =>
        meridianProblem(422, 'validation_failed', {
          errors: [{ field: 'password', message: 'is a common password' }],
        }),
    });
    renderApp('/settings/users');
    await userEvent.click(await screen.findByRole('button', { name: 'New user' }));
    const form = await screen.findByRole('form', { name: 'New user' });
    await userEvent.type(within(form).getByRole('textbox', { name: 'Email' }), 'new@acme.test');
    await userEvent.type(within(form).getByRole('textbox', { name: 'Name' }), 'New Person');
    await userEvent.type(within(form).getByLabelText(/^Initial password/), 'password1234');
    await userEvent.click(within(form).getByRole('button', { name: 'Create user' }));
    expect(await within(form).findByText('is a common password')).toBeInTheDocument();
    const post = calls(fetchMock).find((r) => r.method === 'POST' && r.url.endsWith('/api/v1/users'))!;
    expect(await post.json()).toMatchObject({
      email: 'new@acme.test',
      name: 'New Person',
      password: 'password1234',
      role: 'Viewer',
    });
  });

  it('sends the version with a role change and explains a 412 conflict', async () => {
    const sent: unknown[] = [];
    mockServer({
      ...signedIn(ADMIN),
      ...baseRoutes,
      'PATCH /api/v1/users/user-bob': async (r) => {
        sent.push(await r.json());
        return meridianProblem(412, 'precondition_failed', {
          current: { ...BOB, role: 'Admin', version: 4 },
        });
      },
    });
    renderApp('/settings/users');
    const select = await screen.findByRole('combobox', { name: 'Role of Bob' });
    await userEvent.click(select);
    await userEvent.click(await screen.findByRole('option', { name: 'Manager', hidden: true }));
    const conflict = await screen.findByTestId('conflict');
    expect(conflict).toHaveTextContent('Bob was changed since you loaded this page');
    expect(conflict).toHaveTextContent('Their role is now Admin');
    expect(sent).toEqual([{ role: 'Manager', version: 3 }]);
    // the row now shows the current record
    expect(screen.getByRole('combobox', { name: 'Role of Bob' })).toHaveValue('Admin');
  });

  it('shows a Viewer the users without "New user", and only the tabs they may see', async () => {
    mockServer({ ...signedIn(VIEWER), ...baseRoutes });
    renderApp('/settings/users');
    const row = await screen.findByTestId('user-row');
    expect(row).toHaveTextContent('Viewer');
    expect(screen.queryByRole('button', { name: 'New user' })).not.toBeInTheDocument();
    expect(within(row).queryByRole('combobox')).not.toBeInTheDocument();
    expect(screen.getAllByRole('tab').map((t) => t.textContent)).toEqual(['Users', 'Roles']);
  });

  it('answers a direct visit to a page the user may not see with "You don\'t have access"', async () => {
    const fetchMock = mockServer({ ...signedIn(VIEWER), ...baseRoutes });
    renderApp('/settings/api-keys');
    expect(await screen.findByTestId('no-access')).toHaveTextContent("You don't have access");
    // nothing was asked of the server that it would refuse
    expect(calls(fetchMock).some((r) => r.url.includes('/api-keys'))).toBe(false);
  });

  it('shows the 404 page for an unknown settings page', async () => {
    mockServer({ ...signedIn(ADMIN), ...baseRoutes });
    renderApp('/settings/no-such-page');
    expect(await screen.findByTestId('not-found')).toHaveTextContent('/settings/no-such-page');
  });

  it('hides Settings from someone who may see none of it', async () => {
    const engineer = { ...VIEWER, role: 'Engineer', permissions: ['equipment:*'] };
    mockServer({ ...signedIn(engineer), 'GET /health': () => json({ status: 'ok', version: '0.1.0' }) });
    renderApp('/settings');
    expect(await screen.findByTestId('no-access')).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).queryByRole('link', { name: 'Settings' })).not.toBeInTheDocument();
  });

  it('turns a 403 from the server into "You don\'t have access"', async () => {
    mockServer({
      ...signedIn(ADMIN),
      ...baseRoutes,
      'GET /api/v1/audit': () => meridianProblem(403, 'forbidden', { detail: 'needs audit:read' }),
    });
    renderApp('/settings/audit');
    expect(await screen.findByTestId('no-access')).toHaveTextContent('audit log');
  });

  it('filters the audit log and expands a row', async () => {
    const seen: string[] = [];
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/audit': (r) => {
        const url = new URL(r.url);
        seen.push(url.search);
        return json({
          data: [
            {
              seq: 7,
              id: 'a7',
              org_id: 'org',
              occurred_at: '2026-11-25T10:00:00Z',
              actor: 'user:ada',
              action: 'user.created',
              entity_type: 'user',
              entity_id: 'user-bob',
              changes: '{"role":"Viewer"}',
              ip: '10.1.2.3',
              user_agent: 'test',
              request_id: 'req-7',
              prev_hash: 'aaa',
              hash: 'bbb',
            },
          ],
          meta: { limit: 50, next_cursor: url.searchParams.has('cursor') ? null : 'next-page' },
        });
      },
    });
    renderApp('/settings/audit');
    await userEvent.type(await screen.findByRole('textbox', { name: 'Action' }), 'user.created');
    await waitFor(() => {
      expect(seen.at(-1)).toContain('action=user.created');
    });
    await screen.findByRole('button', { name: 'Load more' });
    await userEvent.click(screen.getAllByTestId('audit-row')[0]!);
    const details = await screen.findByTestId('audit-details');
    expect(details).toHaveTextContent('10.1.2.3');
    expect(details).toHaveTextContent('req-7');
    expect(within(details).getByTestId('audit-changes')).toHaveTextContent('"role": "Viewer"');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findAllByTestId('audit-row')).toHaveLength(2);
    expect(seen.at(-1)).toContain('cursor=next-page');
  });
});
