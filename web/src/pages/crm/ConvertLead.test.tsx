import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Company, Contact, Deal } from '../../api/crm';
import { COMPANY, deal, LEAD, PIPELINE } from '../../test/crm';
import { ADMIN, json, meridianProblem, mockServer, renderApp, type Routes, signedIn } from '../../test/utils';

const CONTACT: Contact = {
  id: 'contact-9',
  first_name: 'John',
  last_name: 'Smith',
  email: 'john@smith.test',
  phone: null,
  title: null,
  company_id: 'company-9',
  owner_id: null,
  custom_fields: {},
  created_at: '2026-01-02T00:00:00Z',
  updated_at: '2026-01-02T00:00:00Z',
  version: 1,
};
const NEW_COMPANY: Company = { ...COMPANY, id: 'company-9', name: 'Smith Logistics' };
const NEW_DEAL: Deal = deal('deal-9', 'stage-qualified', 0, { title: 'Rollout', amount: '12500.00' });

let convert: (request: Request) => Response | Promise<Response>;
let bodies: unknown[];

beforeEach(() => {
  bodies = [];
  convert = () =>
    json({
      data: {
        lead: { ...LEAD, status: 'Converted', converted_at: '2026-01-02T00:00:00Z', version: 3 },
        contact: CONTACT,
        company: NEW_COMPANY,
        deal: NEW_DEAL,
      },
    });
  const routes: Routes = {
    ...signedIn(ADMIN),
    'GET /api/v1/pipelines': () => json({ data: [PIPELINE] }),
    'GET /api/v1/leads/lead-1': () => json({ data: LEAD }),
    'GET /api/v1/leads/lead-1/timeline': () => json({ data: [] }),
    'GET /api/v1/companies': () => json({ data: [COMPANY], meta: { next_cursor: null, limit: 50 } }),
    'GET /api/v1/companies/company-1': () => json({ data: COMPANY }),
    'POST /api/v1/leads/lead-1/convert': async (request) => {
      bodies.push(await request.clone().json());
      return convert(request);
    },
  };
  mockServer(routes);
});

async function openDialog() {
  const user = userEvent.setup();
  renderApp('/crm/leads/lead-1');
  await user.click(await screen.findByRole('button', { name: 'Convert' }));
  const form = await screen.findByRole('form', { name: 'Convert lead' });
  return { user, form };
}

describe('lead conversion dialog', () => {
  it('converts into a new company and a deal, then links to the new records', async () => {
    const { user, form } = await openDialog();
    // the lead's company name is the default for the new company
    expect(within(form).getByLabelText('New company name')).toHaveValue('Smith Logistics');
    await user.clear(within(form).getByLabelText(/Deal title/));
    await user.type(within(form).getByLabelText(/Deal title/), 'Rollout');
    await user.type(within(form).getByLabelText(/Amount/), '12500.00');
    await user.click(within(form).getByRole('combobox', { name: 'Stage' }));
    await user.click(await screen.findByRole('option', { name: 'Qualified', hidden: true }));
    // "Won" is not an open stage: a deal is not opened in it
    expect(screen.queryByRole('option', { name: 'Won', hidden: true })).toBeNull();
    await user.click(within(form).getByRole('button', { name: 'Convert' }));

    const result = await screen.findByTestId('conversion-result');
    expect(bodies).toEqual([
      {
        version: 2,
        company_name: 'Smith Logistics',
        deal: { title: 'Rollout', amount: '12500.00', currency: 'EUR', stage_id: 'stage-qualified' },
      },
    ]);
    expect(within(result).getByRole('link', { name: 'Contact: John Smith' })).toHaveAttribute(
      'href',
      '/crm/contacts/contact-9',
    );
    expect(within(result).getByRole('link', { name: 'Company: Smith Logistics' })).toHaveAttribute(
      'href',
      '/crm/companies/company-9',
    );
    expect(within(result).getByRole('link', { name: 'Deal: Rollout' })).toHaveAttribute(
      'href',
      '/crm/deals/deal-9',
    );
  });

  it('converts into an existing company found by search, without a deal', async () => {
    const { user, form } = await openDialog();
    await user.click(within(form).getByRole('radio', { name: 'Existing company' }));
    await user.type(within(form).getByRole('combobox', { name: /Existing company/ }), 'north');
    await user.click(await screen.findByRole('option', { name: 'Northwind Traders', hidden: true }));
    await user.click(within(form).getByRole('checkbox', { name: 'Also open a deal' }));
    await user.click(within(form).getByRole('button', { name: 'Convert' }));
    await screen.findByTestId('conversion-result');
    expect(bodies).toEqual([{ version: 2, company_id: 'company-1', deal: null }]);
  });

  it('shows field errors next to their fields, and the "already converted" refusal', async () => {
    convert = () =>
      meridianProblem(422, 'validation_failed', {
        detail: 'deal.amount: not a decimal',
        errors: [{ field: 'deal.amount', message: 'is not a decimal amount' }],
      });
    const { user, form } = await openDialog();
    await user.type(within(form).getByLabelText(/Amount/), 'lots');
    await user.click(within(form).getByRole('button', { name: 'Convert' }));
    expect(await within(form).findByText('is not a decimal amount')).toBeInTheDocument();
    expect(within(form).getByLabelText(/Amount/)).toHaveAttribute('aria-invalid', 'true');

    convert = () => meridianProblem(422, 'unprocessable', { detail: 'the lead is already converted' });
    await user.click(within(form).getByRole('button', { name: 'Convert' }));
    await waitFor(() => {
      expect(within(form).getByRole('alert')).toHaveTextContent('the lead is already converted');
    });
    expect(screen.queryByTestId('conversion-result')).toBeNull();
  });
});
