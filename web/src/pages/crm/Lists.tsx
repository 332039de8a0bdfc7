import { Anchor, Badge, Button, Select, Text } from '@mantine/core';
import { IconUpload } from '@tabler/icons-react';
import { useState } from 'react';
import { useDisclosure } from '@mantine/hooks';
import { Link } from 'react-router';
import {
  type Company,
  type Contact,
  type Deal,
  formatMoney,
  type Lead,
  LEAD_STATUSES,
  personName,
  recordPath,
  useDefaultPipeline,
  useStageName,
} from '../../api/crm';
import { useCan } from '../../auth/me';
import { formatDate } from '../../lib/format';
import { NewDealModal } from './Board';
import { ExportMenu } from './ExportMenu';
import { type ColumnSpec, ListView } from './ListView';
import { useCanSome } from './permissions';
import { CompanyName, CreateRecordModal } from './shared';

const companyColumns: ColumnSpec<Company>[] = [
  {
    key: 'name',
    label: 'Name',
    sort: 'name',
    render: (c) => (
      <Anchor component={Link} to={recordPath('company', c.id)} fw={500}>
        {c.name}
      </Anchor>
    ),
  },
  { key: 'industry', label: 'Industry', render: (c) => c.industry ?? '–' },
  { key: 'domain', label: 'Domain', render: (c) => c.domain ?? '–' },
  { key: 'created_at', label: 'Created', sort: 'created_at', render: (c) => formatDate(c.created_at) },
  {
    key: 'updated_at',
    label: 'Updated',
    sort: 'updated_at',
    render: (c) => formatDate(c.updated_at),
    defaultVisible: false,
  },
];

export function CompaniesPage() {
  const canSome = useCanSome();
  const [open, dialog] = useDisclosure(false);
  return (
    <>
      <ListView
        collection="companies"
        noun="companies"
        columns={companyColumns}
        textFilter="name[contains]"
        defaultSort="name"
        onCreate={canSome('companies:create') ? dialog.open : undefined}
        createLabel="New company"
      />
      <CreateRecordModal
        opened={open}
        onClose={dialog.close}
        collection="companies"
        title="New company"
        recordPath={(id) => recordPath('company', id)}
        fields={[
          { name: 'name', label: 'Name', required: true },
          { name: 'industry', label: 'Industry' },
          { name: 'domain', label: 'Domain', placeholder: 'example.com' },
        ]}
      />
    </>
  );
}

const contactColumns: ColumnSpec<Contact>[] = [
  {
    key: 'name',
    label: 'Name',
    sort: 'name',
    render: (c) => (
      <Anchor component={Link} to={recordPath('contact', c.id)} fw={500}>
        {personName(c)}
      </Anchor>
    ),
  },
  { key: 'email', label: 'Email', render: (c) => c.email ?? '–' },
  { key: 'phone', label: 'Phone', render: (c) => c.phone ?? '–' },
  { key: 'title', label: 'Job title', render: (c) => c.title ?? '–', defaultVisible: false },
  {
    key: 'company',
    label: 'Company',
    render: (c) =>
      c.company_id ? (
        <Anchor component={Link} to={recordPath('company', c.company_id)} size="sm">
          <CompanyName id={c.company_id} />
        </Anchor>
      ) : (
        '–'
      ),
  },
  { key: 'created_at', label: 'Created', sort: 'created_at', render: (c) => formatDate(c.created_at) },
];

export function ContactsPage() {
  const canSome = useCanSome();
  const can = useCan();
  const [open, dialog] = useDisclosure(false);
  return (
    <>
      <ListView
        collection="contacts"
        noun="contacts"
        columns={contactColumns}
        textFilter="name[contains]"
        defaultSort="name"
        onCreate={canSome('contacts:create') ? dialog.open : undefined}
        createLabel="New contact"
        actions={(query) => (
          <>
            {can('contacts:export') ? <ExportMenu query={query} /> : null}
            {can('contacts:import') && can('contacts:create') ? (
              <Button
                component={Link}
                to="/crm/contacts/import"
                variant="default"
                leftSection={<IconUpload size={16} />}
              >
                Import
              </Button>
            ) : null}
          </>
        )}
      />
      <CreateRecordModal
        opened={open}
        onClose={dialog.close}
        collection="contacts"
        title="New contact"
        recordPath={(id) => recordPath('contact', id)}
        fields={[
          { name: 'first_name', label: 'First name', required: true },
          { name: 'last_name', label: 'Last name' },
          { name: 'email', label: 'Email', kind: 'email' },
          { name: 'phone', label: 'Phone' },
          { name: 'title', label: 'Job title' },
          { name: 'company_id', label: 'Company', kind: 'company' },
        ]}
      />
    </>
  );
}

