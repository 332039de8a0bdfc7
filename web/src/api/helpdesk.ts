/**
 * Helpdesk: tickets (with their AI insights), conversation, attachments, SLA policies,
 * calendars and teams (typed from the OpenAPI document), plus the parts being built now —
 * CSAT, suggested articles, knowledge base, analytics — typed by hand below from their
 * agreed contracts.
 * Those calls go through `loose()` and answer `null` on a 404, so the screens hide what the
 * server does not have yet.
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type ApiClient, ApiError, unwrap } from './client';
import { useApi } from './context';
import { type PageMeta, withQuery } from './identity';
import { loose } from './loose';
import type { components } from './schema';

export type BaseTicket = components['schemas']['Ticket'];
export type TicketSla = components['schemas']['TicketSla'];
export type TicketSentiment = components['schemas']['TicketSentiment'];
export type TicketStatus = components['schemas']['TicketStatus'];
export type TicketType = components['schemas']['TicketType'];
export type Priority = components['schemas']['Priority'];
export type SlaStatus = components['schemas']['SlaStatus'];
export type Message = components['schemas']['Message'];
export type MessageKind = components['schemas']['MessageKind'];
export type StoredSentiment = components['schemas']['StoredSentiment'];
export type Attachment = components['schemas']['Attachment'];
export type SlaPolicy = components['schemas']['SlaPolicy'];
export type PriorityTargets = components['schemas']['PriorityTargets'];
export type TypeMultipliers = components['schemas']['TypeMultipliers'];
export type CalendarRecord = components['schemas']['CalendarRecord'];
export type WeeklyHours = components['schemas']['WeeklyHours'];
export type HoursSpan = components['schemas']['HoursSpan'];
export type Team = components['schemas']['Team'];
export type TicketPatch = components['schemas']['TicketPatch'];
export type NewTicket = components['schemas']['NewTicket'];

export type TicketInsights = components['schemas']['TicketInsights'];
export type RecommendedAction = components['schemas']['RecommendedAction'];

// ---------------------------------------------------------------- contracts not yet in openapi.json

/** `ticket.csat` (contract: issue #5, being built). */
export interface TicketCsat {
  rating: number;
  comment?: string | null;
  rated_at: string;
}

/** A ticket as the screens read it: the documented fields, and `csat` being added. */
export type Ticket = BaseTicket & {
  csat?: TicketCsat | null;
};

export interface SuggestedArticle {
  id: string;
  title: string;
  score: number;
  snippet: string;
}

export interface KbCategory {
  id: string;
  name: string;
  description?: string | null;
  position: number;
  version?: number;
}

export type KbStatus = 'draft' | 'published';

export interface KbArticle {
  id: string;
  title: string;
  body_markdown: string;
  category_id: string | null;
  tags: string[];
  status: KbStatus;
  version: number;
  created_at?: string;
  updated_at?: string;
}

export interface HoursStats {
  mean: number | null;
  median: number | null;
  p90: number | null;
  count: number;
}

export interface HelpdeskAnalytics {
  first_response_hours: HoursStats;
  resolution_hours: HoursStats;
  sla_compliance: {
    response_pct: number | null;
    resolution_pct: number | null;
    met: number;
    breached: number;
  };
  backlog_by_age: { bucket: string; count: number }[];
  volume: { date: string; created: number; resolved: number }[];
  sentiment_by_customer: {
    company_id: string | null;
    tickets: number;
    avg_compound: number;
    latest_label: string;
  }[];
  csat: { average: number | null; count: number; distribution: Record<string, number> };
  by_priority: { priority: Priority; open: number; breached: number }[];
}

// ---------------------------------------------------------------- constants

export const TICKET_TYPES: readonly TicketType[] = [
  'Incident',
  'Bug',
  'Question',
  'Feature Request',
  'Maintenance',
];
export const PRIORITIES: readonly Priority[] = ['Critical', 'High', 'Medium', 'Low'];
export const STATUSES: readonly TicketStatus[] = [
  'Open',
  'In Progress',
  'Waiting on Customer',
  'Resolved',
  'Closed',
];

