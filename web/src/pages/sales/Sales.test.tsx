import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../api/sales';
import {
  ADMIN,
  calls,
  json,
  meAs,
  meridianProblem,
  mockServer,
  pickOption,
  renderApp,
  signedIn,
} from '../../test/utils';

const STORE_ID = '00000000-0000-7000-8000-00000000c001';
const PRODUCT_ID = '00000000-0000-7000-8000-00000000d001';
const LIST_ID = '00000000-0000-7000-8000-00000000e001';
const ORDER_ID = '00000000-0000-7000-8000-00000000f001';
const T = '2026-12-01T10:00:00Z';

const STORE: Store = {
  id: STORE_ID,
  company_id: STORE_ID,
  region: 'Nairobi',
  city: 'Kibera',
  credit_limit: { amount: '100.00', currency: 'KES' },
  price_list_id: LIST_ID,
  created_at: T,
  updated_at: T,
  version: 1,
};

const TRENDS = {
  by: 'region',
  measure: 'value',
  months: ['2026-10', '2026-11'],
  series: [
    { key: 'Central', values: ['1000.00', '1200.00'], mom_growth: [null, 0.2], yoy_growth: [null, null] },
    { key: 'Coast', values: ['500.00', '400.00'], mom_growth: [null, -0.2], yoy_growth: [null, null] },
  ],
  total: {
    key: 'total',
    values: ['1500.00', '1600.00'],
    mom_growth: [null, 0.0667],
    yoy_growth: [null, null],
  },
  movers: {
    top: [{ key: 'Central', latest: '1200.00', previous: '1000.00', growth: 0.2 }],
    bottom: [{ key: 'Coast', latest: '400.00', previous: '500.00', growth: -0.2 }],
  },
  seasonality: [
    { month_of_year: 10, index: 0.97 },
    { month_of_year: 11, index: 1.03 },
  ],
};

const GAP = {
  region: 'Coast',
  province: 'Mombasa',
  precision_area: 'Nyali',
  pack_type: '1L PET',
  total_records: 4,
  zero_records: 3,
  zero_share: 0.75,
  flagged: true,
  urgency: 'HIGH',
  recommendation: 'Place 1L PET in Nyali: Nyali Corner Shop, Bamburi Kiosk sold none',
};

describe('sales dashboard', () => {
  it('tells the user to import sales data when there is none', async () => {
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/sales/trends': () => json({ data: { ...TRENDS, months: [], series: [] } }),
    });
    renderApp('/sales');
    const empty = await screen.findByTestId('empty-state');
    expect(empty).toHaveTextContent('No sales data yet');
    expect(within(empty).getByRole('link', { name: 'Import sales data' })).toHaveAttribute(
      'href',
      '/sales/imports/new',
    );
  });

  it('shows the KPIs, movers and alerts, then the gap heat map and the gaps to act on', async () => {
    const user = userEvent.setup();
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/sales/trends': () => json({ data: TRENDS }),
      'GET /api/v1/sales/distribution-gaps': () =>
        json({
          data: {
            period: { from: '2026-11-01', to: '2026-11-30' },
            rows: [GAP],
            summary: { total_records: 40, zero_records: 5, zero_share: 0.125, flagged: 1, high: 1 },
          },
        }),
      'GET /api/v1/sales/distribution-gaps/heatmap': () =>
        json({
          data: {
            period: { from: '2026-11-01', to: '2026-11-30' },
            row_labels: ['Central', 'Coast'],
            column_labels: ['1L PET', '330ml can'],
            cells: [
              {
                row: 'Coast',
                column: '1L PET',
                total_records: 4,
                zero_records: 3,
                zero_share: 0.75,
                urgency: 'HIGH',
              },
              {
                row: 'Central',
                column: '1L PET',
                total_records: 4,
                zero_records: 0,
                zero_share: 0,
                urgency: null,
              },
            ],
          },
        }),
      'GET /api/v1/sales/alerts': () =>
        json({
          data: [
            {
              id: 'a1',
              kind: 'sales.distribution_gap',
              priority: 'CRITICAL',
              key: 'Coast/Mombasa/Nyali/1L PET',
              period: '2026-11',
              title: '1L PET does not sell in Nyali (75% zero)',
              created_at: T,
            },
          ],
          meta: { limit: 50, next_cursor: null },
        }),
    });
    renderApp('/sales');
    // the decimal strings are summed as numbers: 1,600 in Nov, 3,100 over the year
    expect(await screen.findByTestId('kpi-sales-value')).toHaveTextContent('1.6K');
    expect(screen.getByTestId('kpi-sales-value')).toHaveTextContent('Nov 2026');
    expect(screen.getByTestId('kpi-last-12-months')).toHaveTextContent('3.1K');
    expect(screen.getByTestId('kpi-month-on-month')).toHaveTextContent('+6.7%');
    expect(screen.getByTestId('kpi-distribution-gaps')).toHaveTextContent('1 high');
    expect(
      within(screen.getByRole('table', { name: 'Top movers' })).getByText('Central'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByRole('table', { name: 'Bottom movers' })).getByText('-20.0%'),
    ).toBeInTheDocument();
    expect(
      await within(screen.getByTestId('alerts')).findByText(/does not sell in Nyali/),
    ).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Sales value by month' })).toBeInTheDocument();

    await user.click(screen.getByRole('tab', { name: 'Management' }));
    expect(
      await screen.findByRole('img', { name: 'Distribution gap heat map by region and pack type' }),
    ).toBeInTheDocument();
    const top = screen.getByRole('table', { name: 'Top gaps' });
    expect(within(top).getByText('HIGH')).toBeInTheDocument();
    expect(within(top).getByText(GAP.recommendation)).toBeInTheDocument();
    const heatmapQuery = calls(fetchMock)
      .map((r) => new URL(r.url))
      .find((u) => u.pathname.endsWith('/heatmap'));
    expect(Object.fromEntries(heatmapQuery?.searchParams ?? [])).toEqual({
      rows: 'region',
      columns: 'pack_type',
    });
  });
});

