import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import { cellErrorsCsv } from '../../components/importErrors';
import { allocate, isCreditLimit, orderLinesBody } from './logic';

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
