import { ApiError } from '../../api/client';
import { formatScaled, type Invoice, type LineDraft, type MarketShare, parseDecimal } from '../../api/sales';

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

/** One row of the market-share table: a region (or pack type) in one month. */
export interface ShareRow {
  key: string;
  ourValue: string | null;
  marketValue: string | null;
  share: number | null;
  /** Share minus the previous month's (fraction points); null unless both months have one. */
  changeVsPrevious: number | null;
  /** The server's 3-month change and erosion flag (measured at the last month of the range). */
  change3m: number | null;
  eroding: boolean;
}

/** Rounds away the float noise of a difference of two 6-decimal shares. */
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The market-share table for month `index` of the report: per key our sales, the market
 * total, the share and its change against the month before; the erosion flag and the
 * 3-month change as the server reports them. Eroding keys first, then by key.
 */
export function shareRows(share: MarketShare, index: number): ShareRow[] {
  const rows = share.series.map((s): ShareRow => {
    const now = s.share[index] ?? null;
    const before = index > 0 ? (s.share[index - 1] ?? null) : null;
    return {
      key: s.key,
      ourValue: s.ourValue[index] ?? null,
      marketValue: s.marketValue[index] ?? null,
      share: now,
      changeVsPrevious: now !== null && before !== null ? round6(now - before) : null,
      change3m: s.change3m,
      eroding: s.eroding,
    };
  });
  return rows.sort((a, b) => Number(b.eroding) - Number(a.eroding) || a.key.localeCompare(b.key));
}

/** The last month of the report that has a market total for some key (the table's default month). */
export function latestShareMonth(share: MarketShare): number {
  for (let i = share.months.length - 1; i >= 0; i--) {
    if (share.series.some((s) => s.marketValue[i] !== null && s.marketValue[i] !== undefined)) return i;
  }
  return Math.max(0, share.months.length - 1);
}