describe("today's calls", () => {
  it('lists the stores by priority with their reasons, expected order, basket and upsell', async () => {
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/sales/call-list': () =>
        json({
          data: {
            rep_id: ADMIN.user?.id,
            on: '2026-12-04',
            stores: [
              {
                store_id: STORE_ID,
                name: 'Duka la Mama Njeri',
                score: 82,
                reasons: [
                  { factor: 'overdue', points: 40, detail: 'Expected an order 5 days ago' },
                  { factor: 'value_drop', points: 22, detail: 'Bought 30% less than last month' },
                ],
                expected_on: '2026-11-29',
                overdue_days: 5,
                basket: [
                  {
                    sku: 'COLA-330',
                    product_id: null,
                    name: 'Cola 330ml',
                    expected_qty: 10,
                    probability: 0.9,
                  },
                ],
                upsell: [
                  {
                    sku: 'COLA-1L',
                    product_id: null,
                    name: 'Cola 1L',
                    score: 0.8,
                    lift: 2.1,
                    similar_stores_share: 0.7,
                    reason: 'Sold by 7 of 10 similar stores',
                  },
                ],
              },
              {
                store_id: 'other',
                name: 'Bamburi Kiosk',
                score: 41,
                reasons: [{ factor: 'due', points: 41, detail: 'Due today' }],
                expected_on: '2026-12-04',
                overdue_days: 0,
                basket: [],
                upsell: [],
              },
            ],
          },
        }),
    });
    renderApp('/sales/calls');
    const cards = await screen.findAllByTestId('call-card');
    expect(cards).toHaveLength(2);
    const [first, second] = cards;
    expect(first).toHaveTextContent('Duka la Mama Njeri');
    expect(first).toHaveTextContent('Expected an order 5 days ago');
    expect(first).toHaveTextContent('5 days overdue');
    expect(first).toHaveTextContent('Cola 330ml ×10');
    expect(first).toHaveTextContent('Cola 1L (70%)');
    expect(within(first!).getByRole('link', { name: 'Take an order' })).toHaveAttribute(
      'href',
      `/sales/orders/new?store=${STORE_ID}`,
    );
    expect(second).toHaveTextContent('Bamburi Kiosk');
    const query = calls(fetchMock)
      .map((r) => new URL(r.url))
      .find((u) => u.pathname === '/api/v1/sales/call-list');
    expect(query?.searchParams.get('rep_id')).toBe(ADMIN.user?.id);
  });
});

