import {
  ActionIcon,
  Alert,
  Card,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  ThemeIcon,
  Tooltip,
  useComputedColorScheme,
  useMantineTheme,
} from '@mantine/core';
import { IconAlertTriangle, IconDatabase, IconGauge, IconRefresh, IconServer } from '@tabler/icons-react';
import { useIsFetching, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useMemo } from 'react';
import type { Problem } from '../api/client';
import {
  LATENCY_HISTORY,
  type ReadinessSample,
  STATUS_POLL_MS,
  useHealth,
  useReadiness,
} from '../api/system';
import { ReadinessBadge } from '../components/StatusBadge';
import { Page } from '../components/Page';
import { EChart } from '../charts/EChart';
import type { ChartOption } from '../charts/echarts';
import { formatLatency, median, timeFormat } from '../lib/format';

function StatCard({
  title,
  icon,
  badge,
  children,
}: {
  title: string;
  icon: ReactNode;
  badge?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Card>
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <ThemeIcon variant="light" size="md" radius="md">
              {icon}
            </ThemeIcon>
            <Text size="sm" fw={600} c="dimmed">
              {title}
            </Text>
          </Group>
          {badge}
        </Group>
        {children}
      </Stack>
    </Card>
  );
}

function ProblemAlert({ problem }: { problem: Problem }) {
  return (
    <Alert
      color="red"
      variant="light"
      title={problem.title}
      icon={<IconAlertTriangle size={18} />}
      data-testid="problem"
    >
      <Stack gap={4}>
        {problem.detail ? <Text size="sm">{problem.detail}</Text> : null}
        {problem.errors?.map((e) => (
          <Text size="sm" key={e.field}>
            <b>{e.field}</b>: {e.message}
          </Text>
        ))}
        <Text size="xs" c="dimmed">
          {[
            problem.status > 0 ? `HTTP ${problem.status}` : 'No response',
            problem.code,
            problem.request_id ? `request ${problem.request_id}` : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        </Text>
      </Stack>
    </Alert>
  );
}

function useLatencyOption(history: ReadinessSample[]): ChartOption {
  const theme = useMantineTheme();
  const scheme = useComputedColorScheme('light', { getInitialValueInEffect: false });
  return useMemo(() => {
    const dark = scheme === 'dark';
    const axisText = dark ? theme.colors.dark[2] : theme.colors.gray[6];
    const gridLine = dark ? theme.colors.dark[5] : theme.colors.gray[2];
    const line = dark ? theme.colors.meridian?.[4] : theme.colors.meridian?.[7];
    return {
      animation: false,
      grid: { left: 48, right: 16, top: 28, bottom: 28 },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v) => (typeof v === 'number' ? formatLatency(v) : String(v)),
      },
      xAxis: {
        type: 'category',
        boundaryGap: false,
        data: history.map((s) => timeFormat.format(s.at)),
        axisLabel: { color: axisText, hideOverlap: true },
        axisLine: { lineStyle: { color: gridLine } },
        axisTick: { show: false },
      },
      yAxis: {
        type: 'value',
        name: 'ms',
        nameTextStyle: { color: axisText },
        axisLabel: { color: axisText },
        splitLine: { lineStyle: { color: gridLine } },
        min: 0,
      },
      series: [
        {
          name: 'GET /ready',
          type: 'line',
          smooth: true,
          showSymbol: history.length <= 12,
          symbolSize: 6,
          lineStyle: { width: 2, color: line },
          itemStyle: { color: line },
          areaStyle: { color: line, opacity: 0.12 },
          data: history.map((s) => ({
            value: Number(s.latencyMs.toFixed(2)),
            itemStyle: s.state === 'ready' ? {} : { color: theme.colors.red[6] },
          })),
        },
      ],
    } satisfies ChartOption;
  }, [history, scheme, theme]);
}

export function StatusPage() {
  const health = useHealth();
  const readiness = useReadiness();
  const queryClient = useQueryClient();
  const fetching = useIsFetching({ queryKey: ['system'] }) > 0;

  const latest = readiness.data?.latest;
  const history = useMemo(() => readiness.data?.history ?? [], [readiness.data]);
  const option = useLatencyOption(history);
  const typical = median(history.map((s) => s.latencyMs));

  return (
    <Page
      title="Status"
      description={`Liveness and readiness of this Meridian server, refreshed every ${STATUS_POLL_MS / 1000} s.`}
      actions={
        <Group gap="xs">
          <Text size="xs" c="dimmed" data-testid="last-checked">
            {latest ? `Last checked ${timeFormat.format(latest.at)}` : 'Checking…'}
          </Text>
          <Tooltip label="Check now">
            <ActionIcon
              variant="default"
              aria-label="Check now"
              loading={fetching}
              onClick={() => void queryClient.invalidateQueries({ queryKey: ['system'] })}
            >
              <IconRefresh size={16} stroke={1.6} />
            </ActionIcon>
          </Tooltip>
        </Group>
      }
    >
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="lg">
        <StatCard
          title="Server"
          icon={<IconServer size={16} />}
          badge={
            health.isSuccess ? (
              <ReadinessBadge
                state={health.data.status === 'ok' ? 'ready' : 'not_ready'}
                label={health.data.status === 'ok' ? 'Live' : health.data.status}
              />
            ) : health.isError ? (
              <ReadinessBadge state="unreachable" />
            ) : null
          }
        >
          {health.isPending ? (
            <Skeleton h={34} w={120} />
          ) : health.isError ? (
            <ProblemAlert problem={health.error.problem} />
          ) : (
            <Stack gap={2}>
              <Text fz={28} fw={650} lh={1.2} data-testid="server-version">
                v{health.data.version}
              </Text>
              <Text size="sm" c="dimmed">
                Version · liveness <b>{health.data.status}</b>
              </Text>
            </Stack>
          )}
        </StatCard>

        <StatCard
          title="Database"
          icon={<IconDatabase size={16} />}
          badge={<ReadinessBadge state={latest?.state ?? 'checking'} />}
        >
          {!latest ? (
            <Skeleton h={34} w={120} />
          ) : latest.state === 'ready' && latest.readiness ? (
            <Stack gap={2}>
              <Text fz={28} fw={650} lh={1.2} data-testid="database">
                {latest.readiness.database}
              </Text>
              <Text size="sm" c="dimmed">
                Readiness <b data-testid="readiness-status">{latest.readiness.status}</b>
              </Text>
            </Stack>
          ) : latest.problem ? (
            <ProblemAlert problem={latest.problem} />
          ) : null}
        </StatCard>

        <StatCard title="Readiness round trip" icon={<IconGauge size={16} />}>
          {!latest ? (
            <Skeleton h={34} w={120} />
          ) : (
            <Stack gap={2}>
              <Text fz={28} fw={650} lh={1.2} data-testid="latency">
                {formatLatency(latest.latencyMs)}
              </Text>
              <Text size="sm" c="dimmed">
                Median {typical === undefined ? '–' : formatLatency(typical)} over {history.length}{' '}
                {history.length === 1 ? 'poll' : 'polls'}
              </Text>
            </Stack>
          )}
        </StatCard>
      </SimpleGrid>

      <Card>
        <Stack gap="xs">
          <Group justify="space-between">
            <Text fw={600}>GET /ready round trip</Text>
            <Text size="xs" c="dimmed">
              last {LATENCY_HISTORY} polls
            </Text>
          </Group>
          <EChart option={option} height={220} label="Round-trip latency of GET /ready over the last polls" />
        </Stack>
      </Card>
    </Page>
  );
}
