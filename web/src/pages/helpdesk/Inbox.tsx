import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Table,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { useCrmList } from '../../api/crm';
import {
  autoAssignHint,
  cleanTags,
  helpdeskKeys,
  INBOX_VIEWS,
  isInboxView,
  type NewTicket,
  PRIORITIES,
  type Priority,
  STATUSES,
  type Ticket,
  ticketPath,
  TICKET_TYPES,
  type TicketType,
  useTeams,
  useTickets,
} from '../../api/helpdesk';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { CompanyName, CompanyPicker } from '../crm/shared';
import { PriorityBadge, SentimentMarker, SlaCountdown, SlaStatusBadge, TicketStatusBadge } from './badges';
import { usePeople } from './people';

/** The inbox: views, filters, the tickets most urgent first with a live SLA countdown each. */
export function InboxPage() {
  const [search, setSearch] = useSearchParams();
  const viewParam = search.get('view');
  const view = isInboxView(viewParam) ? viewParam : 'all';
  const status = search.get('status');
  const priority = search.get('priority');
  const teamId = search.get('team');
  const tickets = useTickets({ view, status, priority, teamId });
  const teams = useTeams();
  const people = usePeople();
  const can = useCan();
  const [open, dialog] = useDisclosure(false);
  const setParam = (name: string, value: string | null) => {
    setSearch(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  };
  const rows = tickets.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <SegmentedControl
          aria-label="Inbox view"
          value={view}
          onChange={(v) => {
            setParam('view', v === 'all' ? null : v);
          }}
          data={INBOX_VIEWS.map((v) => ({ value: v.value, label: v.label }))}
        />
        <Group gap="sm" wrap="wrap">
          <Select
            aria-label="Status"
            placeholder="Any status"
            clearable
            w={190}
            data={[...STATUSES]}
            value={status}
            onChange={(v) => {
              setParam('status', v);
            }}
          />
          <Select
            aria-label="Priority"
            placeholder="Any priority"
            clearable
            w={150}
            data={[...PRIORITIES]}
            value={priority}
            onChange={(v) => {
              setParam('priority', v);
            }}
          />
          {teams.data && teams.data.length > 0 ? (
            <Select
              aria-label="Team"
              placeholder="Any team"
              clearable
              w={170}
              data={teams.data.map((t) => ({ value: t.id, label: t.name }))}
              value={teamId}
              onChange={(v) => {
                setParam('team', v);
              }}
            />
          ) : null}
          {can('tickets:create') ? (
            <Button leftSection={<IconPlus size={16} />} onClick={dialog.open}>
              New ticket
            </Button>
          ) : null}
        </Group>
      </Group>

      {tickets.error ? (
        <ErrorAlert error={tickets.error} what="the tickets" onRetry={() => void tickets.refetch()} />
      ) : (
        <Card p={0} withBorder>
          <Table.ScrollContainer minWidth={900}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="Tickets">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Ticket</Table.Th>
                  <Table.Th>Priority</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>SLA</Table.Th>
                  <Table.Th>Due in</Table.Th>
                  <Table.Th>Mood</Table.Th>
                  <Table.Th>Customer</Table.Th>
                  <Table.Th>Assignee</Table.Th>
                  <Table.Th>Opened</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((t) => (
                  <TicketRow key={t.id} ticket={t} assignee={people.nameOf(t.assignee_id)} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {!tickets.isPending && rows.length === 0 ? (
            <Text c="dimmed" ta="center" py="xl" data-testid="inbox-empty">
              No tickets in this view.
            </Text>
          ) : null}
          {tickets.isPending ? (
            <Text c="dimmed" ta="center" py="xl">
              Loading tickets…
            </Text>
          ) : null}
        </Card>
      )}
      {tickets.hasNextPage ? (
        <Group justify="center">
          <Button
            variant="default"
            loading={tickets.isFetchingNextPage}
            onClick={() => void tickets.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      ) : null}
      <NewTicketModal opened={open} onClose={dialog.close} />
    </Stack>
  );
}

function TicketRow({ ticket: t, assignee }: { ticket: Ticket; assignee: string }) {
  return (
    <Table.Tr data-testid="ticket-row" data-ticket-id={t.id}>
      <Table.Td maw={380}>
        <Stack gap={0}>
          <Anchor component={Link} to={ticketPath(t.id)} fw={500} lineClamp={1}>
            {t.subject}
          </Anchor>
          <Text size="xs" c="dimmed">
            {t.number} · {t.type}
          </Text>
        </Stack>
      </Table.Td>
      <Table.Td>
        <PriorityBadge priority={t.priority} />
      </Table.Td>
      <Table.Td>
        <TicketStatusBadge status={t.status} />
      </Table.Td>
      <Table.Td>
        <SlaStatusBadge status={t.sla.status} />
      </Table.Td>
      <Table.Td>
        <SlaCountdown sla={t.sla} />
      </Table.Td>
      <Table.Td>
        {t.sentiment ? (
          <SentimentMarker
            label={t.sentiment.label}
            compound={t.sentiment.compound}
            trend={t.sentiment.trend}
          />
        ) : (
          <Text span c="dimmed" size="sm">
            –
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{t.company_id ? <CompanyName id={t.company_id} /> : '–'}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{assignee}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatDate(t.created_at)}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

interface Draft {
  subject: string;
  description: string;
  type: TicketType | null;
  priority: Priority | null;
  company_id: string | null;
  contact_id: string | null;
  team_id: string | null;
  assignee_id: string | null;
  tags: string[];
}

const EMPTY: Draft = {
  subject: '',
  description: '',
  type: 'Question',
  priority: 'Medium',
  company_id: null,
  contact_id: null,
  team_id: null,
  assignee_id: null,
  tags: [],
};

/** Contacts of the chosen company (all contacts when none is chosen), searchable. */
function ContactPicker({
  companyId,
  value,
  onChange,
  error,
}: {
  companyId: string | null;
  value: string | null;
  onChange: (id: string | null) => void;
  error?: string | undefined;
}) {
  const filters: Record<string, string> = companyId ? { company_id: companyId } : {};
  const list = useCrmList('contacts', { sort: '', filters });
  const data = (list.data?.pages.flatMap((p) => p.data) ?? []).map((c) => ({
    value: c.id,
    label: `${c.first_name} ${c.last_name}`.trim(),
  }));
  return (
    <Select
      label="Contact"
      placeholder={list.error ? 'Contacts are not available' : 'Choose a contact'}
      searchable
      clearable
      data={data}
      value={value}
      onChange={onChange}
      error={error}
      disabled={Boolean(list.error)}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** Opens a ticket; the server's field errors show next to their fields. */
export function NewTicketModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const teams = useTeams();
  const people = usePeople();
  const team = teams.data?.find((t) => t.id === draft.team_id);
  const hint = draft.assignee_id ? null : autoAssignHint(team);
  const create = useMutation<Ticket, ApiError, NewTicket>({
    mutationFn: async (body) => (await unwrap(api.POST('/api/v1/tickets', { body }))).data,
    onSuccess: async (ticket) => {
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.tickets });
      notifications.show({ color: 'teal', message: `${ticket.number} opened.` });
      setDraft(EMPTY);
      onClose();
      void navigate(ticketPath(ticket.id));
    },
  });
  const error = create.error;
  const known = [
    'subject',
    'description',
    'type',
    'priority',
    'company_id',
    'contact_id',
    'team_id',
    'assignee_id',
    'tags',
  ];
  const otherError = error && !known.some((f) => error.fieldError(f));
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const close = () => {
    create.reset();
    onClose();
  };
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    // Missing type or priority are sent as they are, so the server names them.
    const body = {
      subject: draft.subject.trim(),
      description: draft.description,
      type: draft.type,
      priority: draft.priority,
      ...(draft.company_id ? { company_id: draft.company_id } : {}),
      ...(draft.contact_id ? { contact_id: draft.contact_id } : {}),
      ...(draft.team_id ? { team_id: draft.team_id } : {}),
      ...(draft.assignee_id ? { assignee_id: draft.assignee_id } : {}),
      ...(draft.tags.length > 0 ? { tags: cleanTags(draft.tags) } : {}),
    } as NewTicket;
    create.mutate(body);
  };
  return (
    <Modal opened={opened} onClose={close} title="New ticket" centered size="lg">
      <form onSubmit={onSubmit} aria-label="New ticket" noValidate>
        <Stack gap="sm">
          <TextInput
            label="Subject"
            required
            value={draft.subject}
            onChange={(e) => {
              set('subject', e.currentTarget.value);
            }}
            error={error?.fieldError('subject')}
          />
          <Textarea
            label="Description"
            autosize
            minRows={3}
            maxRows={10}
            value={draft.description}
            onChange={(e) => {
              set('description', e.currentTarget.value);
            }}
            error={error?.fieldError('description')}
          />
          <Group grow>
            <Select
              label="Type"
              required
              data={[...TICKET_TYPES]}
              value={draft.type}
              onChange={(v) => {
                set('type', v);
              }}
              error={error?.fieldError('type')}
              comboboxProps={{ withinPortal: true }}
            />
            <Select
              label="Priority"
              required
              data={[...PRIORITIES]}
              value={draft.priority}
              onChange={(v) => {
                set('priority', v);
              }}
              error={error?.fieldError('priority')}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          <CompanyPicker
            value={draft.company_id}
            onChange={(id) => {
              setDraft((d) => ({ ...d, company_id: id, contact_id: null }));
            }}
            error={error?.fieldError('company_id')}
          />
          <ContactPicker
            companyId={draft.company_id}
            value={draft.contact_id}
            onChange={(id) => {
              set('contact_id', id);
            }}
            error={error?.fieldError('contact_id')}
          />
          <Group grow align="flex-start">
            <Select
              label="Team"
              placeholder="No team"
              clearable
              data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
              value={draft.team_id}
              onChange={(v) => {
                set('team_id', v);
              }}
              error={error?.fieldError('team_id')}
              comboboxProps={{ withinPortal: true }}
            />
            <Select
              label="Assignee"
              placeholder="Unassigned"
              clearable
              searchable
              data={people.list.map((p) => ({ value: p.id, label: people.nameOf(p.id) }))}
              value={draft.assignee_id}
              onChange={(v) => {
                set('assignee_id', v);
              }}
              error={error?.fieldError('assignee_id')}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          {hint ? (
            <Text size="xs" c="dimmed" data-testid="auto-assign-hint">
              {hint}
            </Text>
          ) : null}
          <TagsInput
            label="Tags"
            placeholder="Add a tag"
            value={draft.tags}
            onChange={(v) => {
              set('tags', v);
            }}
            error={error?.fieldError('tags')}
          />
          {otherError ? (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {error.detail ?? error.title}
            </Alert>
          ) : null}
          <Group justify="flex-end" mt="sm">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
