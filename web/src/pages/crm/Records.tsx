import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import {
  IconActivity,
  IconAlertTriangle,
  IconArrowLeft,
  IconCheck,
  IconHistory,
  IconPencil,
  IconPlus,
  IconTransform,
  IconX,
} from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, type SubmitEvent, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  ACTIVITY_KINDS,
  type Collection,
  COLLECTION,
  crmKeys,
  formatMoney,
  LEAD_STATUSES,
  personName,
  type RecordType,
  recordPath,
  type Deal,
  type TimelineEntry,
  useCompany,
  useContact,
  useCustomer360,
  useDeal,
  useLead,
  useRecordLabel,
  useStageName,
  useTimeline,
} from '../../api/crm';
import type { CustomValue } from '../../api/customFields';
import { useMe } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { ConvertLeadModal } from './ConvertLead';
import { CustomFieldsCard, RecordLink, RecordPicker } from './CustomFields';
import { useCrmOutlet } from './tabs';
import { LeadStatusBadge } from './Lists';
import { saveProblem, useCanSome } from './permissions';
import { CompanyName } from './shared';
import { CustomerOrdersSection } from '../sales/CustomerOrders';
import { CustomerTicketsSection } from '../helpdesk/CustomerTickets';

/**
 * A PATCH of one record with its `version`; on success or conflict the cached record and
 * its timeline are refreshed (a 412 carries the current record).
 */
function usePatch<B extends object>(
  collection: Collection,
  id: string,
  version: number | undefined,
  what: string,
) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation<unknown, ApiError, B>({
    mutationFn: async (body) => {
      const path = `/api/v1/${collection}/{id}` as '/api/v1/companies/{id}';
      return (
        await unwrap(api.PATCH(path, { params: { path: { id } }, body: { ...body, version } as never }))
      ).data;
    },
    onSuccess: (record) => {
      queryClient.setQueryData(crmKeys.record(collection, id), record);
      notifications.show({ color: 'teal', message: `Saved.` });
    },
    onError: (error) => {
      notifications.show({
        color: error.status === 412 ? 'orange' : 'red',
        title: 'Not saved',
        message: saveProblem(error, what),
      });
      if (error.status === 412 && error.problem.current) {
        queryClient.setQueryData(crmKeys.record(collection, id), error.problem.current);
      }
    },
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: crmKeys.record(collection, id) });
      await queryClient.invalidateQueries({ queryKey: crmKeys.timeline(collection, id) });
      await queryClient.invalidateQueries({ queryKey: crmKeys.lists(collection) });
      await queryClient.invalidateQueries({ queryKey: ['crm', 'board'] });
    },
  });
}

/** A value with a pencil: click to edit in place, Enter or ✓ saves, Escape or ✕ cancels. */
export function InlineEdit({
  label,
  value,
  display,
  canEdit,
  onSave,
  saving,
  options,
}: {
  label: string;
  value: string;
  display?: ReactNode;
  canEdit: boolean;
  onSave: (value: string) => void;
  saving?: boolean;
  options?: readonly string[];
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value);
  const save = () => {
    setEditing(false);
    if (draft.trim() !== value) onSave(draft.trim());
  };
  if (editing) {
    return (
      <Group gap={4} wrap="nowrap">
        {options ? (
          <Select
            aria-label={label}
            data={[...options]}
            value={draft}
            onChange={(v) => {
              setDraft(v ?? value);
            }}
            size="xs"
            comboboxProps={{ withinPortal: true }}
          />
        ) : (
          <TextInput
            aria-label={label}
            size="xs"
            value={draft}
            autoFocus
            onChange={(e) => {
              setDraft(e.currentTarget.value);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') save();
              if (e.key === 'Escape') setEditing(false);
            }}
          />
        )}
        <ActionIcon variant="light" color="teal" aria-label={`Save ${label}`} onClick={save}>
          <IconCheck size={14} />
        </ActionIcon>
        <ActionIcon
          variant="subtle"
          color="gray"
          aria-label="Cancel"
          onClick={() => {
            setEditing(false);
          }}
        >
          <IconX size={14} />
        </ActionIcon>
      </Group>
    );
  }
  return (
    <Group gap={4} wrap="nowrap">
      <Text size="sm" component="div" data-testid={`field-${label}`}>
        {display ?? (value || '–')}
      </Text>
      {canEdit ? (
        <ActionIcon
          variant="subtle"
          color="gray"
          size="sm"
          aria-label={`Edit ${label}`}
          loading={saving}
          onClick={() => {
            setDraft(value);
            setEditing(true);
          }}
        >
          <IconPencil size={14} />
        </ActionIcon>
      ) : null}
    </Group>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.4}>
        {label}
      </Text>
      {children}
    </Stack>
  );
}

