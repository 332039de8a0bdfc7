import {
  keepPreviousData,
  useInfiniteQuery,
  useQueries,
  useQuery,
  type UseQueryResult,
} from '@tanstack/react-query';
import type { CellError } from '../components/importErrors';
import { ApiError, type ApiClient, type FieldError, unwrap } from './client';
import { useApi } from './context';
import type { Company } from './crm';
import { type PageMeta, withQuery } from './identity';
import { loose } from './loose';
import type { components } from './schema';

// ------------------------------------------------------------------ types of the OpenAPI document

export type Store = components['schemas']['Store'];
export type StoreBalance = components['schemas']['StoreBalance'];
export type Product = components['schemas']['Product'];
export type PriceList = components['schemas']['PriceList'];
export type PriceListItem = components['schemas']['PriceListItem'];
export type SalesOrder = components['schemas']['SalesOrder'];
export type OrderLine = components['schemas']['OrderLine'];
export type NewOrderLine = components['schemas']['NewOrderLine'];
export type OrderStatus = components['schemas']['OrderStatus'];
export type Invoice = components['schemas']['Invoice'];
export type InvoiceStatus = components['schemas']['InvoiceStatus'];
export type Payment = components['schemas']['Payment'];
export type PaymentMethod = components['schemas']['PaymentMethod'];
export type Money = components['schemas']['Money'];

export const PAYMENT_METHODS: readonly { value: PaymentMethod; label: string }[] = [
  { value: 'bank_transfer', label: 'Bank transfer' },
  { value: 'cash', label: 'Cash' },
  { value: 'card', label: 'Card' },
  { value: 'cheque', label: 'Cheque' },
  { value: 'other', label: 'Other' },
];

// ------------------------------------------------------------------ contracts of the import, analytics and predictions
// (served by the import / analytics / prediction slices; called through the loose client
// until their paths are in openapi.json)

/** One bad cell of an imported sales file (spreadsheet row, 1 = the header; the file's column header). */
export type SalesImportError = components['schemas']['RowIssue'];

/**
 * A sales-data import: a dry run, a commit, or a background run with its progress.
 * `status`: `validated` | `rejected` | `committed` | `running` | `failed`.
 */
export type SalesImport = components['schemas']['SalesImport'];
export type SalesImportStatus = 'validated' | 'rejected' | 'committed' | 'running' | 'failed';

/** A saved mapping: which header of the file holds each column (`sheet6` is built in). */
export type SalesImportMapping = components['schemas']['SalesImportMapping'];

export type Urgency = components['schemas']['Urgency'] | null;
/** A distribution gap: an area × pack type with its share of zero-sales records. */
export type GapRow = components['schemas']['GapRow'];
export type DistributionGaps = components['schemas']['GapReport'];
/** The heat map: region (or province) × pack type. */
export type GapHeatmap = components['schemas']['Heatmap'];
/** An analytic alert (`sales.distribution_gap`, `sales.share_erosion`, `sales.forecast_deviation`). */
export type SalesAlert = components['schemas']['Alert'];
export type AlertPriority = components['schemas']['AlertPriority'];
/** The trend report as the server sends it: values and movers as exact decimal strings. */
export type TrendsWire = components['schemas']['TrendReport'];

export const TREND_DIMENSIONS = [
  { value: 'region', label: 'Region' },
  { value: 'province', label: 'Province' },
  { value: 'precision_area', label: 'Precision area' },
  { value: 'pack_type', label: 'Pack type' },
  { value: 'sku', label: 'SKU' },
  { value: 'channel', label: 'Channel' },
] as const;
export type TrendDimension = (typeof TREND_DIMENSIONS)[number]['value'];
export type TrendMeasure = 'value' | 'qty';

export interface Mover {
  key: string;
  latest: number;
  previous: number;
  growth: number | null;
}

export interface TrendSeries {
  key: string;
  values: number[];
  mom_growth: (number | null)[];
  yoy_growth: (number | null)[];
}

/** Trends as the pages use them: the server's exact decimal strings read as numbers (for charts). */
export interface Trends {
  by: string;
  measure: string;
  months: string[];
  series: TrendSeries[];
  total: TrendSeries;
  movers: { top: Mover[]; bottom: Mover[] };
  seasonality: { month_of_year: number; index?: number | null }[];
}

