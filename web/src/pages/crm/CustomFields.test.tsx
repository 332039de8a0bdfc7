import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Contact } from '../../api/crm';
import type { CustomField } from '../../api/customFields';
import { COMPANY } from '../../test/crm';
import {
  ADMIN,
  calls,
  json,
  meridianProblem,
  mockServer,
  pickOption,
  renderApp,
  signedIn,
} from '../../test/utils';

function field(
  key: string,
  label: string,
  kind: CustomField['kind'],
  extra: Partial<CustomField> = {},
): CustomField {
  return {
    id: `cf-${key}`,
    object: 'contacts',
    key,
    label,
    kind,
    options: [],
    link_object: null,
    required: false,
    version: 1,
    created_at: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

const FIELDS: CustomField[] = [
  field('nickname', 'Nickname', 'text'),
  field('seats', 'Seats', 'number'),
  field('renewal', 'Renewal date', 'date'),
  field('vip', 'VIP', 'boolean'),
  field('tier', 'Tier', 'select', { options: ['Gold', 'Silver'] }),
  field('interests', 'Interests', 'multi_select', { options: ['Coolers', 'Freezers', 'Service'] }),
  field('budget', 'Budget', 'currency'),
  field('referrer', 'Referred by', 'link', { link_object: 'companies' }),
];

const VALUES = {
  nickname: 'Johnny',
  seats: 5,
  renewal: '2026-03-01',
  vip: false,
  tier: 'Silver',
  interests: ['Coolers'],
  budget: { amount: '1000.00', currency: 'EUR' },
  referrer: 'company-1',
};

type WithFields = Contact & { custom_fields: Record<string, unknown> };

const CONTACT: WithFields = {
  id: 'contact-1',
  first_name: 'John',
  last_name: 'Smith',
  email: null,
  phone: null,
  title: null,
  company_id: null,
  owner_id: null,
  created_at: '2026-01-02T00:00:00Z',
  updated_at: '2026-01-02T00:00:00Z',
  version: 1,
  custom_fields: VALUES,
};

let patches: unknown[];
let patchAnswer: ((body: Record<string, unknown>) => Response) | null;

beforeEach(() => {
  patches = [];
  patchAnswer = null;
  let current = CONTACT;
  mockServer({
    ...signedIn(ADMIN),
    'GET /api/v1/custom-fields': (request) =>
      json({ data: new URL(request.url).searchParams.get('object') === 'contacts' ? FIELDS : [] }),
    'GET /api/v1/contacts/contact-1': () => json({ data: current }),
    'GET /api/v1/contacts/contact-1/timeline': () => json({ data: [] }),
    'GET /api/v1/companies/company-1': () => json({ data: COMPANY }),
    'GET /api/v1/companies/company-9': () =>
      json({ data: { ...COMPANY, id: 'company-9', name: 'Smith Logistics' } }),
    'GET /api/v1/search': () =>
      json({ data: [{ record_type: 'company', id: 'company-9', title: 'Smith Logistics', score: 0.9 }] }),
    'PATCH /api/v1/contacts/contact-1': async (request) => {
      const body = (await request.json()) as { custom_fields: Record<string, unknown>; version: number };
      patches.push(body);
      if (patchAnswer) return patchAnswer(body);
      const merged = Object.fromEntries(
        Object.entries({ ...current.custom_fields, ...body.custom_fields }).filter(([, v]) => v !== null),
      );
      current = { ...current, custom_fields: merged, version: current.version + 1 };
      return json({ data: current });
    },
  });
});

async function openContact() {
  const user = userEvent.setup();
  renderApp('/crm/contacts/contact-1');
  const card = await screen.findByTestId('custom-fields');
  await within(card).findByText('Renewal date');
  return { user, card };
}

const value = (key: string) => screen.getByTestId(`cf-value-${key}`);

describe('custom fields on a record page', () => {
  it('shows every kind of value', async () => {
    await openContact();
    expect(value('nickname')).toHaveTextContent('Johnny');
    expect(value('seats')).toHaveTextContent('5');
    expect(value('vip')).toHaveTextContent('No');
    expect(value('tier')).toHaveTextContent('Silver');
    expect(value('interests')).toHaveTextContent('Coolers');
    expect(value('budget')).toHaveTextContent('€1,000');
    expect(await within(value('referrer')).findByRole('link', { name: 'Northwind Traders' })).toHaveAttribute(
      'href',
      '/crm/companies/company-1',
    );
  });

  it(
    'edits each kind with its own input and PATCHes the value in the API shape',
    { timeout: 120_000 },
    async () => {
      const { user } = await openContact();
      const edit = async (label: string) => {
        await user.click(screen.getByRole('button', { name: `Edit ${label}` }));
        return screen.findByRole('form', { name: `Edit ${label}` });
      };
      const save = async (form: HTMLElement, label: string) => {
        await user.click(within(form).getByRole('button', { name: `Save ${label}` }));
        await waitFor(() => {
          expect(screen.queryByRole('form', { name: `Edit ${label}` })).toBeNull();
        });
      };
      const last = () => patches.at(-1) as { custom_fields: Record<string, unknown>; version: number };

      // text
      let form = await edit('Nickname');
      await user.clear(within(form).getByRole('textbox', { name: 'Nickname' }));
      await user.type(within(form).getByRole('textbox', { name: 'Nickname' }), 'JJ');
      await save(form, 'Nickname');
      await waitFor(() => {
        expect(patches).toHaveLength(1);
      });
      expect(last()).toEqual({ custom_fields: { nickname: 'JJ' }, version: 1 });
      await waitFor(() => {
        expect(value('nickname')).toHaveTextContent('JJ');
      });

      // number: a JSON number
      form = await edit('Seats');
      await user.clear(within(form).getByRole('textbox', { name: 'Seats' }));
      await user.type(within(form).getByRole('textbox', { name: 'Seats' }), '12');
      await save(form, 'Seats');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { seats: 12 }, version: 2 });
      });

      // date: YYYY-MM-DD
      form = await edit('Renewal date');
      fireEvent.change(within(form).getByLabelText('Renewal date'), { target: { value: '2026-04-15' } });
      await save(form, 'Renewal date');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { renewal: '2026-04-15' }, version: 3 });
      });

      // boolean
      form = await edit('VIP');
      await user.click(within(form).getByRole('checkbox', { name: 'VIP' }));
      await save(form, 'VIP');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { vip: true }, version: 4 });
      });
      await waitFor(() => {
        expect(value('vip')).toHaveTextContent('Yes');
      });

      // select: one of the options
      form = await edit('Tier');
      await pickOption(user, within(form).getByRole('combobox', { name: 'Tier' }), 'Gold');
      await save(form, 'Tier');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { tier: 'Gold' }, version: 5 });
      });

      // multi select: a list of options
      form = await edit('Interests');
      await pickOption(user, within(form).getByRole('combobox', { name: 'Interests' }), 'Freezers');
      await save(form, 'Interests');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { interests: ['Coolers', 'Freezers'] }, version: 6 });
      });

      // currency: a decimal string and a currency
      form = await edit('Budget');
      await user.clear(within(form).getByRole('textbox', { name: 'Budget' }));
      await user.type(within(form).getByRole('textbox', { name: 'Budget' }), '2500.50');
      await pickOption(user, within(form).getByRole('combobox', { name: 'Budget currency' }), 'USD');
      await save(form, 'Budget');
      await waitFor(() => {
        expect(last()).toEqual({
          custom_fields: { budget: { amount: '2500.50', currency: 'USD' } },
          version: 7,
        });
      });

      // link: the id of a record found by search
      form = await edit('Referred by');
      await user.clear(within(form).getByRole('combobox', { name: 'Referred by' }));
      await user.type(within(form).getByRole('combobox', { name: 'Referred by' }), 'smi');
      await waitFor(() => {
        expect(calls(fetchMockRequests()).some((r) => r.url.endsWith('/api/v1/search?q=smi&limit=30'))).toBe(
          true,
        );
      });
      await pickOption(user, within(form).getByRole('combobox', { name: 'Referred by' }), 'Smith Logistics');
      await save(form, 'Referred by');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { referrer: 'company-9' }, version: 8 });
      });

      // emptying a value removes it (null)
      form = await edit('Nickname');
      await user.clear(within(form).getByRole('textbox', { name: 'Nickname' }));
      await save(form, 'Nickname');
      await waitFor(() => {
        expect(last()).toEqual({ custom_fields: { nickname: null }, version: 9 });
      });
      await waitFor(() => {
        expect(value('nickname')).toHaveTextContent('–');
      });
    },
  );

  it("shows the server's validation error next to the field", async () => {
    patchAnswer = () =>
      meridianProblem(422, 'validation_failed', {
        errors: [{ field: 'custom_fields.seats', message: 'must be a whole number' }],
      });
    const { user } = await openContact();
    await user.click(screen.getByRole('button', { name: 'Edit Seats' }));
    const form = await screen.findByRole('form', { name: 'Edit Seats' });
    await user.clear(within(form).getByRole('textbox', { name: 'Seats' }));
    await user.type(within(form).getByRole('textbox', { name: 'Seats' }), '1.5');
    await user.click(within(form).getByRole('button', { name: 'Save Seats' }));
    expect(await within(screen.getByTestId('cf-seats')).findByRole('alert')).toHaveTextContent(
      'must be a whole number',
    );
    expect(patches).toEqual([{ custom_fields: { seats: 1.5 }, version: 1 }]);
  });
});