function describeDetail(entry: TimelineEntry): string | null {
  const detail: unknown = entry.detail;
  if (typeof detail !== 'object' || detail === null) return null;
  if (entry.kind === 'activity') {
    // an activity's notes
    return 'body' in detail && typeof detail.body === 'string' && detail.body ? detail.body : null;
  }
  const skip = new Set(['id', 'created_at', 'updated_at', 'version', 'position']);
  const parts = Object.entries(detail)
    // ids mean nothing to a reader; the record page shows what they point at
    .filter(([k]) => !skip.has(k) && !k.endsWith('_id'))
    .flatMap(([k, v]: [string, unknown]) => {
      if (typeof v !== 'object' || v === null || !('after' in v)) return [];
      const after: unknown = v.after;
      const shown =
        typeof after === 'string' || typeof after === 'number' || typeof after === 'boolean'
          ? String(after)
          : '–';
      return [`${k.replaceAll('_', ' ')}: ${shown}`];
    });
  return parts.length ? parts.slice(0, 6).join(' · ') : null;
}

/**
 * Who did it, from the timeline's `actor` ("user:<id>", "api_key:<id>", "system"). The
 * timeline carries ids only, so everyone but the signed-in user is "a colleague".
 */
function actorLabel(actor: string, myId: string | undefined): string {
  const [kind, actorId] = actor.split(':');
  if (kind === 'user') return actorId === myId ? 'you' : 'a colleague';
  if (kind === 'api_key') return 'an API key';
  return kind ?? actor;
}

/** The record's history, newest first: activities and field changes. */
export function RecordTimeline({ collection, id }: { collection: Collection; id: string }) {
  const timeline = useTimeline(collection, id);
  const { data: me } = useMe();
  if (timeline.isPending) return <Skeleton h={120} />;
  if (timeline.isError) return <ErrorAlert error={timeline.error} what="the timeline" />;
  if (timeline.data.length === 0) return <Text c="dimmed">Nothing has happened yet.</Text>;
  return (
    <Timeline bulletSize={22} lineWidth={2} data-testid="timeline">
      {timeline.data.map((entry, i) => (
        <Timeline.Item
          key={`${entry.at}-${String(i)}`}
          bullet={entry.kind === 'activity' ? <IconActivity size={12} /> : <IconHistory size={12} />}
          title={
            <Text size="sm" fw={500}>
              {entry.summary}
            </Text>
          }
        >
          <Text size="xs" c="dimmed">
            {formatDate(entry.at, true)}
            {entry.actor ? ` · by ${actorLabel(entry.actor, me?.user?.id)}` : ''}
          </Text>
          {describeDetail(entry) ? (
            <Text size="xs" mt={2}>
              {describeDetail(entry)}
            </Text>
          ) : null}
        </Timeline.Item>
      ))}
    </Timeline>
  );
}

