import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  FileButton,
  Grid,
  Group,
  List,
  Paper,
  Progress,
  Rating,
  SegmentedControl,
  Select,
  Stack,
  TagsInput,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import {
  IconAlertTriangle,
  IconArrowLeft,
  IconBulb,
  IconDownload,
  IconLock,
  IconPaperclip,
  IconSend,
} from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, type SubmitEvent, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  type Attachment,
  cleanTags,
  downloadAttachment,
  formatBytes,
  helpdeskKeys,
  type Message,
  type MessageKind,
  type NewCsat,
  NEXT_STATUSES,
  PRIORITIES,
  type Ticket,
  type TicketCsat,
  type TicketPatch,
  transitionLabel,
  trendLabel,
  uploadAttachment,
  uploadProblem,
  useAttachments,
  useMessages,
  useSuggestedArticles,
  useTeams,
  useTicket,
} from '../../api/helpdesk';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageLoader } from '../../components/PageLoader';
import { formatDate } from '../../lib/format';
import { formatTargetMinutes, responseMet } from '../../lib/countdown';
import { useDocumentTitle } from '../../lib/useDocumentTitle';
import { CompanyName } from '../crm/shared';
import {
  DeadlineCountdown,
  PriorityBadge,
  SentimentMarker,
  SlaCountdown,
  SlaStatusBadge,
  TicketStatusBadge,
} from './badges';
import { usePeople } from './people';

/** A ticket: conversation, reply box, attachments, status, SLA, mood and insights. */
export function TicketPage() {
  const { id = '' } = useParams();
  const ticket = useTicket(id);
  useDocumentTitle(ticket.data ? `${ticket.data.number} · Helpdesk` : 'Ticket · Helpdesk');
  if (ticket.error)
    return <ErrorAlert error={ticket.error} what="this ticket" onRetry={() => void ticket.refetch()} />;
  if (!ticket.data) return <PageLoader />;
  return <TicketView ticket={ticket.data} />;
}

/** Sends a PATCH with the ticket's version; a 412 takes the server's copy and says so. */
function useUpdateTicket(ticket: Ticket) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation<Ticket, ApiError, Omit<TicketPatch, 'version'>>({
    mutationFn: async (patch) =>
      (
        await unwrap(
          api.PATCH('/api/v1/tickets/{id}', {
            params: { path: { id: ticket.id } },
            body: { ...patch, version: ticket.version },
          }),
        )
      ).data,
    onSuccess: async (updated) => {
      queryClient.setQueryData(helpdeskKeys.ticket(ticket.id), updated);
      await queryClient.invalidateQueries({ queryKey: [...helpdeskKeys.tickets, 'list'] });
    },
    onError: async (error) => {
      if (error.status === 412) {
        notifications.show({
          color: 'orange',
          title: 'Someone else changed this ticket',
          message: 'The page now shows their version; make your change again if it still applies.',
        });
        await queryClient.invalidateQueries({ queryKey: helpdeskKeys.ticket(ticket.id) });
      } else {
        notifications.show({
          color: 'red',
          title: 'Not saved',
          message: error.fieldErrors[0]?.message ?? error.detail ?? error.title,
        });
      }
    },
  });
}

