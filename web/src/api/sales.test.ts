import { describe, expect, it } from 'vitest';
import { ApiError } from './client';
import {
  formatMoney,
  formatScaled,
  importErrorsOf,
  lineAmounts,
  marketShareFromWire,
  marketTotalsErrors,
  orderAmounts,
  parseDecimal,
  priceInForce,
  type PriceListItem,
  salesFileType,
  salesImportQuery,
  storeListQuery,
} from './sales';

const line = (quantity: string, unitPrice: string, discountPct = '', taxPct = '') => ({
  quantity,
  unitPrice,
  discountPct,
  taxPct,
});

describe('exact money', () => {
  it('parses plain decimals with at most 4 places and refuses the rest', () => {
    expect(parseDecimal('12.5')).toBe(125000n);
    expect(parseDecimal('0.0001')).toBe(1n);
    expect(parseDecimal('-3')).toBe(-30000n);
    expect(parseDecimal('1.23456')).toBeNull();
    expect(parseDecimal('1e3')).toBeNull();
    expect(parseDecimal('')).toBeNull();
    expect(parseDecimal('.')).toBeNull();
    expect(formatScaled(125000n)).toBe('12.50');
    expect(formatScaled(-5n, 4)).toBe('-0.0005');
  });

  it('computes a line as the server does: gross, discount and tax rounded half away from zero', () => {
    // 3 × 1.999 = 5.997 → 6.00 (the server's own example)
    expect(lineAmounts(line('3', '1.999'), 'EUR')?.gross).toBe(parseDecimal('6.00'));
    // 10 × 12.50 = 125.00; 16% tax = 20.00
    const a = lineAmounts(line('10', '12.50', '', '16'), 'KES');
    expect(a && formatScaled(a.total)).toBe('145.00');
    // 7 × 3.33 = 23.31; 12.5% off = 2.91375 → 2.91; net 20.40; 7% tax = 1.428 → 1.43
    const b = lineAmounts(line('7', '3.33', '12.5', '7'), 'EUR');
    expect(b && [b.gross, b.discount, b.net, b.tax, b.total].map((v) => formatScaled(v))).toEqual([
      '23.31',
      '2.91',
      '20.40',
      '1.43',
      '21.83',
    ]);
    // a currency without minor units rounds to whole units
    expect(lineAmounts(line('3', '333.5'), 'JPY')?.gross).toBe(parseDecimal('1001'));
    expect(lineAmounts(line('x', '1'), 'EUR')).toBeNull();
  });

  it('sums rounded lines into the order totals', () => {
    const totals = orderAmounts([
      lineAmounts(line('1', '0.005'), 'EUR'),
      null,
      lineAmounts(line('1', '0.005'), 'EUR'),
    ]);
    // each line rounds 0.005 → 0.01 first: 0.02, never 0.01
    expect(formatScaled(totals.total)).toBe('0.02');
  });

  it('formats amounts with grouping and the currency', () => {
    expect(formatMoney('1250', 'EUR')).toBe('1,250.00 EUR');
    expect(formatMoney('1234567.891', 'BHD')).toBe('1,234,567.891 BHD');
    expect(formatMoney(-125000n, 'KES')).toBe('-12.50 KES');
    expect(formatMoney(null, 'EUR')).toBe('–');
  });
});

describe('price in force', () => {
  const item = (id: string, from: string, to: string | null, price: string): PriceListItem => ({
    id,
    product_id: 'p1',
    unit_price: price,
    currency: 'EUR',
    valid_from: from,
    valid_to: to,
  });
  const items = [
    item('old', '2026-01-01', null, '10.00'),
    item('spring', '2026-03-01', '2026-05-31', '9.00'),
    item('future', '2027-01-01', null, '11.00'),
  ];

  it('takes the latest valid_from on or before the date whose valid_to has not passed', () => {
    expect(priceInForce(items, 'p1', '2026-02-10')?.id).toBe('old');
    expect(priceInForce(items, 'p1', '2026-03-01')?.id).toBe('spring');
    expect(priceInForce(items, 'p1', '2026-05-31')?.id).toBe('spring');
    expect(priceInForce(items, 'p1', '2026-06-01')?.id).toBe('old');
    expect(priceInForce(items, 'p1', '2025-12-31')).toBeNull();
    expect(priceInForce(items, 'p2', '2026-06-01')).toBeNull();
  });
});