/** Where a ticket may go from each status (the server's table in `TicketStatus`). */
export const NEXT_STATUSES: Record<TicketStatus, readonly TicketStatus[]> = {
  Open: ['In Progress', 'Waiting on Customer', 'Resolved'],
  'In Progress': ['Waiting on Customer', 'Resolved'],
  'Waiting on Customer': ['In Progress', 'Resolved'],
  Resolved: ['Closed', 'Open'],
  Closed: [],
};

/** The label of the button that moves a ticket to a status. */
export function transitionLabel(from: TicketStatus, to: TicketStatus): string {
  if (from === 'Resolved' && to === 'Open') return 'Reopen';
  if (to === 'Waiting on Customer') return 'Wait on customer';
  if (to === 'In Progress') return from === 'Open' ? 'Start work' : 'Resume work';
  if (to === 'Resolved') return 'Resolve';
  if (to === 'Closed') return 'Close';
  return to;
}

export const PRIORITY_COLOR: Record<Priority, string> = {
  Critical: 'red',
  High: 'orange',
  Medium: 'yellow',
  Low: 'gray',
};

export const STATUS_COLOR: Record<TicketStatus, string> = {
  Open: 'blue',
  'In Progress': 'indigo',
  'Waiting on Customer': 'grape',
  Resolved: 'teal',
  Closed: 'gray',
};

export const SLA_COLOR: Record<SlaStatus, string> = {
  'On Track': 'teal',
  'At Risk': 'orange',
  'Response Breached': 'red',
  'Resolution Breached': 'red',
};

export type InboxView = 'all' | 'mine' | 'unassigned' | 'at_risk' | 'breached';

export const INBOX_VIEWS: readonly { value: InboxView; label: string }[] = [
  { value: 'mine', label: 'Mine' },
  { value: 'unassigned', label: 'Unassigned' },
  { value: 'at_risk', label: 'At risk' },
  { value: 'breached', label: 'Breached' },
  { value: 'all', label: 'All' },
];

export function isInboxView(value: string | null): value is InboxView {
  return INBOX_VIEWS.some((v) => v.value === value);
}

/** A sentiment label for a compound score (VADER's ±0.05 thresholds). */
export function sentimentLabel(compound: number): 'positive' | 'neutral' | 'negative' {
  if (compound >= 0.05) return 'positive';
  if (compound <= -0.05) return 'negative';
  return 'neutral';
}

export const SENTIMENT_COLOR: Record<string, string> = {
  positive: 'teal',
  neutral: 'gray',
  negative: 'red',
};

/** The trend of a ticket's mood: "improving", "worsening" or "steady" (±0.05). */
export function trendLabel(trend: number | null | undefined): 'improving' | 'worsening' | 'steady' | null {
  if (trend === null || trend === undefined) return null;
  if (trend >= 0.05) return 'improving';
  if (trend <= -0.05) return 'worsening';
  return 'steady';
}

