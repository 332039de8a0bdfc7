import { ApiError } from '../../api/client';
import { formatScaled, type Invoice, type LineDraft, parseDecimal } from '../../api/sales';

/** True when a refusal is the credit limit (422 naming `credit_limit`). */
export function isCreditLimit(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    error.status === 422 &&
    error.fieldErrors.some((f) => f.field === 'credit_limit')
  );
}

/**
 * Spreads `amount` over the chosen invoices, oldest first, each up to its balance: the
 * allocations a payment sends. Amounts are decimal strings; what is left stays on the payment.
 */
export function allocate(
  amount: string,
  invoices: readonly Pick<Invoice, 'id' | 'balance' | 'issued_on' | 'number'>[],
): { invoice_id: string; amount: string }[] {
  let left = parseDecimal(amount) ?? 0n;
  const out: { invoice_id: string; amount: string }[] = [];
  const ordered = [...invoices].sort(
    (a, b) => a.issued_on.localeCompare(b.issued_on) || a.number.localeCompare(b.number),
  );
  for (const inv of ordered) {
    if (left <= 0n) break;
    const balance = parseDecimal(inv.balance) ?? 0n;
    if (balance <= 0n) continue;
    const part = balance < left ? balance : left;
    out.push({ invoice_id: inv.id, amount: formatScaled(part, 4).replace(/\.?0+$/, '') || '0' });
    left -= part;
  }
  return out;
}

export interface EntryLine extends LineDraft {
  key: number;
  productId: string | null;
  /** True once the user typed a price: then it is sent instead of the price list's. */
  priceTouched: boolean;
}

let nextKey = 1;
export const blankLine = (): EntryLine => ({
  key: nextKey++,
  productId: null,
  quantity: '1',
  unitPrice: '',
  discountPct: '',
  taxPct: '',
  priceTouched: false,
});

/** The lines as `POST /api/v1/sales-orders` takes them (a typed price only when it was typed). */
export function orderLinesBody(lines: EntryLine[]) {
  return lines
    .filter((l) => l.productId)
    .map((l) => ({
      product_id: l.productId ?? '',
      quantity: l.quantity.trim(),
      unit_price: l.priceTouched && l.unitPrice.trim() ? l.unitPrice.trim() : null,
      discount_pct: l.discountPct.trim() || null,
      tax_pct: l.taxPct.trim() || null,
    }));
}