describe('sales import requests', () => {
  it('builds the query string of the contract', () => {
    expect(salesImportQuery({ mapping: 'sheet6', dryRun: true, fileName: 'jan.csv' })).toBe(
      'mapping=sheet6&dry_run=true&file_name=jan.csv',
    );
    expect(salesImportQuery({ mapping: 'mine', dryRun: false, skipInvalid: true, background: true })).toBe(
      'mapping=mine&dry_run=false&skip_invalid=true&background=true',
    );
    expect(salesFileType('Sales.XLSX')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(salesFileType('a.csv')).toBe('text/csv');
    expect(salesFileType('a.txt')).toBeNull();
  });

  it('reads the row errors of a refused commit', () => {
    const refused = new ApiError({
      type: 'about:blank',
      code: 'validation_failed',
      title: 'Unprocessable',
      status: 422,
      errors: [{ row: 3, column: 'Sales Qty', reason: 'not a number' }] as unknown as [],
    });
    expect(importErrorsOf(refused)).toEqual([{ row: 3, column: 'Sales Qty', reason: 'not a number' }]);
    const fieldOnly = new ApiError({
      type: 'about:blank',
      code: 'validation_failed',
      title: 'Unprocessable',
      status: 422,
      errors: [{ field: 'mapping', message: 'unknown' }],
    });
    expect(importErrorsOf(fieldOnly)).toBeNull();
    expect(importErrorsOf(new Error('x'))).toBeNull();
  });
});

describe('store search', () => {
  it('sends the search to the server with the filters, trimmed, empty ones blank', () => {
    expect(
      storeListQuery({ q: '  Duka la ', region: ' Coast', channel: '', assigned_rep: 'u1' }, 'c2'),
    ).toEqual({
      limit: 50,
      cursor: 'c2',
      sort: 'region',
      q: 'Duka la',
      region: 'Coast',
      channel: '',
      assigned_rep: 'u1',
    });
    expect(
      storeListQuery({ q: 'x'.repeat(250), region: '', channel: '', assigned_rep: '' }, null).q,
    ).toHaveLength(200);
  });
});

describe('market share', () => {
  it('reads the report, missing values as null', () => {
    const share = marketShareFromWire({
      by: 'region',
      months: ['2026-10', '2026-11'],
      series: [
        {
          key: 'Coast',
          our_value: ['0', '150'],
          market_value: [null, '1000'],
          share: [null, 0.15],
          change_3m: null,
          eroding: false,
        },
      ],
    });
    expect(share.series[0]).toEqual({
      key: 'Coast',
      ourValue: ['0', '150'],
      marketValue: [null, '1000'],
      share: [null, 0.15],
      change: null,
      change3m: null,
      eroding: false,
    });
  });

  it('splits a refused upload into bad cells by spreadsheet row and problems of the whole file', () => {
    expect(
      marketTotalsErrors([
        { field: 'rows[3].market_value', message: 'must be a decimal number' },
        { field: 'rows[4].month', message: 'must be a month YYYY-MM' },
        { field: 'rows[7]', message: 'unreadable CSV row' },
        { field: 'columns.region', message: 'missing column' },
        { field: 'rows', message: '2026-11 / Coast / 1L PET appears twice' },
      ]),
    ).toEqual({
      cells: [
        { row: 3, column: 'market_value', message: 'must be a decimal number' },
        { row: 4, column: 'month', message: 'must be a month YYYY-MM' },
        { row: 7, column: '(row)', message: 'unreadable CSV row' },
      ],
      general: [
        { field: 'columns.region', message: 'missing column' },
        { field: 'rows', message: '2026-11 / Coast / 1L PET appears twice' },
      ],
    });
  });
});