/** "application/pdf", 1_234_567 → "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---------------------------------------------------------------- queries

export const helpdeskKeys = {
  all: ['helpdesk'] as const,
  tickets: ['helpdesk', 'tickets'] as const,
  list: (params: TicketListParams) => ['helpdesk', 'tickets', 'list', params] as const,
  ticket: (id: string) => ['helpdesk', 'tickets', 'one', id] as const,
  messages: (id: string) => ['helpdesk', 'tickets', 'messages', id] as const,
  attachments: (id: string) => ['helpdesk', 'tickets', 'attachments', id] as const,
  suggested: (id: string) => ['helpdesk', 'tickets', 'suggested', id] as const,
  policies: ['helpdesk', 'sla-policies'] as const,
  calendars: ['helpdesk', 'calendars'] as const,
  teams: ['helpdesk', 'teams'] as const,
  kbCategories: ['helpdesk', 'kb', 'categories'] as const,
  kbArticles: (q: string, categoryId: string | null) =>
    ['helpdesk', 'kb', 'articles', q, categoryId] as const,
  kbArticle: (id: string) => ['helpdesk', 'kb', 'article', id] as const,
  analytics: (from: string, to: string, teamId: string | null) =>
    ['helpdesk', 'analytics', from, to, teamId] as const,
};

export const TICKET_PAGE_SIZE = 50;

export interface TicketListParams {
  view: InboxView;
  status: string | null;
  priority: string | null;
  teamId: string | null;
}

/** The inbox: one view, filters, most urgent SLA first (the server's order), a page at a time. */
export function useTickets(params: TicketListParams) {
  const api = useApi();
  return useInfiniteQuery<{ data: Ticket[]; meta: PageMeta }, ApiError>({
    queryKey: helpdeskKeys.list(params),
    initialPageParam: null as string | null,
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET('/api/v1/tickets', {
          signal,
          ...withQuery({
            limit: TICKET_PAGE_SIZE,
            cursor: pageParam as string | null,
            view: params.view === 'all' ? null : params.view,
            status: params.status,
            'priority[in]': params.priority,
            team_id: params.teamId,
          }),
        }),
      ),
    getNextPageParam: (last) => last.meta.next_cursor ?? null,
  });
}