export function LeadStatusBadge({ status }: { status: string }) {
  const color =
    status === 'Qualified'
      ? 'teal'
      : status === 'Converted'
        ? 'grape'
        : status === 'Unqualified'
          ? 'gray'
          : 'blue';
  return (
    <Badge variant="light" color={color} radius="sm">
      {status}
    </Badge>
  );
}

const leadColumns: ColumnSpec<Lead>[] = [
  {
    key: 'name',
    label: 'Name',
    render: (l) => (
      <Anchor component={Link} to={recordPath('lead', l.id)} fw={500}>
        {personName(l)}
      </Anchor>
    ),
  },
  { key: 'company_name', label: 'Company', render: (l) => l.company_name ?? '–' },
  { key: 'status', label: 'Status', render: (l) => <LeadStatusBadge status={l.status} /> },
  { key: 'source', label: 'Source', render: (l) => l.source ?? '–' },
  { key: 'email', label: 'Email', render: (l) => l.email ?? '–', defaultVisible: false },
  { key: 'created_at', label: 'Created', sort: 'created_at', render: (l) => formatDate(l.created_at) },
];

export function LeadsPage() {
  const canSome = useCanSome();
  const [open, dialog] = useDisclosure(false);
  const [status, setStatus] = useState<string | null>(null);
  return (
    <>
      <ListView
        collection="leads"
        filters={status ? { status } : {}}
        toolbar={
          <Select
            aria-label="Filter leads by status"
            placeholder="Any status"
            clearable
            data={[...LEAD_STATUSES, 'Converted']}
            value={status}
            onChange={setStatus}
            w={180}
          />
        }
        noun="leads"
        columns={leadColumns}
        defaultSort="-created_at"
        onCreate={canSome('leads:create') ? dialog.open : undefined}
        createLabel="New lead"
      />
      <CreateRecordModal
        opened={open}
        onClose={dialog.close}
        collection="leads"
        title="New lead"
        recordPath={(id) => recordPath('lead', id)}
        fields={[
          { name: 'first_name', label: 'First name', required: true },
          { name: 'last_name', label: 'Last name' },
          { name: 'company_name', label: 'Company name' },
          { name: 'email', label: 'Email', kind: 'email' },
          { name: 'phone', label: 'Phone' },
          { name: 'source', label: 'Source', placeholder: 'Website, referral, trade show…' },
        ]}
      />
    </>
  );
}

function DealStatus({ deal }: { deal: Deal }) {
  const color = deal.status === 'won' ? 'teal' : deal.status === 'lost' ? 'gray' : 'blue';
  return (
    <Badge variant="light" color={color} radius="sm">
      {deal.status}
    </Badge>
  );
}

function StageCell({ id }: { id: string }) {
  const stageName = useStageName();
  return <Text size="sm">{stageName(id)}</Text>;
}

const dealColumns: ColumnSpec<Deal>[] = [
  {
    key: 'title',
    label: 'Title',
    sort: 'title',
    render: (d) => (
      <Anchor component={Link} to={recordPath('deal', d.id)} fw={500}>
        {d.title}
      </Anchor>
    ),
  },
  {
    key: 'amount',
    label: 'Amount',
    render: (d) => (
      <Text size="sm" ff="monospace">
        {formatMoney(d.amount, d.currency)}
      </Text>
    ),
  },
  { key: 'stage', label: 'Stage', render: (d) => <StageCell id={d.stage_id} /> },
  { key: 'status', label: 'Status', render: (d) => <DealStatus deal={d} /> },
  { key: 'company', label: 'Company', render: (d) => <CompanyName id={d.company_id} /> },
  {
    key: 'expected_close_date',
    label: 'Expected close',
    render: (d) => formatDate(d.expected_close_date),
    defaultVisible: false,
  },
  { key: 'created_at', label: 'Created', sort: 'created_at', render: (d) => formatDate(d.created_at) },
];

export function DealsPage() {
  const canSome = useCanSome();
  const { pipeline } = useDefaultPipeline();
  const [open, dialog] = useDisclosure(false);
  return (
    <>
      <ListView
        collection="deals"
        noun="deals"
        columns={dealColumns}
        textFilter="title[contains]"
        defaultSort="-created_at"
        onCreate={canSome('deals:create') ? dialog.open : undefined}
        createLabel="New deal"
      />
      <NewDealModal opened={open} onClose={dialog.close} pipeline={pipeline} />
    </>
  );
}
