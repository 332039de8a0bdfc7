import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import { cellErrorsCsv } from '../../components/importErrors';
import type { MarketShare } from '../../api/sales';
import { allocate, isCreditLimit, latestShareMonth, orderLinesBody, shareRows } from './logic';

describe('payment allocation', () => {
  const inv = (id: string, issued: string, balance: string) => ({
    id,
    number: id,
    issued_on: issued,
    balance,
  });

  it('pays the oldest invoices first, each up to its balance, and leaves the rest unallocated', () => {
    const invoices = [
      inv('B', '2026-02-01', '30.00'),
      inv('A', '2026-01-01', '50.00'),
      inv('C', '2026-03-01', '0.00'),
    ];
    expect(allocate('60', invoices)).toEqual([
      { invoice_id: 'A', amount: '50' },
      { invoice_id: 'B', amount: '10' },
    ]);
    expect(allocate('100', invoices)).toEqual([
      { invoice_id: 'A', amount: '50' },
      { invoice_id: 'B', amount: '30' },
    ]);
    expect(allocate('12.345', [inv('A', '2026-01-01', '50.00')])).toEqual([
      { invoice_id: 'A', amount: '12.345' },
    ]);
    expect(allocate('not money', invoices)).toEqual([]);
  });
});

describe('order entry', () => {
  it('sends a typed price only when the user typed one, and leaves out empty lines', () => {
    const base = { quantity: '2', unitPrice: '9.99', discountPct: '', taxPct: '16', key: 1 };
    expect(
      orderLinesBody([
        { ...base, productId: 'p1', priceTouched: false },
        { ...base, key: 2, productId: 'p2', priceTouched: true },
        { ...base, key: 3, productId: null, priceTouched: true },
      ]),
    ).toEqual([
      { product_id: 'p1', quantity: '2', unit_price: null, discount_pct: null, tax_pct: '16' },
      { product_id: 'p2', quantity: '2', unit_price: '9.99', discount_pct: null, tax_pct: '16' },
    ]);
  });

  it('tells the credit-limit refusal from other 422s', () => {
    const problem = (field: string) =>
      new ApiError({
        type: 'about:blank',
        code: 'validation_failed',
        title: 'Unprocessable',
        status: 422,
        errors: [{ field, message: 'no' }],
      });
    expect(isCreditLimit(problem('credit_limit'))).toBe(true);
    expect(isCreditLimit(problem('lines[0].quantity'))).toBe(false);
  });
});

describe('the error report', () => {
  it('writes the error report as CSV, quoting where needed', () => {
    expect(
      cellErrorsCsv([
        { row: 4, column: 'Sales Qty', message: 'not a number: "12,5"' },
        { row: 7, column: 'Date', message: 'missing' },
      ]),
    ).toBe('row,column,reason\n4,Sales Qty,"not a number: ""12,5"""\n7,Date,missing');
  });
});

describe('market share table', () => {
  const share: MarketShare = {
    by: 'region',
    months: ['2026-08', '2026-09', '2026-10', '2026-11', '2026-12'],
    series: [
      {
        key: 'Coast',
        ourValue: ['100', '100', '90', '80', '0'],
        marketValue: ['1000', '1000', '1000', '1000', null],
        share: [0.1, 0.1, 0.09, 0.08, null],
        change: null,
        change3m: null,
        eroding: false,
      },
      {
        key: 'Central',
        ourValue: ['300', '280', '260', '250', '0'],
        marketValue: ['1000', '1000', '1000', '1000', null],
        share: [0.3, 0.28, 0.26, 0.25, null],
        change: -0.05,
        change3m: -0.05,
        eroding: true,
      },
    ],
  };

  it('defaults to the last month with a market total', () => {
    expect(latestShareMonth(share)).toBe(3);
    expect(latestShareMonth({ ...share, series: [] })).toBe(4);
  });

  it('gives the change against the month before, and the server’s erosion flag, eroding first', () => {
    const rows = shareRows(share, 3);
    expect(rows.map((r) => r.key)).toEqual(['Central', 'Coast']);
    expect(rows[0]).toEqual({
      key: 'Central',
      ourValue: '250',
      marketValue: '1000',
      share: 0.25,
      changeVsPrevious: -0.01,
      change3m: -0.05,
      eroding: true,
    });
    expect(rows[1]?.changeVsPrevious).toBe(-0.01);
    // no month before the first, no share without a market total
    expect(shareRows(share, 0).every((r) => r.changeVsPrevious === null)).toBe(true);
    expect(shareRows(share, 4).every((r) => r.share === null && r.changeVsPrevious === null)).toBe(true);
  });
});
