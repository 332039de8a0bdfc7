// Fixtures of the CRM API for unit tests.
import type { Board, BoardColumn, Company, Deal, Lead, Pipeline, Stage } from '../api/crm';

export const PIPELINE_ID = '10000000-0000-7000-8000-000000000001';

export function stage(position: number, name: string, probability: number, kind = 'open'): Stage {
  return { id: `stage-${name.toLowerCase()}`, name, position, probability, kind };
}

export const STAGES: Stage[] = [
  stage(0, 'Lead', 10),
  stage(1, 'Qualified', 25),
  stage(2, 'Proposal', 50),
  stage(3, 'Won', 100, 'won'),
];

export const PIPELINE: Pipeline = { id: PIPELINE_ID, name: 'Sales', is_default: true, stages: STAGES };

export const COMPANY: Company = {
  id: 'company-1',
  name: 'Northwind Traders',
  industry: 'Wholesale',
  domain: null,
  owner_id: null,
  site_id: null,
  custom_fields: {},
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  version: 1,
};

export function deal(id: string, stageId: string, position: number, extra: Partial<Deal> = {}): Deal {
  return {
    id,
    title: `Deal ${id}`,
    amount: '1000.00',
    currency: 'EUR',
    pipeline_id: PIPELINE_ID,
    stage_id: stageId,
    position,
    probability: 10,
    status: 'open',
    company_id: COMPANY.id,
    owner_id: null,
    expected_close_date: null,
    lost_reason: null,
    custom_fields: {},
    contact_ids: [],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    version: 3,
    ...extra,
  };
}

/** A board with the given deals per stage name (in order). */
export function board(deals: Record<string, Deal[]>): Board {
  return {
    pipeline_id: PIPELINE_ID,
    columns: STAGES.map((s): BoardColumn => ({
      stage: s,
      deals: deals[s.name] ?? [],
      count: (deals[s.name] ?? []).length,
      totals: (deals[s.name] ?? []).length
        ? [{ currency: 'EUR', amount: '1000.00', weighted: (10 * s.probability).toFixed(2) }]
        : [],
    })),
  };
}

export const LEAD: Lead = {
  id: 'lead-1',
  first_name: 'John',
  last_name: 'Smith',
  company_name: 'Smith Logistics',
  email: 'john@smith.test',
  phone: null,
  source: 'Website',
  status: 'Qualified',
  owner_id: null,
  company_id: null,
  contact_id: null,
  deal_id: null,
  custom_fields: {},
  converted_at: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  version: 2,
};