export function useTicket(id: string) {
  const api = useApi();
  return useQuery<Ticket, ApiError>({
    queryKey: helpdeskKeys.ticket(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/tickets/{id}', { signal, params: { path: { id } } }))).data,
    refetchInterval: 30_000,
  });
}

export function useMessages(id: string) {
  const api = useApi();
  return useQuery<Message[], ApiError>({
    queryKey: helpdeskKeys.messages(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/tickets/{id}/messages', { signal, params: { path: { id } } }))).data,
  });
}

export function useAttachments(id: string) {
  const api = useApi();
  return useQuery<Attachment[], ApiError>({
    queryKey: helpdeskKeys.attachments(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/tickets/{id}/attachments', { signal, params: { path: { id } } }))).data,
  });
}

export function useTeams() {
  const api = useApi();
  return useQuery<Team[], ApiError>({
    queryKey: helpdeskKeys.teams,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/teams', { signal }))).data,
    staleTime: 5 * 60_000,
  });
}

export function usePolicies(enabled = true) {
  const api = useApi();
  return useQuery<SlaPolicy[], ApiError>({
    queryKey: helpdeskKeys.policies,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/sla-policies', { signal }))).data,
    enabled,
  });
}

export function useCalendars(enabled = true) {
  const api = useApi();
  return useQuery<CalendarRecord[], ApiError>({
    queryKey: helpdeskKeys.calendars,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/calendars', { signal }))).data,
    enabled,
  });
}

/** The value of a call that may not exist on this server yet: null on a 404 (the UI hides it). */
export async function orNotBuilt<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

/** `GET /tickets/{id}/suggested-articles`: null while the server has no such endpoint. */
export function useSuggestedArticles(id: string, limit = 5) {
  const api = useApi();
  return useQuery<SuggestedArticle[] | null, ApiError>({
    queryKey: helpdeskKeys.suggested(id),
    queryFn: async ({ signal }) => {
      const body = await orNotBuilt(
        unwrap(
          loose(api).GET(`/api/v1/tickets/${encodeURIComponent(id)}/suggested-articles`, {
            signal,
            ...withQuery({ limit }),
          }),
        ),
      );
      return body === null ? null : (body as { data: SuggestedArticle[] }).data;
    },
    retry: false,
    staleTime: 60_000,
  });
}

export function useKbCategories() {
  const api = useApi();
  return useQuery<KbCategory[] | null, ApiError>({
    queryKey: helpdeskKeys.kbCategories,
    queryFn: async ({ signal }) => {
      const body = await orNotBuilt(unwrap(loose(api).GET('/api/v1/kb/categories', { signal })));
      if (body === null) return null;
      return [...(body as { data: KbCategory[] }).data].sort((a, b) => a.position - b.position);
    },
    retry: false,
  });
}

export function useKbArticles(q: string, categoryId: string | null) {
  const api = useApi();
  return useQuery<KbArticle[] | null, ApiError>({
    queryKey: helpdeskKeys.kbArticles(q, categoryId),
    queryFn: async ({ signal }) => {
      const body = await orNotBuilt(
        unwrap(
          loose(api).GET('/api/v1/kb/articles', {
            signal,
            ...withQuery({ q: q.trim(), category_id: categoryId, limit: 100 }),
          }),
        ),
      );
      return body === null ? null : (body as { data: KbArticle[] }).data;
    },
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/** One article (`GET /kb/articles/{id}`), for a link to an article the list does not show. */
export function useKbArticle(id: string | null) {
  const api = useApi();
  return useQuery<KbArticle | null, ApiError>({
    queryKey: helpdeskKeys.kbArticle(id ?? ''),
    queryFn: async ({ signal }) => {
      const body = await orNotBuilt(
        unwrap(loose(api).GET(`/api/v1/kb/articles/${encodeURIComponent(id ?? '')}`, { signal })),
      );
      return body === null ? null : (body as { data: KbArticle }).data;
    },
    enabled: Boolean(id),
    retry: false,
  });
}

export function useHelpdeskAnalytics(from: string, to: string, teamId: string | null) {
  const api = useApi();
  return useQuery<HelpdeskAnalytics | null, ApiError>({
    queryKey: helpdeskKeys.analytics(from, to, teamId),
    queryFn: async ({ signal }) => {
      const body = await orNotBuilt(
        unwrap(
          loose(api).GET('/api/v1/helpdesk/analytics', {
            signal,
            ...withQuery({ from, to, team_id: teamId }),
          }),
        ),
      );
      if (body === null) return null;
      // Accept both `{data: {...}}` (the API's envelope) and the bare object.
      const wrapped = body as { data?: HelpdeskAnalytics };
      return wrapped.data ?? (body as HelpdeskAnalytics);
    },
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/** The app route of a ticket's page. */
export function ticketPath(id: string): string {
  return `/helpdesk/tickets/${id}`;
}

/** The content type to send for a file: the browser's guess, or a generic one (the server checks it). */
export function uploadContentType(file: { type: string }): string {
  return file.type || 'application/octet-stream';
}

/** `POST /tickets/{id}/attachments`: the raw bytes, their type, `?filename=`. */
export async function uploadAttachment(api: ApiClient, ticketId: string, file: File): Promise<Attachment> {
  const body = await file.arrayBuffer();
  const result = (await unwrap(
    loose(api).POST(`/api/v1/tickets/${encodeURIComponent(ticketId)}/attachments`, {
      body,
      bodySerializer: (b) => b as ArrayBuffer,
      headers: { 'content-type': uploadContentType(file) },
      querySerializer: () => new URLSearchParams({ filename: file.name }).toString(),
    }),
  )) as { data: Attachment };
  return result.data;
}

/** Downloads an attachment with the session's token and hands it to the browser as a file. */
export async function downloadAttachment(api: ApiClient, attachment: Attachment): Promise<void> {
  const blob = (await unwrap(
    loose(api).GET(`/api/v1/attachments/${encodeURIComponent(attachment.id)}`, { parseAs: 'blob' }),
  )) as Blob;
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = attachment.filename;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 10_000);
  }
}

/** The problem message of a refused upload: the field's message, else the detail. */
export function uploadProblem(error: ApiError): string {
  const field = error.fieldErrors[0];
  if (field) return `${field.field}: ${field.message}`;
  return error.detail ?? error.title;
}