function TicketView({ ticket }: { ticket: Ticket }) {
  const can = useCan();
  const update = useUpdateTicket(ticket);
  const canUpdate = can('tickets:update');
  const next = NEXT_STATUSES[ticket.status];
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <Stack gap={6}>
          <Anchor component={Link} to="/helpdesk" size="sm">
            <Group gap={4}>
              <IconArrowLeft size={14} /> Inbox
            </Group>
          </Anchor>
          <Group gap="sm" data-testid="ticket-title">
            <Text c="dimmed" ff="monospace" data-testid="ticket-number">
              {ticket.number}
            </Text>
            <Title order={2} fz={22}>
              {ticket.subject}
            </Title>
          </Group>
          <Group gap="xs">
            <PriorityBadge priority={ticket.priority} />
            <TicketStatusBadge status={ticket.status} />
            <Badge variant="default" radius="sm">
              {ticket.type}
            </Badge>
            {ticket.sentiment ? (
              <SentimentMarker
                label={ticket.sentiment.label}
                compound={ticket.sentiment.compound}
                trend={ticket.sentiment.trend}
              />
            ) : null}
          </Group>
        </Stack>
        {canUpdate && next.length > 0 ? (
          <Group gap="xs" aria-label="Status changes" role="group">
            {next.map((to) => (
              <Button
                key={to}
                variant={to === 'Resolved' ? 'filled' : 'default'}
                size="sm"
                loading={update.isPending && update.variables.status === to}
                onClick={() => {
                  update.mutate({ status: to });
                }}
              >
                {transitionLabel(ticket.status, to)}
              </Button>
            ))}
          </Group>
        ) : null}
      </Group>

      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack gap="lg">
            <Card withBorder>
              <Text size="xs" c="dimmed" mb={4}>
                Opened {formatDate(ticket.created_at, true)}
              </Text>
              <Text style={{ whiteSpace: 'pre-wrap' }} data-testid="ticket-description">
                {ticket.description || 'No description.'}
              </Text>
            </Card>
            <Conversation ticket={ticket} />
            <Attachments ticket={ticket} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="lg">
            <SlaPanel ticket={ticket} />
            <DetailsPanel ticket={ticket} canUpdate={canUpdate} update={update} />
            <MoodPanel ticket={ticket} />
            <InsightPanel ticket={ticket} />
            <SuggestedArticles ticketId={ticket.id} />
            <CsatPanel ticket={ticket} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

const KIND_LOOK: Record<MessageKind, { label: string; bg: string; border: string }> = {
  customer: {
    label: 'Customer',
    bg: 'var(--mantine-color-gray-light)',
    border: 'var(--mantine-color-gray-4)',
  },
  reply: { label: 'Reply', bg: 'var(--mantine-color-blue-light)', border: 'var(--mantine-color-blue-5)' },
  note: {
    label: 'Internal note',
    bg: 'var(--mantine-color-yellow-light)',
    border: 'var(--mantine-color-yellow-6)',
  },
};

function MessageItem({ message: m, author }: { message: Message; author: string }) {
  const look = KIND_LOOK[m.kind];
  return (
    <Paper
      p="sm"
      radius="md"
      data-testid="message"
      data-kind={m.kind}
      ml={m.kind === 'customer' ? 0 : 'xl'}
      mr={m.kind === 'customer' ? 'xl' : 0}
      style={{ background: look.bg, borderLeft: `4px solid ${look.border}` }}
    >
      <Group justify="space-between" gap="xs" mb={4}>
        <Group gap={6}>
          {m.kind === 'note' ? <IconLock size={14} aria-hidden /> : null}
          <Text size="xs" fw={600}>
            {look.label}
          </Text>
          <Text size="xs" c="dimmed">
            {author}
          </Text>
          {m.sentiment ? <SentimentMarker label={m.sentiment.label} compound={m.sentiment.compound} /> : null}
        </Group>
        <Text size="xs" c="dimmed">
          {formatDate(m.created_at, true)}
        </Text>
      </Group>
      <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
        {m.body}
      </Text>
    </Paper>
  );
}

function Conversation({ ticket }: { ticket: Ticket }) {
  const api = useApi();
  const can = useCan();
  const people = usePeople();
  const queryClient = useQueryClient();
  const messages = useMessages(ticket.id);
  const [kind, setKind] = useState<'reply' | 'note'>('reply');
  const [body, setBody] = useState('');
  const send = useMutation<Message, ApiError, { kind: MessageKind; body: string }>({
    mutationFn: async (msg) =>
      (
        await unwrap(
          api.POST('/api/v1/tickets/{id}/messages', { params: { path: { id: ticket.id } }, body: msg }),
        )
      ).data,
    onSuccess: async () => {
      setBody('');
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: helpdeskKeys.messages(ticket.id) }),
        queryClient.invalidateQueries({ queryKey: helpdeskKeys.ticket(ticket.id) }),
        queryClient.invalidateQueries({ queryKey: helpdeskKeys.suggested(ticket.id) }),
        queryClient.invalidateQueries({ queryKey: [...helpdeskKeys.tickets, 'list'] }),
      ]);
    },
  });
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    send.mutate({ kind, body });
  };
  const authorOf = (m: Message) =>
    m.author_id ? people.nameOf(m.author_id).replace(/^Someone$/, m.author) : m.author;
  return (
    <Card withBorder>
      <Title order={3} fz={16} mb="sm">
        Conversation
      </Title>
      {messages.error ? <ErrorAlert error={messages.error} what="the conversation" /> : null}
      <Stack gap="sm" data-testid="conversation">
        {messages.data?.length === 0 ? (
          <Text c="dimmed" size="sm">
            No messages yet.
          </Text>
        ) : null}
        {messages.data?.map((m) => (
          <MessageItem key={m.id} message={m} author={authorOf(m)} />
        ))}
      </Stack>
      {can('tickets:update') ? (
        <form onSubmit={onSubmit} aria-label="Reply" noValidate>
          <Stack gap="xs" mt="md">
            <SegmentedControl
              aria-label="Message kind"
              value={kind}
              onChange={(v) => {
                setKind(v === 'note' ? 'note' : 'reply');
              }}
              data={[
                { value: 'reply', label: 'Reply to customer' },
                { value: 'note', label: 'Internal note' },
              ]}
              w="fit-content"
            />
            <Textarea
              aria-label={kind === 'note' ? 'Internal note' : 'Reply'}
              placeholder={kind === 'note' ? 'Only agents see this note' : 'Write to the customer'}
              autosize
              minRows={3}
              value={body}
              onChange={(e) => {
                setBody(e.currentTarget.value);
              }}
              error={send.error?.fieldError('body')}
              styles={
                kind === 'note' ? { input: { background: 'var(--mantine-color-yellow-light)' } } : undefined
              }
            />
            {send.error && !send.error.fieldError('body') ? (
              <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
                {send.error.detail ?? send.error.title}
              </Alert>
            ) : null}
            <Group justify="flex-end">
              <Button
                type="submit"
                leftSection={kind === 'note' ? <IconLock size={16} /> : <IconSend size={16} />}
                loading={send.isPending}
                color={kind === 'note' ? 'yellow' : undefined}
              >
                {kind === 'note' ? 'Add note' : 'Send reply'}
              </Button>
            </Group>
          </Stack>
        </form>
      ) : null}
    </Card>
  );
}

