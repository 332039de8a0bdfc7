import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type ApiError, unwrap } from './client';
import { useApi } from './context';
import { type PageMeta, withQuery } from './identity';
import type { components } from './schema';

export type Company = components['schemas']['Company'];
export type Contact = components['schemas']['Contact'];
export type Deal = components['schemas']['Deal'];
export type Lead = components['schemas']['Lead'];
export type Pipeline = components['schemas']['Pipeline'];
export type Stage = components['schemas']['Stage'];
export type Board = components['schemas']['Board'];
export type BoardColumn = components['schemas']['BoardColumn'];
export type CurrencyTotal = components['schemas']['CurrencyTotal'];
export type Activity = components['schemas']['Activity'];
export type TimelineEntry = components['schemas']['TimelineEntry'];
export type SearchHit = components['schemas']['SearchHit'];
export type Customer360 = components['schemas']['Customer360'];
export type ConversionResult = components['schemas']['ConversionResult'];

/** The CRM record types, as the API names them in `record_type` and in its paths. */
export type RecordType = 'company' | 'contact' | 'lead' | 'deal';
export type Collection = 'companies' | 'contacts' | 'leads' | 'deals';

/** The record type of each collection. */
export type RowOf<C extends Collection> = {
  companies: Company;
  contacts: Contact;
  leads: Lead;
  deals: Deal;
}[C];

export const COLLECTION: Record<RecordType, Collection> = {
  company: 'companies',
  contact: 'contacts',
  lead: 'leads',
  deal: 'deals',
};

/** The app route of a record's page. */
export function recordPath(type: RecordType, id: string): string {
  return `/crm/${COLLECTION[type]}/${id}`;
}

export function isRecordType(value: string): value is RecordType {
  return value in COLLECTION;
}

export const LEAD_STATUSES = ['New', 'Contacted', 'Qualified', 'Unqualified'] as const;
export const ACTIVITY_KINDS = ['call', 'email', 'meeting', 'note', 'task'] as const;

export const crmKeys = {
  all: ['crm'] as const,
  list: (collection: Collection, params: ListParams) => ['crm', collection, 'list', params] as const,
  lists: (collection: Collection) => ['crm', collection, 'list'] as const,
  record: (collection: Collection, id: string) => ['crm', collection, 'record', id] as const,
  timeline: (collection: Collection, id: string) => ['crm', collection, 'timeline', id] as const,
  pipelines: ['crm', 'pipelines'] as const,
  board: (pipelineId: string) => ['crm', 'board', pipelineId] as const,
  customer360: (id: string) => ['crm', 'customer360', id] as const,
  search: (q: string) => ['crm', 'search', q] as const,
};

export const CRM_PAGE_SIZE = 50;

export interface ListParams {
  /** `sort`: a field, `-field` for descending, '' for the server's default. */
  sort: string;
  /** Filters by query parameter (`name[contains]`, `company_id`, `status`, ...); '' for none. */
  filters: Record<string, string>;
}

interface ListPage<T> {
  data: T[];
  meta: PageMeta;
}

/**
 * One of the CRM list endpoints, a page at a time ("Load more"). Their query parameters
 * are not declared in the OpenAPI document, so `withQuery` serialises them.
 */