/** "Log activity": a call, email, meeting, note or task on this record. */
export function LogActivity({ recordType, id }: { recordType: RecordType; id: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [opened, dialog] = useDisclosure(false);
  const [kind, setKind] = useState<string>('call');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const log = useMutation<unknown, ApiError>({
    mutationFn: async () =>
      unwrap(
        api.POST('/api/v1/activities', {
          body: {
            kind,
            subject: subject.trim(),
            body: body.trim() || null,
            record_type: recordType,
            record_id: id,
          },
        }),
      ),
    onSuccess: async () => {
      notifications.show({ color: 'teal', message: 'Activity logged.' });
      setSubject('');
      setBody('');
      dialog.close();
      await queryClient.invalidateQueries({ queryKey: crmKeys.timeline(COLLECTION[recordType], id) });
      await queryClient.invalidateQueries({ queryKey: ['crm', 'customer360'] });
    },
  });
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    log.mutate();
  };
  const error = log.error;
  return (
    <>
      <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={dialog.open}>
        Log activity
      </Button>
      <Modal opened={opened} onClose={dialog.close} title="Log activity" centered>
        <form onSubmit={onSubmit} aria-label="Log activity" noValidate>
          <Stack gap="sm">
            <Select
              label="Kind"
              data={ACTIVITY_KINDS.map((k) => ({ value: k, label: k.charAt(0).toUpperCase() + k.slice(1) }))}
              value={kind}
              onChange={(v) => {
                setKind(v ?? 'call');
              }}
              error={error?.fieldError('kind')}
              comboboxProps={{ withinPortal: true }}
            />
            <TextInput
              label="Subject"
              required
              value={subject}
              onChange={(e) => {
                setSubject(e.currentTarget.value);
              }}
              error={error?.fieldError('subject')}
            />
            <Textarea
              label="Notes"
              autosize
              minRows={3}
              value={body}
              onChange={(e) => {
                setBody(e.currentTarget.value);
              }}
              error={error?.fieldError('body')}
            />
            {error && !['kind', 'subject', 'body'].some((f) => error.fieldError(f)) ? (
              <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
                {error.status === 403
                  ? 'You may not log activities on this record.'
                  : (error.detail ?? error.title)}
              </Alert>
            ) : null}
            <Group justify="flex-end">
              <Button variant="default" onClick={dialog.close}>
                Cancel
              </Button>
              <Button type="submit" loading={log.isPending}>
                Log
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}

function RecordFrame({
  kind,
  title,
  back,
  badges,
  actions,
  children,
  history,
}: {
  kind: string;
  title: string;
  back: { to: string; label: string };
  badges?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  history: ReactNode;
}) {
  const outlet = useCrmOutlet();
  const documentTitle = `${title} · ${kind}`;
  useEffect(() => {
    outlet?.setRecordTitle(documentTitle);
    return () => outlet?.setRecordTitle(null);
  }, [outlet, documentTitle]);
  return (
    <Stack gap="md">
      <Anchor component={Link} to={back.to} size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          {back.label}
        </Group>
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {kind}
          </Text>
          <Group gap="sm">
            <Title order={2} fz={22} data-testid="record-title">
              {title}
            </Title>
            {badges}
          </Group>
        </Stack>
        <Group gap="xs">{actions}</Group>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <Stack gap="md">{children}</Stack>
        <Card withBorder padding="md">
          <Title order={3} fz={16} mb="sm">
            Timeline
          </Title>
          {history}
        </Card>
      </SimpleGrid>
    </Stack>
  );
}

function Loading({
  query,
  what,
}: {
  query: { isPending: boolean; error: ApiError | null; refetch: () => unknown };
  what: string;
}) {
  if (query.isPending) return <Skeleton h={240} radius="md" />;
  return <ErrorAlert error={query.error} what={what} onRetry={() => void query.refetch()} />;
}

/** A record's custom fields, edited in place with the record's version. */
function RecordCustomFields({
  collection,
  record,
  canEdit,
  what,
}: {
  collection: Collection;
  record: { id: string; version: number };
  canEdit: boolean;
  what: string;
}) {
  const patch = usePatch<{ custom_fields: Record<string, CustomValue> }>(
    collection,
    record.id,
    record.version,
    what,
  );
  return (
    <CustomFieldsCard
      object={collection}
      record={record}
      canEdit={canEdit}
      saving={patch.isPending}
      error={patch.error}
      onSave={(values) => {
        patch.mutate({ custom_fields: values });
      }}
    />
  );
}

/** The ids of a deal's contacts (`contact_ids`; none before the server sends them). */
function dealContactIds(deal: Deal): string[] {
  const ids = (deal as { contact_ids?: unknown }).contact_ids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

function DealContactRow({
  id,
  canEdit,
  busy,
  onRemove,
}: {
  id: string;
  canEdit: boolean;
  busy: boolean;
  onRemove: () => void;
}) {
  const name = useRecordLabel('contacts', id);
  return (
    <Group gap="xs" justify="space-between" wrap="nowrap" data-testid="deal-contact">
      <RecordLink collection="contacts" id={id} />
      {canEdit ? (
        <ActionIcon
          variant="subtle"
          color="gray"
          size="sm"
          aria-label={`Remove ${name.data ?? 'contact'}`}
          disabled={busy}
          onClick={onRemove}
        >
          <IconX size={14} />
        </ActionIcon>
      ) : null}
    </Group>
  );
}

/** The people on a deal: links to them, remove one, add one found by search. */
function DealContacts({ deal, canEdit }: { deal: Deal; canEdit: boolean }) {
  const ids = dealContactIds(deal);
  const patch = usePatch<{ contact_ids: string[] }>('deals', deal.id, deal.version, 'deal');
  return (
    <Card withBorder padding="md" data-testid="deal-contacts">
      <Title order={3} fz={16} mb="sm">
        Contacts ({ids.length})
      </Title>
      <Stack gap="xs">
        {ids.length === 0 ? (
          <Text size="sm" c="dimmed">
            No contacts on this deal yet.
          </Text>
        ) : (
          ids.map((cid) => (
            <DealContactRow
              key={cid}
              id={cid}
              canEdit={canEdit}
              busy={patch.isPending}
              onRemove={() => {
                patch.mutate({ contact_ids: ids.filter((x) => x !== cid) });
              }}
            />
          ))
        )}
        {canEdit ? (
          <RecordPicker
            collection="contacts"
            label="Add a contact"
            placeholder="Type a name to search contacts"
            value={null}
            exclude={ids}
            onChange={(cid) => {
              if (cid && !ids.includes(cid)) patch.mutate({ contact_ids: [...ids, cid] });
            }}
          />
        ) : null}
      </Stack>
    </Card>
  );
}

export function CompanyPage() {
  const { id = '' } = useParams();
  const company = useCompany(id);
  const canSome = useCanSome();
  const patch = usePatch<{ name?: string; industry?: string | null; domain?: string | null }>(
    'companies',
    id,
    company.data?.version,
    'company',
  );
  if (!company.data) return <Loading query={company} what="this company" />;
  const c = company.data;
  const canEdit = canSome('companies:update');
  return (
    <RecordFrame
      kind="Company"
      title={c.name}
      back={{ to: '/crm/companies', label: 'Companies' }}
      actions={canSome('activities:create') ? <LogActivity recordType="company" id={id} /> : null}
      history={<RecordTimeline collection="companies" id={id} />}
    >
      <Card withBorder padding="md">
        <SimpleGrid cols={2} spacing="md">
          <Field label="Name">
            <InlineEdit
              label="Name"
              value={c.name}
              canEdit={canEdit}
              saving={patch.isPending}
              onSave={(v) => {
                patch.mutate({ name: v });
              }}
            />
          </Field>
          <Field label="Industry">
            <InlineEdit
              label="Industry"
              value={c.industry ?? ''}
              canEdit={canEdit}
              onSave={(v) => {
                patch.mutate({ industry: v || null });
              }}
            />
          </Field>
          <Field label="Domain">
            <InlineEdit
              label="Domain"
              value={c.domain ?? ''}
              canEdit={canEdit}
              onSave={(v) => {
                patch.mutate({ domain: v || null });
              }}
            />
          </Field>
          <Field label="Created">
            <Text size="sm">{formatDate(c.created_at)}</Text>
          </Field>
        </SimpleGrid>
      </Card>
      <RecordCustomFields collection="companies" record={c} canEdit={canEdit} what="company" />
      <Customer360Panel companyId={id} />
    </RecordFrame>
  );
}

const PENDING_LABEL: Record<string, string> = { helpdesk: 'Helpdesk', sales: 'Sales', insight: 'Insight' };

function Customer360Panel({ companyId }: { companyId: string }) {
  const view = useCustomer360(companyId);
  if (view.isPending) return <Skeleton h={200} />;
  if (view.isError) return <ErrorAlert error={view.error} what="the customer view" />;
  const v = view.data;
  const pending = [{ label: 'Health', section: v.health }];
  return (
    <Card withBorder padding="md" data-testid="customer-360">
      <Title order={3} fz={16} mb="sm">
        Customer 360
      </Title>
      <Stack gap="md">
        <Stack gap={4}>
          <Text fw={600} size="sm">
            Contacts ({v.contacts.length})
          </Text>
          {v.contacts.length === 0 ? (
            <Text size="sm" c="dimmed">
              No contacts yet.
            </Text>
          ) : (
            v.contacts.map((p) => (
              <Anchor key={p.id} component={Link} to={recordPath('contact', p.id)} size="sm">
                {personName(p)}
                {p.title ? ` · ${p.title}` : ''}
              </Anchor>
            ))
          )}
        </Stack>
        <Stack gap={4}>
          <Text fw={600} size="sm">
            Open deals ({v.open_deals.length})
          </Text>
          {v.open_deals.length === 0 ? (
            <Text size="sm" c="dimmed">
              No open deals.
            </Text>
          ) : (
            <Table>
              <Table.Tbody>
                {v.open_deals.map((d) => (
                  <Table.Tr key={d.id}>
                    <Table.Td>
                      <Anchor component={Link} to={recordPath('deal', d.id)} size="sm">
                        {d.title}
                      </Anchor>
                    </Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {formatMoney(d.amount, d.currency)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
        <Stack gap={4}>
          <Text fw={600} size="sm">
            Closed deals
          </Text>
          {v.closed_deals.length === 0 ? (
            <Text size="sm" c="dimmed">
              None closed yet.
            </Text>
          ) : (
            v.closed_deals.map((t) => (
              <Text key={t.currency} size="sm" ff="monospace">
                {formatMoney(t.amount, t.currency)} closed · won {formatMoney(t.weighted, t.currency)}
              </Text>
            ))
          )}
        </Stack>
        <Stack gap={4}>
          <Text fw={600} size="sm">
            Recent activities
          </Text>
          {v.recent_activities.length === 0 ? (
            <Text size="sm" c="dimmed">
              No activities yet.
            </Text>
          ) : (
            v.recent_activities.map((a) => (
              <Text key={a.id} size="sm" component="div">
                <Badge size="xs" variant="light" mr={6}>
                  {a.kind}
                </Badge>
                {a.subject} ·{' '}
                <Text span c="dimmed" size="xs">
                  {formatDate(a.created_at)}
                </Text>
              </Text>
            ))
          )}
        </Stack>
        <CustomerTicketsSection section={v.tickets} />
        <CustomerOrdersSection section={v.orders} />
        <SimpleGrid cols={2} spacing="xs">
          {pending.map(({ label, section }) => (
            <Card key={label} withBorder padding="xs" bg="var(--mantine-color-default-hover)">
              <Text size="sm" fw={600}>
                {label}
              </Text>
              <Text size="xs" c="dimmed">
                {section.available
                  ? 'Available'
                  : `Arrives with the ${PENDING_LABEL[section.provided_by] ?? section.provided_by} module`}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
      </Stack>
    </Card>
  );
}

export function ContactPage() {
  const { id = '' } = useParams();
  const contact = useContact(id);
  const canSome = useCanSome();
  if (!contact.data) return <Loading query={contact} what="this contact" />;
  const c = contact.data;
  return (
    <RecordFrame
      kind="Contact"
      title={personName(c)}
      back={{ to: '/crm/contacts', label: 'Contacts' }}
      actions={canSome('activities:create') ? <LogActivity recordType="contact" id={id} /> : null}
      history={<RecordTimeline collection="contacts" id={id} />}
    >
      <Card withBorder padding="md">
        <SimpleGrid cols={2} spacing="md">
          <Field label="Email">
            <Text size="sm">{c.email ?? '–'}</Text>
          </Field>
          <Field label="Phone">
            <Text size="sm">{c.phone ?? '–'}</Text>
          </Field>
          <Field label="Job title">
            <Text size="sm">{c.title ?? '–'}</Text>
          </Field>
          <Field label="Company">
            {c.company_id ? (
              <Anchor component={Link} to={recordPath('company', c.company_id)} size="sm">
                <CompanyName id={c.company_id} />
              </Anchor>
            ) : (
              <Text size="sm">–</Text>
            )}
          </Field>
        </SimpleGrid>
      </Card>
      <RecordCustomFields
        collection="contacts"
        record={c}
        canEdit={canSome('contacts:update')}
        what="contact"
      />
    </RecordFrame>
  );
}

export function DealPage() {
  const { id = '' } = useParams();
  const deal = useDeal(id);
  const canSome = useCanSome();
  const stageName = useStageName();
  const patch = usePatch<{ title?: string; amount?: string }>('deals', id, deal.data?.version, 'deal');
  if (!deal.data) return <Loading query={deal} what="this deal" />;
  const d = deal.data;
  const canEdit = canSome('deals:update');
  return (
    <RecordFrame
      kind="Deal"
      title={d.title}
      back={{ to: '/crm', label: 'Pipeline' }}
      badges={<Badge variant="light">{stageName(d.stage_id)}</Badge>}
      actions={canSome('activities:create') ? <LogActivity recordType="deal" id={id} /> : null}
      history={<RecordTimeline collection="deals" id={id} />}
    >
      <Card withBorder padding="md">
        <SimpleGrid cols={2} spacing="md">
          <Field label="Title">
            <InlineEdit
              label="Title"
              value={d.title}
              canEdit={canEdit}
              onSave={(v) => {
                patch.mutate({ title: v });
              }}
            />
          </Field>
          <Field label={`Amount (${d.currency})`}>
            <InlineEdit
              label="Amount"
              value={d.amount}
              display={formatMoney(d.amount, d.currency)}
              canEdit={canEdit}
              onSave={(v) => {
                patch.mutate({ amount: v });
              }}
            />
          </Field>
          <Field label="Stage">
            <Text size="sm">
              {stageName(d.stage_id)} · {d.probability}%
            </Text>
          </Field>
          <Field label="Status">
            <Text size="sm">{d.status}</Text>
          </Field>
          <Field label="Company">
            {d.company_id ? (
              <Anchor component={Link} to={recordPath('company', d.company_id)} size="sm">
                <CompanyName id={d.company_id} />
              </Anchor>
            ) : (
              <Text size="sm">–</Text>
            )}
          </Field>
          <Field label="Expected close">
            <Text size="sm">{formatDate(d.expected_close_date)}</Text>
          </Field>
        </SimpleGrid>
      </Card>
      <DealContacts deal={d} canEdit={canEdit} />
      <RecordCustomFields collection="deals" record={d} canEdit={canEdit} what="deal" />
    </RecordFrame>
  );
}

export function LeadPage() {
  const { id = '' } = useParams();
  const lead = useLead(id);
  const canSome = useCanSome();
  const [converting, convert] = useDisclosure(false);
  const patch = usePatch<{ status?: string }>('leads', id, lead.data?.version, 'lead');
  if (!lead.data) return <Loading query={lead} what="this lead" />;
  const l = lead.data;
  const converted = l.status === 'Converted' || Boolean(l.converted_at);
  return (
    <RecordFrame
      kind="Lead"
      title={personName(l)}
      back={{ to: '/crm/leads', label: 'Leads' }}
      badges={<LeadStatusBadge status={l.status} />}
      actions={
        <>
          {canSome('activities:create') ? <LogActivity recordType="lead" id={id} /> : null}
          {!converted && canSome('leads:update') ? (
            <Button size="xs" leftSection={<IconTransform size={14} />} onClick={convert.open}>
              Convert
            </Button>
          ) : null}
        </>
      }
      history={<RecordTimeline collection="leads" id={id} />}
    >
      <Card withBorder padding="md">
        <SimpleGrid cols={2} spacing="md">
          <Field label="Status">
            <InlineEdit
              label="Status"
              value={l.status}
              display={<LeadStatusBadge status={l.status} />}
              options={LEAD_STATUSES}
              canEdit={!converted && canSome('leads:update')}
              onSave={(v) => {
                patch.mutate({ status: v });
              }}
            />
          </Field>
          <Field label="Company name">
            <Text size="sm">{l.company_name ?? '–'}</Text>
          </Field>
          <Field label="Email">
            <Text size="sm">{l.email ?? '–'}</Text>
          </Field>
          <Field label="Phone">
            <Text size="sm">{l.phone ?? '–'}</Text>
          </Field>
          <Field label="Source">
            <Text size="sm">{l.source ?? '–'}</Text>
          </Field>
          <Field label="Created">
            <Text size="sm">{formatDate(l.created_at)}</Text>
          </Field>
        </SimpleGrid>
      </Card>
      <RecordCustomFields
        collection="leads"
        record={l}
        canEdit={!converted && canSome('leads:update')}
        what="lead"
      />
      {converted ? (
        <Card withBorder padding="md" data-testid="converted-links">
          <Text fw={600} size="sm" mb={4}>
            Converted {formatDate(l.converted_at)}
          </Text>
          <Group gap="md">
            {l.contact_id ? (
              <Anchor component={Link} to={recordPath('contact', l.contact_id)} size="sm">
                Contact
              </Anchor>
            ) : null}
            {l.company_id ? (
              <Anchor component={Link} to={recordPath('company', l.company_id)} size="sm">
                Company
              </Anchor>
            ) : null}
            {l.deal_id ? (
              <Anchor component={Link} to={recordPath('deal', l.deal_id)} size="sm">
                Deal
              </Anchor>
            ) : null}
          </Group>
        </Card>
      ) : null}
      <ConvertLeadModal opened={converting} onClose={convert.close} lead={l} />
    </RecordFrame>
  );
}