function Attachments({ ticket }: { ticket: Ticket }) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const attachments = useAttachments(ticket.id);
  const [refused, setRefused] = useState<string | null>(null);
  const upload = useMutation<Attachment, ApiError, File>({
    mutationFn: (file) => uploadAttachment(api, ticket.id, file),
    onMutate: () => {
      setRefused(null);
    },
    onSuccess: async (a) => {
      notifications.show({ color: 'teal', message: `${a.filename} attached.` });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.attachments(ticket.id) });
    },
    onError: (error, file) => {
      setRefused(`${file.name} was refused: ${uploadProblem(error)}`);
    },
  });
  const download = (a: Attachment) => {
    downloadAttachment(api, a).catch((e: unknown) => {
      notifications.show({
        color: 'red',
        title: 'Download failed',
        message: e instanceof ApiError ? (e.detail ?? e.title) : String(e),
      });
    });
  };
  return (
    <Card withBorder data-testid="attachments">
      <Group justify="space-between" mb="sm">
        <Title order={3} fz={16}>
          Attachments
        </Title>
        {can('tickets:update') ? (
          <FileButton
            onChange={(file) => {
              if (file) upload.mutate(file);
            }}
          >
            {(props) => (
              <Button
                {...props}
                variant="default"
                size="xs"
                leftSection={<IconPaperclip size={14} />}
                loading={upload.isPending}
              >
                Attach file
              </Button>
            )}
          </FileButton>
        ) : null}
      </Group>
      {refused ? (
        <Alert
          color="red"
          variant="light"
          icon={<IconAlertTriangle size={18} />}
          role="alert"
          mb="sm"
          data-testid="upload-problem"
        >
          {refused}
        </Alert>
      ) : null}
      {attachments.error ? <ErrorAlert error={attachments.error} what="the attachments" /> : null}
      {attachments.data?.length === 0 ? (
        <Text c="dimmed" size="sm">
          No files.
        </Text>
      ) : null}
      <Stack gap={6}>
        {attachments.data?.map((a) => (
          <Group key={a.id} justify="space-between" wrap="nowrap">
            <Text size="sm" truncate>
              {a.filename}{' '}
              <Text span size="xs" c="dimmed">
                {a.content_type} · {formatBytes(a.size_bytes)}
              </Text>
            </Text>
            <Button
              size="xs"
              variant="subtle"
              leftSection={<IconDownload size={14} />}
              onClick={() => {
                download(a);
              }}
              aria-label={`Download ${a.filename}`}
            >
              Download
            </Button>
          </Group>
        ))}
      </Stack>
    </Card>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group justify="space-between" gap="xs" wrap="nowrap">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <div>{children}</div>
    </Group>
  );
}