export function useCrmList<C extends Collection>(collection: C, params: ListParams) {
  const api = useApi();
  return useInfiniteQuery<ListPage<RowOf<C>>, ApiError>({
    queryKey: crmKeys.list(collection, params),
    initialPageParam: null as string | null,
    placeholderData: keepPreviousData,
    queryFn: async ({ pageParam, signal }) => {
      const query = withQuery({
        limit: CRM_PAGE_SIZE,
        cursor: pageParam as string | null,
        sort: params.sort,
        ...Object.fromEntries(Object.entries(params.filters).map(([k, v]) => [k, v.trim()])),
      });
      // Every list has the same shape; the union of paths is too wide for openapi-fetch.
      const path = `/api/v1/${collection}` as '/api/v1/companies';
      return (await unwrap(api.GET(path, { signal, ...query }))) as unknown as ListPage<RowOf<C>>;
    },
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}

export function useCompany(id: string | undefined) {
  const api = useApi();
  return useQuery<Company, ApiError>({
    queryKey: crmKeys.record('companies', id ?? ''),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/companies/{id}', { signal, params: { path: { id: id ?? '' } } }))).data,
    enabled: Boolean(id),
    staleTime: 60_000,
  });
}

export function useContact(id: string) {
  const api = useApi();
  return useQuery<Contact, ApiError>({
    queryKey: crmKeys.record('contacts', id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/contacts/{id}', { signal, params: { path: { id } } }))).data,
  });
}

export function useDeal(id: string) {
  const api = useApi();
  return useQuery<Deal, ApiError>({
    queryKey: crmKeys.record('deals', id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/deals/{id}', { signal, params: { path: { id } } }))).data,
  });
}

export function useLead(id: string) {
  const api = useApi();
  return useQuery<Lead, ApiError>({
    queryKey: crmKeys.record('leads', id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/leads/{id}', { signal, params: { path: { id } } }))).data,
  });
}

export function useTimeline(collection: Collection, id: string) {
  const api = useApi();
  return useQuery<TimelineEntry[], ApiError>({
    queryKey: crmKeys.timeline(collection, id),
    queryFn: async ({ signal }) => {
      const path = `/api/v1/${collection}/{id}/timeline` as const;
      return (await unwrap(api.GET(path, { signal, params: { path: { id } } }))).data;
    },
  });
}

export function usePipelines() {
  const api = useApi();
  return useQuery<Pipeline[], ApiError>({
    queryKey: crmKeys.pipelines,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/pipelines', { signal }))).data,
    staleTime: 5 * 60_000,
  });
}

/** The default pipeline (or the first one). */
export function useDefaultPipeline() {
  const pipelines = usePipelines();
  const pipeline = pipelines.data?.find((p) => p.is_default) ?? pipelines.data?.[0];
  return { ...pipelines, pipeline };
}

export const BOARD_PER_STAGE = 50;

export function useBoard(pipelineId: string | undefined) {
  const api = useApi();
  return useQuery<Board, ApiError>({
    queryKey: crmKeys.board(pipelineId ?? ''),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/pipelines/{id}/board', {
            signal,
            params: { path: { id: pipelineId ?? '' } },
            ...withQuery({ per_stage: BOARD_PER_STAGE }),
          }),
        )
      ).data,
    enabled: Boolean(pipelineId),
  });
}

export function useCustomer360(companyId: string) {
  const api = useApi();
  return useQuery<Customer360, ApiError>({
    queryKey: crmKeys.customer360(companyId),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/customers/{id}/360', { signal, params: { path: { id: companyId } } })))
        .data,
  });
}

/** Global search; `q` needs at least 2 characters (the query stays idle below that). */
export function useSearch(q: string, limit = 20) {
  const api = useApi();
  const term = q.trim();
  return useQuery<SearchHit[], ApiError>({
    queryKey: crmKeys.search(term),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/search', { signal, params: { query: { q: term, limit } } }))).data,
    enabled: term.length >= 2,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

/** A person's display name. */
export function personName(p: { first_name: string; last_name: string }): string {
  return `${p.first_name} ${p.last_name}`.trim();
}

/** "12500.00" + "EUR" → "€12,500.00"; the amount is an exact decimal string, shown as sent when not a number. */
export function formatMoney(amount: string, currency: string): string {
  const value = Number(amount);
  if (!Number.isFinite(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 0 }).format(
      value,
    );
  } catch {
    return `${amount} ${currency}`;
  }
}

const SEARCH_GROUPS: { type: RecordType; label: string }[] = [
  { type: 'company', label: 'Companies' },
  { type: 'contact', label: 'Contacts' },
  { type: 'lead', label: 'Leads' },
  { type: 'deal', label: 'Deals' },
];

/** Search hits by record type, in the order of SEARCH_GROUPS, best first within each. */
export function groupHits(
  hits: readonly SearchHit[],
): { type: RecordType; label: string; hits: SearchHit[] }[] {
  return SEARCH_GROUPS.map((g) => ({
    ...g,
    hits: hits.filter((h) => h.record_type === g.type).sort((a, b) => b.score - a.score),
  })).filter((g) => g.hits.length > 0);
}

/** Debounce of the search box, in milliseconds. */
export const SEARCH_DEBOUNCE_MS = 250;

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'SAR', 'AED', 'CHF'].map((c) => ({ value: c, label: c }));

/** Stage names of the pipelines, by id ('…' while they load). */
export function useStageName(): (id: string) => string {
  const { data } = usePipelines();
  return (id: string) => data?.flatMap((p) => p.stages).find((s) => s.id === id)?.name ?? '…';
}

/** A record the server thinks a new contact may duplicate (409 `possible_duplicate`). */
export interface PossibleDuplicate {
  id: string;
  matched_on: string;
  name: string;
}

/** What a duplicate matched on, for people. */
export const MATCHED_ON: Record<string, string> = {
  email: 'same email',
  phone: 'same phone',
  name_at_company: 'same name at the same company',
};

/**
 * The possible duplicates of a refused create (409 with `code: "possible_duplicate"` and a
 * `duplicates` extension member), or null when the error is something else.
 */
export function possibleDuplicates(error: ApiError | null): PossibleDuplicate[] | null {
  if (error?.status !== 409 || error.code !== 'possible_duplicate') return null;
  const list: unknown = (error.problem as { duplicates?: unknown }).duplicates;
  if (!Array.isArray(list)) return [];
  return list.flatMap((d: unknown) => {
    if (typeof d !== 'object' || d === null) return [];
    const { id, matched_on: matchedOn, name } = d as Record<string, unknown>;
    return typeof id === 'string'
      ? [
          {
            id,
            matched_on: typeof matchedOn === 'string' ? matchedOn : '',
            name: typeof name === 'string' ? name : id,
          },
        ]
      : [];
  });
}

/** What to call a record: a company's or contact's name, a deal's title. */
function recordLabel(record: unknown): string {
  if (typeof record !== 'object' || record === null) return '…';
  const r = record as Record<string, unknown>;
  if (typeof r.name === 'string') return r.name;
  if (typeof r.title === 'string') return r.title;
  if (typeof r.first_name === 'string') {
    return personName({
      first_name: r.first_name,
      last_name: typeof r.last_name === 'string' ? r.last_name : '',
    });
  }
  return '…';
}

/** The display name of one record (shares the record pages' cache). */
export function useRecordLabel(collection: Collection | null, id: string | null) {
  const api = useApi();
  return useQuery<string, ApiError>({
    queryKey: [...crmKeys.record(collection ?? 'companies', id ?? ''), 'label'],
    queryFn: async ({ signal }) => {
      const path = `/api/v1/${collection ?? 'companies'}/{id}` as '/api/v1/companies/{id}';
      const record = await unwrap(api.GET(path, { signal, params: { path: { id: id ?? '' } } }));
      return recordLabel(record.data);
    },
    enabled: Boolean(collection && id),
    staleTime: 60_000,
  });
}