/** True when a trend report holds no sales at all (the server answers zeros before any import). */
export function hasNoSales(trends: Trends): boolean {
  return trends.series.length === 0 || trends.total.values.every((v) => v === 0);
}

/** Reads the decimal strings of a trend report as numbers, for charts and sums. */
export function trendsFromWire(wire: TrendsWire): Trends {
  const series = (s: TrendsWire['total']): TrendSeries => ({
    key: s.key,
    values: s.values.map(Number),
    mom_growth: s.mom_growth.map((g) => g ?? null),
    yoy_growth: s.yoy_growth.map((g) => g ?? null),
  });
  const mover = (m: TrendsWire['movers']['top'][number]): Mover => ({
    key: m.key,
    latest: Number(m.latest),
    previous: Number(m.previous),
    growth: m.growth,
  });
  return {
    by: wire.by,
    measure: wire.measure,
    months: wire.months,
    series: wire.series.map(series),
    total: series(wire.total),
    movers: { top: wire.movers.top.map(mover), bottom: wire.movers.bottom.map(mover) },
    seasonality: wire.seasonality,
  };
}

/** Market share as the server sends it: values as exact decimal strings. */
export type MarketShareWire = components['schemas']['ShareReport'];
/** What an accepted market-totals upload did (rows, inserted, replaced, months). */
export type MarketTotalsImported = components['schemas']['MarketTotalsImported'];
export type ShareDimension = 'region' | 'pack_type';

export const SHARE_DIMENSIONS: readonly { value: ShareDimension; label: string }[] = [
  { value: 'region', label: 'Region' },
  { value: 'pack_type', label: 'Pack type' },
];

/** One region's (or pack type's) share month by month; `null` where there is no market total. */
export interface ShareSeries {
  key: string;
  /** Our sales over the cells with a market total, exact decimal strings. */
  ourValue: string[];
  /** The market total, exact decimal strings (`null`: none that month). */
  marketValue: (string | null)[];
  /** Our value ÷ the market's, 0..1. */
  share: (number | null)[];
  /** Last share − first share of the range (fraction points). */
  change: number | null;
  /** Last share − the share 3 months before it (fraction points). */
  change3m: number | null;
  /** The server's erosion flag: at least 2 points lost over 3 months. */
  eroding: boolean;
}

/** Market share as the page uses it. */
export interface MarketShare {
  by: string;
  months: string[];
  series: ShareSeries[];
}

/** Reads the server's report (null/undefined normalised to null). */
export function marketShareFromWire(wire: MarketShareWire): MarketShare {
  return {
    by: wire.by,
    months: wire.months,
    series: wire.series.map((s) => ({
      key: s.key,
      ourValue: s.our_value,
      marketValue: s.market_value.map((v) => v ?? null),
      share: s.share.map((v) => v ?? null),
      change: s.change ?? null,
      change3m: s.change_3m ?? null,
      eroding: s.eroding,
    })),
  };
}

/** True when no market total has been loaded for the period (the server lists no series). */
export function hasNoMarketTotals(share: MarketShare): boolean {
  return share.series.length === 0;
}

/** A problem of a market-totals upload that is not about one row (a missing column, a duplicate key). */
export interface UploadProblem {
  field: string;
  message: string;
}

/**
 * The errors of a refused market-totals upload: `rows[N].column` as cells (N is the
 * spreadsheet row of the CSV, the header being row 1), everything else (`columns.month`,
 * `rows`, `body`) as general problems, in the server's order.
 */
export function marketTotalsErrors(errors: readonly FieldError[]): {
  cells: CellError[];
  general: UploadProblem[];
} {
  const cells: CellError[] = [];
  const general: UploadProblem[] = [];
  for (const e of errors) {
    const match = /^rows\[(\d+)\](?:\.(.+))?$/.exec(e.field);
    if (match) cells.push({ row: Number(match[1]), column: match[2] ?? '(row)', message: e.message });
    else general.push({ field: e.field, message: e.message });
  }
  return { cells, general };
}

