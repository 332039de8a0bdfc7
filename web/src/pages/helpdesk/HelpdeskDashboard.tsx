import { Card, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQueries } from '@tanstack/react-query';
import { type ReactNode, useMemo, useState } from 'react';
import { unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { crmKeys } from '../../api/crm';
import { useHelpdeskAnalytics, useTeams } from '../../api/helpdesk';
import { EChart } from '../../charts/EChart';
import { ErrorAlert } from '../../components/ErrorAlert';
import { NoAccess } from '../../components/NoAccess';
import { PageLoader } from '../../components/PageLoader';
import { isoDate } from '../../lib/format';
import {
  backlogOption,
  complianceOption,
  csatOption,
  hoursText,
  pct,
  sentimentOption,
  timesOption,
  volumeOption,
} from './dashboardCharts';

function Kpi({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: string;
  hint?: string;
  testId: string;
}) {
  return (
    <Card withBorder p="md" data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz={26} fw={700}>
        {value}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Card>
  );
}

function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card withBorder>
      <Title order={3} fz={15} mb="xs">
        {title}
      </Title>
      {children}
    </Card>
  );
}

/** The helpdesk dashboard: volume, SLA compliance, response and resolution times, backlog, CSAT, mood. */
export function HelpdeskDashboardPage() {
  const api = useApi();
  const today = new Date();
  const [from, setFrom] = useState(() => isoDate(new Date(today.getTime() - 29 * 86_400_000)));
  const [to, setTo] = useState(() => isoDate(today));
  const [teamId, setTeamId] = useState<string | null>(null);
  const teams = useTeams();
  const analytics = useHelpdeskAnalytics(from, to, teamId);
  const data = analytics.data;
  const companyIds = useMemo(
    () => [...new Set((data?.sentiment_by_customer ?? []).map((r) => r.company_id))].slice(0, 12),
    [data],
  );
  const companies = useQueries({
    queries: companyIds.map((id) => ({
      queryKey: [...crmKeys.record('companies', id), 'label'],
      queryFn: async ({ signal }: { signal: AbortSignal }) =>
        (await unwrap(api.GET('/api/v1/companies/{id}', { signal, params: { path: { id } } }))).data.name,
      staleTime: 5 * 60_000,
      retry: false,
    })),
  });
  const names = new Map(companyIds.map((id, i) => [id, companies[i]?.data]));
  const nameOf = (id: string) => names.get(id) ?? id.slice(0, 8);

  const filters = (
    <Group gap="sm">
      <TextInput
        type="date"
        label="From"
        value={from}
        onChange={(e) => {
          setFrom(e.currentTarget.value);
        }}
      />
      <TextInput
        type="date"
        label="To"
        value={to}
        onChange={(e) => {
          setTo(e.currentTarget.value);
        }}
      />
      <Select
        label="Team"
        placeholder="All teams"
        clearable
        data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
        value={teamId}
        onChange={setTeamId}
        w={200}
      />
    </Group>
  );

  if (analytics.error?.status === 403) return <NoAccess what="the helpdesk analytics" />;
  if (analytics.error) {
    // e.g. a 422 naming `from` or `to`: keep the filters so the range can be fixed
    return (
      <Stack gap="lg">
        {filters}
        <ErrorAlert error={analytics.error} what="the helpdesk analytics" />
      </Stack>
    );
  }
  if (!data) return <PageLoader />;

  const compliance = data.sla_compliance;
  return (
    <Stack gap="lg" data-testid="helpdesk-dashboard">
      {filters}
      <SimpleGrid cols={{ base: 2, md: 5 }}>
        <Kpi
          testId="kpi-response"
          label="Response SLA met"
          value={pct(compliance.response_pct)}
          hint={`${compliance.met} met · ${compliance.breached} breached`}
        />
        <Kpi testId="kpi-resolution" label="Resolution SLA met" value={pct(compliance.resolution_pct)} />
        <Kpi
          testId="kpi-first-response"
          label="First response (median)"
          value={hoursText(data.first_response_hours.median)}
          hint={`${data.first_response_hours.count} tickets`}
        />
        <Kpi
          testId="kpi-resolution-time"
          label="Resolution (median)"
          value={hoursText(data.resolution_hours.median)}
          hint={`${data.resolution_hours.count} tickets`}
        />
        <Kpi
          testId="kpi-csat"
          label="CSAT"
          value={typeof data.csat.average === 'number' ? `${data.csat.average.toFixed(1)} / 5` : '–'}
          hint={`${data.csat.count} ratings`}
        />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ChartCard title="Volume">
          <EChart
            option={volumeOption(data.volume)}
            label="Tickets created and resolved per day"
            height={260}
          />
        </ChartCard>
        <ChartCard title="SLA by priority">
          <EChart
            option={complianceOption(data.by_priority)}
            label="Open and breached tickets by priority"
            height={260}
          />
        </ChartCard>
        <ChartCard title="First response and resolution times">
          <EChart
            option={timesOption(data.first_response_hours, data.resolution_hours)}
            label="First response and resolution hours"
            height={260}
          />
        </ChartCard>
        <ChartCard title="Backlog by age">
          <EChart option={backlogOption(data.backlog_by_age)} label="Open tickets by age" height={260} />
        </ChartCard>
        <ChartCard title="CSAT distribution">
          <EChart option={csatOption(data.csat.distribution)} label="Ratings from 1 to 5" height={260} />
        </ChartCard>
        <ChartCard title="Mood by customer (worst first)">
          <EChart
            option={sentimentOption(data.sentiment_by_customer, nameOf)}
            label="Average sentiment per customer"
            height={300}
          />
        </ChartCard>
      </SimpleGrid>
    </Stack>
  );
}