describe('required custom fields in the create dialog', () => {
  it('asks for them and sends them in custom_fields', async () => {
    const bodies: unknown[] = [];
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/custom-fields': () =>
        json({
          data: [field('tier', 'Tier', 'select', { options: ['Gold', 'Silver'], required: true }), FIELDS[0]],
        }),
      'GET /api/v1/contacts': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
      'GET /api/v1/companies': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
      'POST /api/v1/contacts': async (request) => {
        bodies.push(await request.json());
        return meridianProblem(422, 'validation_failed', {
          errors: [{ field: 'custom_fields.tier', message: 'is not one of the options' }],
        });
      },
    });
    const user = userEvent.setup();
    renderApp('/crm/contacts');
    await user.click(await screen.findByRole('button', { name: 'New contact' }));
    const form = await screen.findByRole('form', { name: 'New contact' });
    await user.type(within(form).getByLabelText(/First name/), 'Ada');
    // only the required one: the others are set on the record page
    expect(within(form).queryByRole('textbox', { name: 'Nickname' })).toBeNull();
    await pickOption(
      user,
      await within(form).findByRole('combobox', { name: /Tier/ }, { timeout: 5000 }),
      'Gold',
    );
    await user.click(within(form).getByRole('button', { name: 'Create' }));
    expect(await within(form).findByText('is not one of the options')).toBeInTheDocument();
    expect(bodies).toEqual([{ first_name: 'Ada', custom_fields: { tier: 'Gold' } }]);
  });
});

/** The global fetch mock (installed by mockServer). */
function fetchMockRequests() {
  return globalThis.fetch as unknown as Parameters<typeof calls>[0];
}
