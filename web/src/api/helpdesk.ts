/**
 * Helpdesk: tickets (with their AI insights and CSAT), conversation, attachments, SLA
 * policies, calendars, teams and their members, the knowledge base and the analytics, all
 * typed from the OpenAPI document the server generates (`src/api/openapi.json`). Single
 * resources arrive as `{data}`, lists as `{data, meta}`; errors are problem+json.
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type ApiClient, type ApiError, unwrap } from './client';
import { useApi } from './context';
import { type PageMeta, withQuery } from './identity';
import { loose } from './loose';
import type { components } from './schema';

type Schemas = components['schemas'];

export type Ticket = Schemas['Ticket'];
export type TicketSla = Schemas['TicketSla'];
export type TicketSentiment = Schemas['TicketSentiment'];
export type TicketStatus = Schemas['TicketStatus'];
export type TicketType = Schemas['TicketType'];
export type Priority = Schemas['Priority'];
export type SlaStatus = Schemas['SlaStatus'];
export type Message = Schemas['Message'];
export type MessageKind = Schemas['MessageKind'];
export type StoredSentiment = Schemas['StoredSentiment'];
export type Attachment = Schemas['Attachment'];
export type SlaPolicy = Schemas['SlaPolicy'];
export type PriorityTargets = Schemas['PriorityTargets'];
export type TypeMultipliers = Schemas['TypeMultipliers'];
export type CalendarRecord = Schemas['CalendarRecord'];
export type WeeklyHours = Schemas['WeeklyHours'];
export type HoursSpan = Schemas['HoursSpan'];
export type Team = Schemas['Team'];
export type NewTeam = Schemas['NewTeam'];
export type TeamPatch = Schemas['TeamPatch'];
export type TeamMember = Schemas['TeamMember'];
export type AssignmentMethod = Schemas['AssignmentMethod'];
export type TicketPatch = Schemas['TicketPatch'];
export type NewTicket = Schemas['NewTicket'];
export type TicketInsights = Schemas['TicketInsights'];
export type RecommendedAction = Schemas['RecommendedAction'];
export type TicketCsat = Schemas['TicketCsat'];
export type NewCsat = Schemas['NewCsat'];
export type SuggestedArticle = Schemas['SuggestedArticle'];
export type KbCategory = Schemas['KbCategory'];
export type NewKbCategory = Schemas['NewKbCategory'];
export type KbArticle = Schemas['KbArticle'];
export type NewKbArticle = Schemas['NewKbArticle'];
export type KbArticlePatch = Schemas['KbArticlePatch'];
export type KbStatus = Schemas['ArticleStatus'];
export type HelpdeskAnalytics = Schemas['HelpdeskAnalytics'];
export type HoursStats = Schemas['HoursStats'];
export type CustomerTickets = Schemas['CustomerTickets'];

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
  allSuggested: ['helpdesk', 'tickets', 'suggested'] as const,
  policies: ['helpdesk', 'sla-policies'] as const,
  calendars: ['helpdesk', 'calendars'] as const,
  teams: ['helpdesk', 'teams'] as const,
  teamMembers: (id: string) => ['helpdesk', 'teams', 'members', id] as const,
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

/** `GET /tickets/{id}/suggested-articles`: published articles ranked against the ticket's text. */
export function useSuggestedArticles(id: string, enabled = true, limit = 5) {
  const api = useApi();
  return useQuery<SuggestedArticle[], ApiError>({
    enabled,
    queryKey: helpdeskKeys.suggested(id),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/tickets/{id}/suggested-articles', {
            signal,
            params: { path: { id } },
            ...withQuery({ limit }),
          }),
        )
      ).data,
    staleTime: 60_000,
  });
}

/** KB categories, in the server's order (`position`, then name). */
export function useKbCategories() {
  const api = useApi();
  return useQuery<KbCategory[], ApiError>({
    queryKey: helpdeskKeys.kbCategories,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/api/v1/kb/categories', { signal }))).data,
  });
}

/**
 * KB articles: with a search term, one page ranked by relevance (`score`, best first);
 * without, the newest changes first. Drafts only come back to holders of `kb:manage`.
 */
export function useKbArticles(q: string, categoryId: string | null) {
  const api = useApi();
  const term = q.trim();
  return useQuery<KbArticle[], ApiError>({
    queryKey: helpdeskKeys.kbArticles(term, categoryId),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/kb/articles', {
            signal,
            ...withQuery({ q: term, category_id: categoryId, limit: term ? 50 : 100 }),
          }),
        )
      ).data,
    placeholderData: keepPreviousData,
  });
}

/** One article (`GET /kb/articles/{id}`), for a link to an article the list does not show. */
export function useKbArticle(id: string | null) {
  const api = useApi();
  return useQuery<KbArticle, ApiError>({
    queryKey: helpdeskKeys.kbArticle(id ?? ''),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/kb/articles/{id}', { signal, params: { path: { id: id ?? '' } } })))
        .data,
    enabled: Boolean(id),
    retry: false,
  });
}

/** `GET /helpdesk/analytics` for a period (UTC dates, `to` inclusive) and optionally a team. */
export function useHelpdeskAnalytics(from: string, to: string, teamId: string | null) {
  const api = useApi();
  return useQuery<HelpdeskAnalytics, ApiError>({
    queryKey: helpdeskKeys.analytics(from, to, teamId),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/helpdesk/analytics', { signal, ...withQuery({ from, to, team_id: teamId }) }),
        )
      ).data,
    placeholderData: keepPreviousData,
    retry: (count, error) => error.status !== 403 && error.status !== 422 && count < 2,
  });
}

/** A team's members with their skills (`GET /teams/{id}/members`). */
export function useTeamMembers(teamId: string | null) {
  const api = useApi();
  return useQuery<TeamMember[], ApiError>({
    queryKey: helpdeskKeys.teamMembers(teamId ?? ''),
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/api/v1/teams/{id}/members', { signal, params: { path: { id: teamId ?? '' } } }),
        )
      ).data,
    enabled: Boolean(teamId),
  });
}

export const ASSIGNMENT_METHODS: readonly { value: AssignmentMethod; label: string }[] = [
  { value: 'manual', label: 'Manual' },
  { value: 'round_robin', label: 'Round robin' },
  { value: 'least_open', label: 'Fewest open tickets' },
];

/** "Round robin", "Fewest open tickets", "Manual". */
export function methodLabel(method: AssignmentMethod): string {
  return ASSIGNMENT_METHODS.find((m) => m.value === method)?.label ?? method;
}

/** What happens to a new ticket of `team` opened without an assignee (null: nothing). */
export function autoAssignHint(team: Team | undefined): string | null {
  if (!team || team.assignment_method === 'manual') return null;
  const how = methodLabel(team.assignment_method).toLowerCase();
  const skill = team.assign_by_skill ? ', among members with a skill matching its tags' : '';
  return `Left unassigned, ${team.name} assigns it to a member (${how}${skill}).`;
}

/** Tags as the server keeps them: trimmed, lower case, no empties, no duplicates. */
export function cleanTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const tag = t.trim().toLowerCase();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/** The `If-Match` header for a record's version. */
export function ifMatch(version: number): { 'if-match': string } {
  return { 'if-match': `"${version}"` };
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