/** A product the store is likely to order next, with how much and how likely. */
export type BasketItem = components['schemas']['BasketLine'];
/** A store's predicted next order: when, how sure (`low` / `medium` / `high`), what. */
export type NextOrder = components['schemas']['NextOrderView'];
export type UpsellSuggestion = components['schemas']['UpsellLine'];
export type Upsell = components['schemas']['UpsellView'];
export type CallReason = components['schemas']['ScoreReason'];
export type CallStore = components['schemas']['CallListStore'];
/** The rep's stores to call on a day, highest priority first, each with its reasons. */
export type CallList = components['schemas']['CallList'];

// ------------------------------------------------------------------ keys

export interface StoreFilters {
  /** Text the company name, region, province, city or precision area contains (server-side). */
  q: string;
  region: string;
  assigned_rep: string;
  channel: string;
}

/** Longest search the store list accepts (the server answers 422 naming `q` beyond it). */
export const MAX_STORE_SEARCH = 200;

/** The query of one page of `GET /api/v1/stores`: the filters trimmed, empty ones left out. */
export function storeListQuery(
  filters: StoreFilters,
  cursor: string | null,
): Record<string, string | number | null> {
  return {
    limit: STORE_PAGE_SIZE,
    cursor,
    sort: 'region',
    q: filters.q.trim().slice(0, MAX_STORE_SEARCH),
    region: filters.region.trim(),
    channel: filters.channel.trim(),
    assigned_rep: filters.assigned_rep,
  };
}

export const salesKeys = {
  all: ['sales'] as const,
  stores: (filters: StoreFilters) => ['sales', 'stores', filters] as const,
  storeLists: ['sales', 'stores'] as const,
  store: (id: string) => ['sales', 'store', id] as const,
  balance: (id: string) => ['sales', 'balance', id] as const,
  products: ['sales', 'products'] as const,
  priceLists: ['sales', 'price-lists'] as const,
  orders: (filters: Record<string, string>) => ['sales', 'orders', filters] as const,
  orderLists: ['sales', 'orders'] as const,
  order: (id: string) => ['sales', 'order', id] as const,
  invoices: (filters: Record<string, string>) => ['sales', 'invoices', filters] as const,
  invoice: (id: string) => ['sales', 'invoice', id] as const,
  payments: (filters: Record<string, string>) => ['sales', 'payments', filters] as const,
  company: (id: string) => ['crm', 'companies', 'record', id] as const,
  imports: ['sales', 'imports'] as const,
  import: (id: string) => ['sales', 'import', id] as const,
  importMappings: ['sales', 'import-mappings'] as const,
  gaps: (params: Record<string, string>) => ['sales', 'gaps', params] as const,
  heatmap: (params: Record<string, string>) => ['sales', 'heatmap', params] as const,
  trends: (params: Record<string, string>) => ['sales', 'trends', params] as const,
  marketShare: (params: Record<string, string>) => ['sales', 'market-share', params] as const,
  marketShareAll: ['sales', 'market-share'] as const,
  alerts: (params: Record<string, string>) => ['sales', 'alerts', params] as const,
  nextOrder: (id: string) => ['sales', 'next-order', id] as const,
  upsell: (id: string) => ['sales', 'upsell', id] as const,
  callList: (rep: string, on: string) => ['sales', 'call-list', rep, on] as const,
};

/** Every related query a change to orders, invoices or payments may make stale. */
export const SALES_MONEY_KEYS = [
  salesKeys.orderLists,
  ['sales', 'order'],
  ['sales', 'invoices'],
  ['sales', 'invoice'],
  ['sales', 'payments'],
  ['sales', 'balance'],
] as const;

// ------------------------------------------------------------------ money

/** Minor units of the currencies that do not have 2 (ISO 4217); the server rounds the same way. */
const MINOR_UNITS: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  ISK: 0,
  BHD: 3,
  KWD: 3,
  OMR: 3,
  JOD: 3,
  TND: 3,
};

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency.toUpperCase()] ?? 2;
}

/** Exact decimals as integers of 10⁻⁴ (the server's scale), so totals never drift. */
const SCALE = 4;
const ONE = 10n ** BigInt(SCALE);

