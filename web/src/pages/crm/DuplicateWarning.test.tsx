import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Contact } from '../../api/crm';
import { ADMIN, json, meridianProblem, mockServer, renderApp, signedIn } from '../../test/utils';

const CREATED: Contact = {
  id: 'contact-new',
  first_name: 'John',
  last_name: 'Smith',
  email: 'john@smith.test',
  phone: null,
  title: null,
  company_id: null,
  owner_id: null,
  custom_fields: {},
  created_at: '2026-01-02T00:00:00Z',
  updated_at: '2026-01-02T00:00:00Z',
  version: 1,
};

let bodies: Record<string, unknown>[];

beforeEach(() => {
  bodies = [];
  mockServer({
    ...signedIn(ADMIN),
    'GET /api/v1/contacts': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
    'GET /api/v1/companies': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
    'GET /api/v1/contacts/contact-new': () => json({ data: CREATED }),
    'GET /api/v1/contacts/contact-new/timeline': () => json({ data: [] }),
    'POST /api/v1/contacts': async (request) => {
      const body = (await request.json()) as Record<string, unknown>;
      bodies.push(body);
      if (body.allow_duplicate === true) return json({ data: CREATED }, 201);
      return meridianProblem(409, 'possible_duplicate', {
        detail: 'this contact may already exist',
        duplicates: [
          { id: 'contact-1', matched_on: 'email', name: 'John Smith' },
          { id: 'contact-2', matched_on: 'name_at_company', name: 'Jon Smith' },
        ],
      });
    },
  });
});

async function fillAndCreate() {
  const user = userEvent.setup();
  renderApp('/crm/contacts');
  await user.click(await screen.findByRole('button', { name: 'New contact' }));
  const form = await screen.findByRole('form', { name: 'New contact' });
  await user.type(within(form).getByLabelText(/First name/), 'John');
  await user.type(within(form).getByLabelText('Last name'), 'Smith');
  await user.type(within(form).getByLabelText('Email'), 'john@smith.test');
  await user.click(within(form).getByRole('button', { name: 'Create' }));
  return { user, form };
}

describe('duplicate warning on contact create', () => {
  it('lists the possible duplicates with links, and "Create anyway" resends with allow_duplicate', async () => {
    const { user, form } = await fillAndCreate();
    const warning = await within(form).findByTestId('possible-duplicates');
    expect(within(warning).getByRole('link', { name: 'John Smith' })).toHaveAttribute(
      'href',
      '/crm/contacts/contact-1',
    );
    expect(warning).toHaveTextContent('John Smith (same email)');
    expect(warning).toHaveTextContent('Jon Smith (same name at the same company)');
    // the plain Create waits for a decision
    expect(within(form).getByRole('button', { name: 'Create' })).toBeDisabled();

    await user.click(within(warning).getByRole('button', { name: 'Create anyway' }));
    await screen.findByTestId('record-title');
    expect(bodies).toEqual([
      { first_name: 'John', last_name: 'Smith', email: 'john@smith.test' },
      { first_name: 'John', last_name: 'Smith', email: 'john@smith.test', allow_duplicate: true },
    ]);
  });

  it('drops the warning when the form is edited, so Create asks again', async () => {
    const { user, form } = await fillAndCreate();
    await within(form).findByTestId('possible-duplicates');
    await user.type(within(form).getByLabelText('Email'), 'x');
    await waitFor(() => {
      expect(within(form).queryByTestId('possible-duplicates')).toBeNull();
    });
    expect(within(form).getByRole('button', { name: 'Create' })).toBeEnabled();
    await user.click(within(form).getByRole('button', { name: 'Create' }));
    await within(form).findByTestId('possible-duplicates');
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).not.toHaveProperty('allow_duplicate');
  });
});