function SlaPanel({ ticket }: { ticket: Ticket }) {
  const { sla } = ticket;
  const met = responseMet(sla);
  return (
    <Card withBorder data-testid="sla-panel">
      <Group justify="space-between" mb="sm">
        <Title order={3} fz={16}>
          SLA
        </Title>
        <SlaStatusBadge status={sla.status} />
      </Group>
      <Stack gap={6}>
        <Row label="Policy">
          <Text size="sm" data-testid="sla-policy">
            {sla.policy.name}
          </Text>
        </Row>
        <Row label="Next deadline">
          <SlaCountdown sla={sla} />
        </Row>
        <Row label="Response target">
          <Text size="sm" data-testid="response-target">
            {formatTargetMinutes(sla.response_target_minutes)}
          </Text>
        </Row>
        <Row label="Response due">
          <Stack gap={0} align="flex-end">
            <DeadlineCountdown
              dueAt={sla.response_due_at}
              done={Boolean(sla.first_response_at)}
              paused={sla.paused}
              testId="response-countdown"
            />
            <Text size="xs" c="dimmed">
              {formatDate(sla.response_due_at, true)}
            </Text>
          </Stack>
        </Row>
        {sla.first_response_at ? (
          <Row label="First response">
            <Stack gap={0} align="flex-end">
              <Text size="sm" c={met ? 'teal' : 'red'} data-testid="first-response">
                {met ? 'Within target' : 'Late'}
              </Text>
              <Text size="xs" c="dimmed">
                {formatDate(sla.first_response_at, true)}
              </Text>
            </Stack>
          </Row>
        ) : null}
        <Row label="Resolution target">
          <Text size="sm" data-testid="resolution-target">
            {formatTargetMinutes(sla.resolution_target_minutes)}
          </Text>
        </Row>
        <Row label="Resolution due">
          <Stack gap={0} align="flex-end">
            <DeadlineCountdown
              dueAt={sla.resolution_due_at}
              done={Boolean(sla.resolved_at)}
              paused={sla.paused}
              testId="resolution-countdown"
            />
            <Text size="xs" c="dimmed">
              {formatDate(sla.resolution_due_at, true)}
            </Text>
          </Stack>
        </Row>
        {sla.paused ? (
          <Text size="xs" c="dimmed" data-testid="sla-paused">
            The clock is paused ({ticket.status}).
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          Targets count business hours of the policy's calendar.
        </Text>
      </Stack>
    </Card>
  );
}

function DetailsPanel({
  ticket,
  canUpdate,
  update,
}: {
  ticket: Ticket;
  canUpdate: boolean;
  update: ReturnType<typeof useUpdateTicket>;
}) {
  const teams = useTeams();
  const people = usePeople();
  const assignees = people.list.map((p) => ({ value: p.id, label: people.nameOf(p.id) }));
  if (ticket.assignee_id && !assignees.some((a) => a.value === ticket.assignee_id)) {
    assignees.push({ value: ticket.assignee_id, label: people.nameOf(ticket.assignee_id) });
  }
  return (
    <Card withBorder data-testid="details-panel">
      <Title order={3} fz={16} mb="sm">
        Details
      </Title>
      <Stack gap="xs">
        <Select
          label="Priority"
          data={[...PRIORITIES]}
          value={ticket.priority}
          disabled={!canUpdate}
          allowDeselect={false}
          onChange={(v) => {
            if (v && v !== ticket.priority) update.mutate({ priority: v });
          }}
          comboboxProps={{ withinPortal: true }}
        />
        <Select
          label="Assignee"
          placeholder="Unassigned"
          data={assignees}
          value={ticket.assignee_id ?? null}
          disabled={!canUpdate}
          clearable
          searchable
          onChange={(v) => {
            if (v !== (ticket.assignee_id ?? null)) update.mutate({ assignee_id: v });
          }}
          comboboxProps={{ withinPortal: true }}
        />
        <Select
          label="Team"
          placeholder="No team"
          data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
          value={ticket.team_id ?? null}
          disabled={!canUpdate}
          clearable
          onChange={(v) => {
            if (v !== (ticket.team_id ?? null)) update.mutate({ team_id: v });
          }}
          comboboxProps={{ withinPortal: true }}
        />
        <Row label="Customer">
          <Text size="sm">{ticket.company_id ? <CompanyName id={ticket.company_id} /> : '–'}</Text>
        </Row>
        {canUpdate ? (
          <TicketTags ticket={ticket} update={update} />
        ) : ticket.tags.length > 0 ? (
          <Group gap={4} data-testid="ticket-tags">
            {ticket.tags.map((t) => (
              <Badge key={t} variant="dot" radius="sm">
                {t}
              </Badge>
            ))}
          </Group>
        ) : null}
      </Stack>
    </Card>
  );
}

/**
 * The ticket's tags, edited in place: each change is saved at once (`tags` replaces the
 * list; the server lower-cases them, and skill-based assignment matches them).
 */
export function TicketTags({
  ticket,
  update,
}: {
  ticket: Ticket;
  update: ReturnType<typeof useUpdateTicket>;
}) {
  const [tags, setTags] = useState<string[]>(ticket.tags);
  const [seen, setSeen] = useState(ticket.tags);
  if (seen !== ticket.tags) {
    // the server's copy changed (saved, or someone else's change): show it
    setSeen(ticket.tags);
    setTags(ticket.tags);
  }
  return (
    <TagsInput
      label="Tags"
      placeholder="Add a tag"
      data-testid="ticket-tags"
      value={tags}
      onChange={(next) => {
        const clean = cleanTags(next);
        setTags(clean);
        if (clean.join('\u0000') !== ticket.tags.join('\u0000')) update.mutate({ tags: clean });
      }}
      error={update.error?.fieldError('tags')}
      clearable
    />
  );
}

function MoodPanel({ ticket }: { ticket: Ticket }) {
  const s = ticket.sentiment;
  if (!s) return null;
  const direction = trendLabel(s.trend);
  return (
    <Card withBorder data-testid="mood-panel">
      <Title order={3} fz={16} mb="sm">
        Customer mood
      </Title>
      <Group gap="sm">
        <SentimentMarker label={s.label} compound={s.compound} trend={s.trend} />
        <Text size="sm">
          Latest: {s.label} ({s.compound.toFixed(2)})
        </Text>
      </Group>
      {direction ? (
        <Text
          size="sm"
          mt={4}
          c={direction === 'worsening' ? 'red' : direction === 'improving' ? 'teal' : 'dimmed'}
        >
          Trend: {direction} ({(s.trend ?? 0) >= 0 ? '+' : ''}
          {(s.trend ?? 0).toFixed(2)})
        </Text>
      ) : null}
    </Card>
  );
}

const ACTION_LABEL: Record<string, string> = {
  raise_priority: 'Raise priority',
  assign_senior_agent: 'Assign a senior agent',
  suggest_kb_articles: 'Suggest knowledge base articles',
};

/** The AI insight: hidden when the server does not send `insights` (not built there yet). */
function InsightPanel({ ticket }: { ticket: Ticket }) {
  const insights = ticket.insights;
  if (!insights) return null;
  const risk = Math.round(insights.escalation_risk * 100);
  return (
    <Card withBorder data-testid="insight-panel">
      <Group justify="space-between" mb="sm">
        <Group gap={6}>
          <IconBulb size={18} />
          <Title order={3} fz={16}>
            AI insight
          </Title>
        </Group>
        <Badge variant="light" color="gray" radius="sm">
          {insights.source === 'model' ? 'model' : 'rules'}
        </Badge>
      </Group>
      <Stack gap="xs">
        <div>
          <Group justify="space-between">
            <Text size="sm">Escalation risk</Text>
            <Text size="sm" fw={600} c={risk >= 60 ? 'red' : risk >= 30 ? 'orange' : undefined}>
              {risk}%
            </Text>
          </Group>
          <Progress value={risk} color={risk >= 60 ? 'red' : risk >= 30 ? 'orange' : 'teal'} size="sm" />
        </div>
        <Row label="Predicted priority">
          <PriorityBadge priority={insights.predicted_priority} />
        </Row>
        {insights.urgency_keywords.length > 0 ? (
          <Group gap={4}>
            {insights.urgency_keywords.map((k) => (
              <Badge key={k} color="red" variant="outline" radius="sm" size="sm">
                {k}
              </Badge>
            ))}
          </Group>
        ) : null}
        {insights.ai_insights.length > 0 ? (
          <List size="sm" spacing={2}>
            {insights.ai_insights.map((r) => (
              <List.Item key={r}>{r}</List.Item>
            ))}
          </List>
        ) : null}
        {insights.recommended_actions.length > 0 ? (
          <Stack gap={2}>
            <Text size="xs" fw={600} c="dimmed">
              Recommended
            </Text>
            {insights.recommended_actions.map((a) => (
              <div key={`${a.action}-${a.detail}`} data-testid="recommended-action">
                <Text size="sm" fw={500}>
                  {ACTION_LABEL[a.action] ?? a.action}
                </Text>
                {a.detail ? (
                  <Text size="xs" c="dimmed">
                    {a.detail}
                  </Text>
                ) : null}
              </div>
            ))}
          </Stack>
        ) : null}
        <Text size="xs" c="dimmed">
          Computed {formatDate(insights.computed_at, true)}
        </Text>
      </Stack>
    </Card>
  );
}

/**
 * Suggested KB articles for the ticket's text: hidden when none fit, and for a role without
 * `kb:read` (the server answers 403 there).
 */
function SuggestedArticles({ ticketId }: { ticketId: string }) {
  const can = useCan();
  const articles = useSuggestedArticles(ticketId, can('kb:read'));
  if (!articles.data || articles.data.length === 0) return null;
  return (
    <Card withBorder data-testid="suggested-articles">
      <Title order={3} fz={16} mb="sm">
        Suggested articles
      </Title>
      <Stack gap="xs">
        {articles.data.map((a) => (
          <div key={a.id}>
            <Anchor component={Link} to={`/helpdesk/kb?article=${a.id}`} size="sm" fw={500}>
              {a.title}
            </Anchor>
            <Text size="xs" c="dimmed" lineClamp={2}>
              {a.snippet}
            </Text>
          </div>
        ))}
      </Stack>
    </Card>
  );
}

/** CSAT: the rating when there is one; on a resolved ticket without one, a form to record it. */
function CsatPanel({ ticket }: { ticket: Ticket }) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState('');
  const save = useMutation<TicketCsat, ApiError, NewCsat>({
    mutationFn: async (body) =>
      (await unwrap(api.POST('/api/v1/tickets/{id}/csat', { params: { path: { id: ticket.id } }, body })))
        .data,
    onSuccess: async (csat) => {
      queryClient.setQueryData<Ticket>(helpdeskKeys.ticket(ticket.id), (t) => (t ? { ...t, csat } : t));
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.ticket(ticket.id) });
    },
    onError: async (error) => {
      // 409: not resolved any more, or rated meanwhile: show the server's copy
      if (error.status === 409)
        await queryClient.invalidateQueries({ queryKey: helpdeskKeys.ticket(ticket.id) });
    },
  });
  const done = ticket.status === 'Resolved' || ticket.status === 'Closed';
  if (!ticket.csat && (!done || !can('tickets:update'))) return null;
  return (
    <Card withBorder data-testid="csat-panel">
      <Title order={3} fz={16} mb="sm">
        Customer satisfaction
      </Title>
      {ticket.csat ? (
        <Stack gap={4}>
          <Rating
            value={ticket.csat.rating}
            readOnly
            data-testid="csat-rating"
            data-rating={ticket.csat.rating}
          />
          {ticket.csat.comment ? <Text size="sm">“{ticket.csat.comment}”</Text> : null}
          <Text size="xs" c="dimmed">
            Rated {formatDate(ticket.csat.rated_at, true)}
          </Text>
        </Stack>
      ) : (
        <Stack gap="xs">
          <Text size="xs" c="dimmed">
            The customer was asked for a rating when the ticket was resolved. Record their answer:
          </Text>
          <Rating value={rating} onChange={setRating} aria-label="Rating" />
          <Textarea
            placeholder="Comment (optional)"
            aria-label="CSAT comment"
            value={comment}
            onChange={(e) => {
              setComment(e.currentTarget.value);
            }}
            error={save.error?.fieldError('comment')}
          />
          {save.error && !save.error.fieldError('comment') ? (
            <Text size="sm" c="red" role="alert">
              {save.error.fieldError('rating') ?? save.error.detail ?? save.error.title}
            </Text>
          ) : null}
          <Button
            size="xs"
            variant="light"
            disabled={rating < 1}
            loading={save.isPending}
            onClick={() => {
              save.mutate(comment.trim() ? { rating, comment: comment.trim() } : { rating });
            }}
          >
            Record rating
          </Button>
        </Stack>
      )}
    </Card>
  );
}