/** "12.5" → 125000n; null when it is not a plain decimal with at most 4 places. */
export function parseDecimal(value: string): bigint | null {
  const text = value.trim();
  const match = /^(-)?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || text === '' || text === '.' || text === '-') return null;
  const [, sign, whole = '', frac = ''] = match;
  if (frac.length > SCALE) return null;
  const digits = BigInt((whole || '0') + frac.padEnd(SCALE, '0'));
  return sign ? -digits : digits;
}

/** A scaled integer back to a decimal string with `places` decimals. */
export function formatScaled(value: bigint, places = 2): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / ONE;
  const frac = (abs % ONE).toString().padStart(SCALE, '0').slice(0, places);
  return `${negative ? '-' : ''}${whole.toString()}${places > 0 ? `.${frac}` : ''}`;
}

/** Rounds a scaled value to `places` decimals, half away from zero. */
function roundScaled(value: bigint, places: number): bigint {
  const step = 10n ** BigInt(SCALE - places);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const rounded = ((abs + step / 2n) / step) * step;
  return negative ? -rounded : rounded;
}

/** (a × b) for two scaled values, still scaled, rounded to the currency's minor unit. */
function mulRound(a: bigint, b: bigint, places: number): bigint {
  const product = a * b; // scale 8
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const step = ONE * 10n ** BigInt(SCALE - places);
  const rounded = ((abs + step / 2n) / step) * 10n ** BigInt(SCALE - places);
  return negative ? -rounded : rounded;
}

export interface LineDraft {
  quantity: string;
  unitPrice: string;
  discountPct: string;
  taxPct: string;
}

export interface Amounts {
  gross: bigint;
  discount: bigint;
  net: bigint;
  tax: bigint;
  total: bigint;
}

/**
 * A line's amounts as the server computes them (crates/sales/src/money.rs): gross, discount
 * and tax each rounded half away from zero to the currency's minor unit; null while a field
 * is not a number yet.
 */
export function lineAmounts(line: LineDraft, currency: string): Amounts | null {
  const quantity = parseDecimal(line.quantity);
  const price = parseDecimal(line.unitPrice);
  const discountPct = parseDecimal(line.discountPct || '0');
  const taxPct = parseDecimal(line.taxPct || '0');
  if (quantity === null || price === null || discountPct === null || taxPct === null) return null;
  const places = minorUnits(currency);
  const gross = mulRound(quantity, price, places);
  const discount = roundScaled((gross * discountPct) / (100n * ONE), places);
  const net = gross - discount;
  const tax = roundScaled((net * taxPct) / (100n * ONE), places);
  return { gross, discount, net, tax, total: net + tax };
}

/** An order's totals: sums of the rounded lines. */
export function orderAmounts(lines: (Amounts | null)[]): Amounts {
  const sum = { gross: 0n, discount: 0n, net: 0n, tax: 0n, total: 0n };
  for (const l of lines) {
    if (!l) continue;
    sum.gross += l.gross;
    sum.discount += l.discount;
    sum.net += l.net;
    sum.tax += l.tax;
    sum.total += l.total;
  }
  return sum;
}