describe('order entry', () => {
  it('prices from the price list, totals live, and opens the order with the credit-limit refusal', async () => {
    const user = userEvent.setup();
    const order = {
      id: ORDER_ID,
      number: 'SO-2026-00001',
      store_id: STORE_ID,
      status: 'draft',
      currency: 'KES',
      order_date: '2026-12-04',
      lines: [],
      subtotal: '125.00',
      discount: '0.00',
      tax: '20.00',
      total: '145.00',
      created_at: T,
      updated_at: T,
      version: 1,
    };
    const fetchMock = mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/stores': () => json({ data: [STORE], meta: { limit: 500, next_cursor: null } }),
      [`GET /api/v1/companies/${STORE_ID}`]: () =>
        json({ data: { id: STORE_ID, name: 'Duka la Mama Njeri' } }),
      'GET /api/v1/products': () =>
        json({
          data: [
            {
              id: PRODUCT_ID,
              sku: 'COLA-330',
              name: 'Cola 330ml',
              unit_of_measure: 'case',
              created_at: T,
              updated_at: T,
              version: 1,
            },
          ],
          meta: { limit: 500, next_cursor: null },
        }),
      'GET /api/v1/price-lists': () =>
        json({ data: [{ id: LIST_ID, name: 'Nairobi trade', items: [], created_at: T, version: 1 }] }),
      [`GET /api/v1/price-lists/${LIST_ID}`]: () =>
        json({
          data: {
            id: LIST_ID,
            name: 'Nairobi trade',
            items: [
              {
                id: 'i1',
                product_id: PRODUCT_ID,
                unit_price: '12.50',
                currency: 'KES',
                valid_from: '2020-01-01',
              },
            ],
            created_at: T,
            version: 1,
          },
        }),
      'POST /api/v1/sales-orders': () => json({ data: order }, 201),
      [`PATCH /api/v1/sales-orders/${ORDER_ID}`]: () =>
        meridianProblem(422, 'validation_failed', {
          detail:
            "the store's open balance 0.00 KES plus this order's 145.00 would be 145.00, over its credit limit of 100.00",
          errors: [{ field: 'credit_limit', message: 'confirming this order would exceed the credit limit' }],
        }),
      [`GET /api/v1/sales-orders/${ORDER_ID}`]: () => json({ data: order }),
    });
    renderApp(`/sales/orders/new?store=${STORE_ID}`);
    await screen.findByRole('heading', { name: 'New order' });
    await pickOption(
      user,
      await screen.findByRole('combobox', { name: 'Product of line 1' }),
      'COLA-330 · Cola 330ml',
    );
    await waitFor(() => {
      expect(screen.getByRole('textbox', { name: 'Unit price of line 1' })).toHaveValue('12.50');
    });
    await user.clear(screen.getByRole('textbox', { name: 'Quantity of line 1' }));
    await user.type(screen.getByRole('textbox', { name: 'Quantity of line 1' }), '10');
    await user.type(screen.getByRole('textbox', { name: 'Tax of line 1' }), '16');
    expect(within(screen.getByTestId('order-totals')).getByTestId('order-total')).toHaveTextContent(
      '145.00 KES',
    );

    await user.click(screen.getByRole('button', { name: 'Save and confirm' }));
    const refusal = await screen.findByTestId('credit-limit');
    expect(refusal).toHaveTextContent('over its credit limit of 100.00');
    // an Admin may override, with a reason
    expect(within(refusal).getByRole('button', { name: 'Confirm over the limit' })).toBeDisabled();
    const post = calls(fetchMock).find((r) => r.method === 'POST' && r.url.endsWith('/api/v1/sales-orders'));
    // the list price is the server's to apply: no unit price is sent
    expect(await post?.clone().json()).toMatchObject({
      store_id: STORE_ID,
      lines: [{ product_id: PRODUCT_ID, quantity: '10', unit_price: null, tax_pct: '16' }],
    });
  });

  it('shows a Sales Rep no override, and no import tab', async () => {
    const rep = meAs('Sales Rep', [
      'sales:read',
      'stores:read:own',
      'orders:read:own',
      'orders:create',
      'orders:update:own',
    ]);
    mockServer({
      ...signedIn(rep),
      'GET /api/v1/stores': () => json({ data: [], meta: { limit: 50, next_cursor: null } }),
    });
    renderApp('/sales/stores');
    const tabs = await screen.findByRole('tablist', { name: 'Sales pages' });
    expect(within(tabs).getByRole('tab', { name: 'Stores' })).toBeInTheDocument();
    expect(within(tabs).queryByRole('tab', { name: 'Imports' })).not.toBeInTheDocument();
    expect(await screen.findByTestId('empty-state')).toHaveTextContent('No stores here');
  });
});
