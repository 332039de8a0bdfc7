import {
  Anchor,
  Badge,
  Card,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Tabs,
  Text,
  Title,
} from '@mantine/core';
import { IconAlertTriangle, IconBriefcase, IconChartDots, IconPresentation } from '@tabler/icons-react';
import { useSearchParams } from 'react-router';
import { Link } from 'react-router';
import {
  compactNumber,
  hasNoSales,
  isMissing,
  type Mover,
  percent,
  type SalesAlert,
  type Trends,
  useGapHeatmap,
  useGaps,
  useSalesAlerts,
  useTrends,
} from '../../api/sales';
import { EChart } from '../../charts/EChart';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';
import { growthOption, heatmapOption, monthLabel, seasonalityOption, totalTrendOption } from './charts';
import { EmptyState, Growth, ImportSalesAction, Kpi, UrgencyBadge } from './shared';

const VIEWS = [
  { value: 'executive', label: 'Executive', icon: IconPresentation },
  { value: 'management', label: 'Management', icon: IconBriefcase },
  { value: 'analytics', label: 'Analytics', icon: IconChartDots },
] as const;

function Movers({ title, movers, measure }: { title: string; movers: Mover[]; measure: string }) {
  return (
    <Card withBorder padding="md">
      <Text fw={600} mb="xs">
        {title}
      </Text>
      {movers.length === 0 ? (
        <Text size="sm" c="dimmed">
          Not enough months yet.
        </Text>
      ) : (
        <Table verticalSpacing={4} aria-label={title}>
          <Table.Tbody>
            {movers.map((m) => (
              <Table.Tr key={m.key}>
                <Table.Td>{m.key}</Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {compactNumber(m.latest)} {measure}
                </Table.Td>
                <Table.Td ta="right">
                  <Growth value={m.growth} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

const PRIORITY_COLOURS = { CRITICAL: 'red', HIGH: 'orange', INFO: 'blue' } as const;

function Alerts({ alerts }: { alerts: SalesAlert[] | undefined }) {
  return (
    <Card withBorder padding="md" data-testid="alerts">
      <Group gap="xs" mb="xs">
        <IconAlertTriangle size={16} />
        <Text fw={600}>Latest alerts</Text>
      </Group>
      {!alerts || alerts.length === 0 ? (
        <Text size="sm" c="dimmed">
          No alert: nothing crossed a threshold.
        </Text>
      ) : (
        <Stack gap={6}>
          {alerts.slice(0, 8).map((a) => (
            <Group key={a.id} gap="xs" wrap="nowrap" align="flex-start">
              <Badge color={PRIORITY_COLOURS[a.priority]} variant="light" miw={76}>
                {a.priority}
              </Badge>
              <div>
                <Text size="sm">{a.title}</Text>
                <Text size="xs" c="dimmed">
                  {a.kind.replace('sales.', '').replace('_', ' ')} · {a.period} · {formatDate(a.created_at)}
                </Text>
              </div>
            </Group>
          ))}
        </Stack>
      )}
    </Card>
  );
}

function latestKpis(trends: Trends) {
  const n = trends.months.length;
  return {
    month: n ? monthLabel(trends.months[n - 1] ?? '') : '–',
    latest: trends.total.values[n - 1] ?? 0,
    mom: trends.total.mom_growth[n - 1] ?? null,
    yoy: trends.total.yoy_growth[n - 1] ?? null,
    year: trends.total.values.slice(-12).reduce((s, v) => s + v, 0),
  };
}

/**
 * The sales dashboard (seed 001): an executive view (KPIs, the value trend, movers,
 * alerts), a management view (the gap heat map region × pack type and the gaps to act on
 * first) and an analytics view (growth, seasonality).
 */
export function SalesDashboardPage() {
  const [params, setParams] = useSearchParams();
  const view = params.get('view') ?? 'executive';
  const trends = useTrends({ by: 'region', measure: 'value' });
  const gaps = useGaps({ flagged_only: 'true' });
  const heatmap = useGapHeatmap({}, view === 'management');
  const alerts = useSalesAlerts({});

  if (trends.isPending) return <Skeleton h={320} />;
  const noData = isMissing(trends.error) || (trends.data ? hasNoSales(trends.data) : false);
  if (noData) {
    return (
      <EmptyState title="No sales data yet" action={<ImportSalesAction />}>
        The dashboard shows sales value, trends and distribution gaps from imported sales data. Import a
        spreadsheet (sheet6 layout: Date, Region, Province, Precision Area, Outlet Code, Outlet Name, Channel,
        Pack Type, SKU, Sales Qty, Sales Value) to fill it.
      </EmptyState>
    );
  }
  if (!trends.data) return <ErrorAlert error={trends.error} what="the sales trends" />;
  const t = trends.data;
  const k = latestKpis(t);
  const summary = gaps.data?.summary;

  return (
    <Tabs
      value={view}
      onChange={(v) => {
        if (v) setParams(v === 'executive' ? {} : { view: v }, { replace: true });
      }}
      variant="pills"
      keepMounted={false}
    >
      <Tabs.List aria-label="Dashboard views" mb="md">
        {VIEWS.map(({ value, label, icon: IconComponent }) => (
          <Tabs.Tab key={value} value={value} leftSection={<IconComponent size={16} />}>
            {label}
          </Tabs.Tab>
        ))}
      </Tabs.List>

      <Tabs.Panel value="executive">
        <Stack gap="md">
          <SimpleGrid cols={{ base: 2, md: 5 }} spacing="md">
            <Kpi label="Sales value" value={compactNumber(k.latest)} note={k.month} />
            <Kpi label="Month on month" value={<Growth value={k.mom} />} note="vs the month before" />
            <Kpi label="Year on year" value={<Growth value={k.yoy} />} note="vs the same month last year" />
            <Kpi label="Last 12 months" value={compactNumber(k.year)} />
            <Kpi
              label="Distribution gaps"
              value={summary ? String(summary.flagged) : '–'}
              color={summary && summary.high > 0 ? 'red' : undefined}
              note={
                summary
                  ? `${String(summary.high)} high · ${percent(summary.zero_share)} zero-sales records`
                  : undefined
              }
            />
          </SimpleGrid>
          <Card withBorder padding="md">
            <Text fw={600}>Sales value by month</Text>
            <EChart option={totalTrendOption(t)} height={280} label="Sales value by month" />
          </Card>
          <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md">
            <Movers title="Top movers" movers={t.movers.top} measure="" />
            <Movers title="Bottom movers" movers={t.movers.bottom} measure="" />
            <Alerts alerts={alerts.data} />
          </SimpleGrid>
        </Stack>
      </Tabs.Panel>

      <Tabs.Panel value="management">
        <Stack gap="md">
          <Card withBorder padding="md">
            <Group justify="space-between">
              <Text fw={600}>Distribution gaps: region × pack type</Text>
              <Text size="xs" c="dimmed">
                share of records with no sales; a black border and “!” mark HIGH urgency
              </Text>
            </Group>
            {heatmap.data && heatmap.data.cells.length > 0 ? (
              <EChart
                option={heatmapOption(heatmap.data)}
                height={Math.max(260, 44 * heatmap.data.row_labels.length + 90)}
                label="Distribution gap heat map by region and pack type"
                notMerge
              />
            ) : heatmap.isPending ? (
              <Skeleton h={260} />
            ) : (
              <Text size="sm" c="dimmed">
                No gap to show.
              </Text>
            )}
          </Card>
          <Card withBorder padding="md">
            <Group justify="space-between" mb="xs">
              <Text fw={600}>Act on these first</Text>
              <Anchor component={Link} to="/sales/gaps" size="sm">
                All distribution gaps
              </Anchor>
            </Group>
            <Table verticalSpacing={4} aria-label="Top gaps">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Area</Table.Th>
                  <Table.Th>Pack type</Table.Th>
                  <Table.Th ta="right">Zero share</Table.Th>
                  <Table.Th>Urgency</Table.Th>
                  <Table.Th>Recommendation</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(gaps.data?.rows ?? [])
                  .slice()
                  .sort((a, b) => b.zero_share - a.zero_share)
                  .slice(0, 10)
                  .map((g) => (
                    <Table.Tr key={`${g.region}|${g.province}|${g.precision_area}|${g.pack_type}`}>
                      <Table.Td>
                        {[g.region, g.province, g.precision_area].filter(Boolean).join(' › ')}
                      </Table.Td>
                      <Table.Td>{g.pack_type}</Table.Td>
                      <Table.Td ta="right">{percent(g.zero_share)}</Table.Td>
                      <Table.Td>
                        <UrgencyBadge urgency={g.urgency ?? null} />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{g.recommendation ?? '–'}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
              </Table.Tbody>
            </Table>
          </Card>
        </Stack>
      </Tabs.Panel>

      <Tabs.Panel value="analytics">
        <Stack gap="md">
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
            <Card withBorder padding="md">
              <Text fw={600}>Month-on-month growth</Text>
              <EChart option={growthOption(t, 'mom_growth')} height={240} label="Month-on-month growth" />
            </Card>
            <Card withBorder padding="md">
              <Text fw={600}>Year-on-year growth</Text>
              <EChart option={growthOption(t, 'yoy_growth')} height={240} label="Year-on-year growth" />
            </Card>
          </SimpleGrid>
          <Card withBorder padding="md">
            <Group justify="space-between">
              <Text fw={600}>Seasonality</Text>
              <Anchor component={Link} to="/sales/trends" size="sm">
                Trends by region, pack type, SKU…
              </Anchor>
            </Group>
            <EChart option={seasonalityOption(t)} height={220} label="Seasonality index by month" />
          </Card>
          <Title order={4} fz={14} c="dimmed">
            {t.months.length} months of data, {monthLabel(t.months[0] ?? '')} to{' '}
            {monthLabel(t.months.at(-1) ?? '')}
          </Title>
        </Stack>
      </Tabs.Panel>
    </Tabs>
  );
}