/** An amount with its currency, for people ("1,250.00 EUR"). */
export function formatMoney(
  amount: string | number | bigint | null | undefined,
  currency?: string | null,
): string {
  if (amount === null || amount === undefined || amount === '') return '–';
  const places = currency ? minorUnits(currency) : 2;
  let text: string;
  if (typeof amount === 'bigint') text = formatScaled(amount, places);
  else if (typeof amount === 'number') text = amount.toFixed(places);
  else {
    const scaled = parseDecimal(amount);
    text = scaled === null ? amount : formatScaled(roundScaled(scaled, places), places);
  }
  const [whole = '', frac] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${grouped}${frac !== undefined ? `.${frac}` : ''}${currency ? ` ${currency}` : ''}`;
}

/** A compact number for KPI cards and axes: 1.2k, 3.4M. */
export function compactNumber(value: number): string {
  return new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** A share 0..1 as a percentage. */
export function percent(share: number | null | undefined, digits = 0): string {
  if (share === null || share === undefined || Number.isNaN(share)) return '–';
  return `${(share * 100).toFixed(digits)}%`;
}

// ------------------------------------------------------------------ price lists

/**
 * The item of `items` in force for a product on `on` (YYYY-MM-DD): the latest `valid_from`
 * on or before the date whose `valid_to` has not passed — the server's rule.
 */
export function priceInForce(items: PriceListItem[], productId: string, on: string): PriceListItem | null {
  let best: PriceListItem | null = null;
  for (const item of items) {
    if (item.product_id !== productId || item.valid_from > on) continue;
    if (item.valid_to && item.valid_to < on) continue;
    if (!best || item.valid_from > best.valid_from) best = item;
  }
  return best;
}

// ------------------------------------------------------------------ import error report

/** The query string of `POST /api/v1/sales/imports`. */
export function salesImportQuery(req: {
  mapping: string;
  dryRun: boolean;
  skipInvalid?: boolean;
  allowNewValues?: boolean;
  background?: boolean;
  fileName?: string;
}): string {
  const search = new URLSearchParams({ mapping: req.mapping });
  search.set('dry_run', String(req.dryRun));
  if (req.skipInvalid) search.set('skip_invalid', 'true');
  if (req.allowNewValues) search.set('allow_new_values', 'true');
  if (req.background) search.set('background', 'true');
  if (req.fileName) search.set('file_name', req.fileName);
  return search.toString();
}

/** Content types the import accepts, by file extension. */
export function salesFileType(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'text/csv';
  if (lower.endsWith('.xlsx')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  return null;
}

/** The import's errors from a 422 refusal of a commit (`errors` extension), if it has them. */
export function importErrorsOf(error: unknown): SalesImportError[] | null {
  if (!(error instanceof ApiError)) return null;
  const raw = (error.problem as unknown as { errors?: unknown }).errors;
  if (!Array.isArray(raw)) return null;
  const rows = raw.filter(
    (e): e is SalesImportError =>
      typeof e === 'object' &&
      e !== null &&
      'row' in e &&
      'reason' in e &&
      typeof (e as SalesImportError).row === 'number',
  );
  return rows.length ? rows : null;
}

/** Sends a sales file; answers the import (a report, or a running background import). */
export async function sendSalesImport(
  api: ApiClient,
  file: Blob & { name?: string },
  options: {
    mapping: string;
    dryRun: boolean;
    skipInvalid?: boolean;
    allowNewValues?: boolean;
    background?: boolean;
  },
  signal?: AbortSignal,
): Promise<SalesImport> {
  const body = await file.arrayBuffer();
  const type = salesFileType(file.name ?? '') ?? 'text/csv';
  const result = (await unwrap(
    loose(api).POST('/api/v1/sales/imports', {
      signal,
      body,
      bodySerializer: (b) => b as ArrayBuffer,
      headers: { 'content-type': type },
      querySerializer: () => salesImportQuery({ ...options, ...(file.name ? { fileName: file.name } : {}) }),
    }),
  )) as { data: SalesImport };
  return result.data;
}

export async function fetchSalesImport(
  api: ApiClient,
  id: string,
  signal?: AbortSignal,
): Promise<SalesImport> {
  return (await unwrap(api.GET('/api/v1/sales/imports/{id}', { signal, params: { path: { id } } }))).data;
}

/** Polls a running import until it is no longer running; `onProgress` sees every state. */
export async function pollSalesImport(
  api: ApiClient,
  running: SalesImport,
  onProgress: (imp: SalesImport) => void,
  signal?: AbortSignal,
  intervalMs = 500,
): Promise<SalesImport> {
  let current = running;
  for (;;) {
    onProgress(current);
    if (current.status !== 'running') return current;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (signal?.aborted) throw new Error('cancelled');
    current = await fetchSalesImport(api, current.id, signal);
  }
}

// ------------------------------------------------------------------ hooks

interface ListPage<T> {
  data: T[];
  meta: PageMeta;
}

export const STORE_PAGE_SIZE = 50;

/** Stores, searched and filtered by region / channel / rep on the server, a page at a time. */
export function useStores(filters: StoreFilters, enabled = true) {
  const api = useApi();
  return useInfiniteQuery<ListPage<Store>, ApiError>({
    queryKey: salesKeys.stores(filters),
    initialPageParam: null as string | null,
    placeholderData: keepPreviousData,
    enabled,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/stores', {
          signal,
          ...withQuery(storeListQuery(filters, pageParam as string | null)),
        }),
      ),
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}

/** Every store (up to 500): for the store picker of order entry. */
export function useAllStores(enabled = true) {
  const api = useApi();
  return useQuery<Store[], ApiError>({
    queryKey: [...salesKeys.storeLists, 'all'],
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/stores', { signal, ...withQuery({ limit: 500, sort: 'region' }) })))
        .data,
    staleTime: 60_000,
  });
}

export function useStore(id: string) {
  const api = useApi();
  return useQuery<Store, ApiError>({
    queryKey: salesKeys.store(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/stores/{id}', { signal, params: { path: { id } } }))).data,
    enabled: Boolean(id),
  });
}

export function useStoreBalance(id: string, enabled = true) {
  const api = useApi();
  return useQuery<StoreBalance, ApiError>({
    queryKey: salesKeys.balance(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/stores/{id}/balance', { signal, params: { path: { id } } }))).data,
    enabled: Boolean(id) && enabled,
  });
}

/**
 * The names of stores: a store is a CRM company, whose name the store does not repeat.
 * Each company is fetched once and cached (the same key as the CRM's record page).
 */
export function useStoreNames(ids: readonly string[]): Map<string, string> {
  const api = useApi();
  const unique = [...new Set(ids)];
  const results: UseQueryResult<Company, ApiError>[] = useQueries({
    queries: unique.map((id) => ({
      queryKey: salesKeys.company(id),
      queryFn: async ({ signal }: { signal: AbortSignal }) =>
        (await unwrap(api.GET('/api/v1/companies/{id}', { signal, params: { path: { id } } }))).data,
      staleTime: 5 * 60_000,
    })),
  });
  const names = new Map<string, string>();
  results.forEach((r, i) => {
    const id = unique[i];
    if (id && r.data) names.set(id, r.data.name);
  });
  return names;
}

export function useProducts(enabled = true) {
  const api = useApi();
  return useQuery<Product[], ApiError>({
    queryKey: salesKeys.products,
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/products', { signal, ...withQuery({ limit: 500 }) }))).data,
    staleTime: 60_000,
  });
}

export function usePriceLists(enabled = true) {
  const api = useApi();
  return useQuery<PriceList[], ApiError>({
    queryKey: salesKeys.priceLists,
    enabled,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/price-lists', { signal }))).data,
    staleTime: 60_000,
  });
}

/** One price list with its items (the list endpoint leaves the items out). */
export function usePriceList(id: string | null) {
  const api = useApi();
  return useQuery<PriceList, ApiError>({
    queryKey: [...salesKeys.priceLists, id ?? ''],
    enabled: Boolean(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/price-lists/{id}', { signal, params: { path: { id: id ?? '' } } })))
        .data,
    staleTime: 60_000,
  });
}

export function useOrders(filters: Record<string, string>, enabled = true) {
  const api = useApi();
  return useInfiniteQuery<ListPage<SalesOrder>, ApiError>({
    queryKey: salesKeys.orders(filters),
    initialPageParam: null as string | null,
    placeholderData: keepPreviousData,
    enabled,
    queryFn: async ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/sales-orders', {
          signal,
          ...withQuery({ limit: 50, cursor: pageParam as string | null, ...filters }),
        }),
      ),
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}

export function useOrder(id: string) {
  const api = useApi();
  return useQuery<SalesOrder, ApiError>({
    queryKey: salesKeys.order(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/sales-orders/{id}', { signal, params: { path: { id } } }))).data,
    enabled: Boolean(id),
  });
}

export function useInvoices(filters: Record<string, string>, enabled = true) {
  const api = useApi();
  return useQuery<Invoice[], ApiError>({
    queryKey: salesKeys.invoices(filters),
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/invoices', { signal, ...withQuery({ limit: 200, ...filters }) }))).data,
  });
}

export function useInvoice(id: string) {
  const api = useApi();
  return useQuery<Invoice, ApiError>({
    queryKey: salesKeys.invoice(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/invoices/{id}', { signal, params: { path: { id } } }))).data,
    enabled: Boolean(id),
  });
}

export function usePayments(filters: Record<string, string>, enabled = true) {
  const api = useApi();
  return useQuery<Payment[], ApiError>({
    queryKey: salesKeys.payments(filters),
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/payments', { signal, ...withQuery({ limit: 200, ...filters }) }))).data,
  });
}

/** True for the 404 of an analytic the server does not serve (yet) or has no data for. */
export function isMissing(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function useGaps(params: Record<string, string>, enabled = true) {
  const api = useApi();
  return useQuery<DistributionGaps, ApiError>({
    queryKey: salesKeys.gaps(params),
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/sales/distribution-gaps', { signal, ...withQuery(params) }))).data,
  });
}

export function useGapHeatmap(params: Record<string, string>, enabled = true) {
  const api = useApi();
  return useQuery<GapHeatmap, ApiError>({
    queryKey: salesKeys.heatmap(params),
    enabled,
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/sales/distribution-gaps/heatmap', {
            signal,
            ...withQuery({ rows: 'region', columns: 'pack_type', ...params }),
          }),
        )
      ).data,
  });
}

export function useTrends(
  params: { by: TrendDimension; measure: TrendMeasure; from?: string; to?: string },
  enabled = true,
) {
  const api = useApi();
  const query = { by: params.by, measure: params.measure, from: params.from ?? '', to: params.to ?? '' };
  return useQuery<Trends, ApiError>({
    queryKey: salesKeys.trends(query),
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      trendsFromWire((await unwrap(api.GET('/api/v1/sales/trends', { signal, ...withQuery(query) }))).data),
  });
}

export function useSalesAlerts(params: Record<string, string>, enabled = true) {
  const api = useApi();
  return useQuery<SalesAlert[], ApiError>({
    queryKey: salesKeys.alerts(params),
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/sales/alerts', { signal, ...withQuery({ limit: 20, ...params }) })))
        .data,
  });
}

export function useNextOrder(storeId: string) {
  const api = useApi();
  return useQuery<NextOrder, ApiError>({
    queryKey: salesKeys.nextOrder(storeId),
    enabled: Boolean(storeId),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/stores/{id}/next-order', { signal, params: { path: { id: storeId } } })))
        .data,
  });
}

export function useUpsell(storeId: string) {
  const api = useApi();
  return useQuery<Upsell, ApiError>({
    queryKey: salesKeys.upsell(storeId),
    enabled: Boolean(storeId),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/stores/{id}/upsell', {
            signal,
            params: { path: { id: storeId }, query: { limit: 5 } },
          }),
        )
      ).data,
  });
}

export function useCallList(repId: string, on: string) {
  const api = useApi();
  return useQuery<CallList, ApiError>({
    queryKey: salesKeys.callList(repId, on),
    enabled: Boolean(repId),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/sales/call-list', { signal, params: { query: { rep_id: repId, on, limit: 20 } } }),
        )
      ).data,
  });
}

export function useSalesImports(enabled = true) {
  const api = useApi();
  return useQuery<SalesImport[], ApiError>({
    queryKey: salesKeys.imports,
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/sales/imports', { signal, ...withQuery({ limit: 100 }) }))).data,
  });
}

export function useSalesImportMappings(enabled = true) {
  const api = useApi();
  return useQuery<SalesImportMapping[], ApiError>({
    queryKey: salesKeys.importMappings,
    enabled,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/sales/import-mappings', { signal }))).data,
    staleTime: 60_000,
  });
}

/** Sends a market-totals CSV (`month, region, pack_type, market_value[, market_qty]`). */
export async function sendMarketTotals(
  api: ApiClient,
  csv: Blob,
  signal?: AbortSignal,
): Promise<MarketTotalsImported> {
  const body = await csv.text();
  const result = (await unwrap(
    loose(api).POST('/api/v1/sales/market-totals', {
      signal,
      body,
      bodySerializer: (b) => b as string,
      headers: { 'content-type': 'text/csv' },
    }),
  )) as { data: MarketTotalsImported };
  return result.data;
}

export function useMarketShare(params: { by: ShareDimension; from?: string; to?: string }, enabled = true) {
  const api = useApi();
  const query = { by: params.by, from: params.from ?? '', to: params.to ?? '' };
  return useQuery<MarketShare, ApiError>({
    queryKey: salesKeys.marketShare(query),
    enabled,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      marketShareFromWire(
        (await unwrap(api.GET('/api/v1/sales/market-share', { signal, ...withQuery(query) }))).data,
      ),
  });
}
