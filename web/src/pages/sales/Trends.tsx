import {
  Card,
  Group,
  SegmentedControl,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { useState } from 'react';
import {
  hasNoSales,
  isMissing,
  TREND_DIMENSIONS,
  type TrendDimension,
  type TrendMeasure,
  useTrends,
} from '../../api/sales';
import { EChart } from '../../charts/EChart';
import { ErrorAlert } from '../../components/ErrorAlert';
import { seriesTrendOption, totalTrendOption } from './charts';
import { EmptyState, Growth, ImportSalesAction } from './shared';

/** Market trends: a dimension, a measure and a period; a line per key, the total, the movers. */
export function TrendsPage() {
  const [by, setBy] = useState<TrendDimension>('region');
  const [measure, setMeasure] = useState<TrendMeasure>('value');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const trends = useTrends({ by, measure, from, to });

  if (isMissing(trends.error) || (trends.data && hasNoSales(trends.data) && !from && !to)) {
    return (
      <EmptyState title="No sales data yet" action={<ImportSalesAction />}>
        Trends are computed from imported sales data, month by month.
      </EmptyState>
    );
  }
  const t = trends.data;
  const last = (t?.months.length ?? 0) - 1;
  return (
    <Stack gap="md">
      <Group align="flex-end" gap="sm">
        <Select
          label="By"
          data={TREND_DIMENSIONS.map((d) => ({ value: d.value, label: d.label }))}
          value={by}
          onChange={(v) => {
            if (v) setBy(v);
          }}
          allowDeselect={false}
          w={180}
          comboboxProps={{ withinPortal: true }}
        />
        <SegmentedControl
          data={[
            { value: 'value', label: 'Value' },
            { value: 'qty', label: 'Quantity' },
          ]}
          value={measure}
          onChange={(v) => {
            setMeasure(v);
          }}
          aria-label="Measure"
        />
        <TextInput
          label="From month"
          type="month"
          value={from}
          onChange={(e) => {
            setFrom(e.currentTarget.value);
          }}
          w={170}
        />
        <TextInput
          label="To month"
          type="month"
          value={to}
          onChange={(e) => {
            setTo(e.currentTarget.value);
          }}
          w={170}
        />
      </Group>
      {trends.error ? <ErrorAlert error={trends.error} what="the trends" /> : null}
      {!t ? (
        <Skeleton h={320} />
      ) : (
        <>
          <Card withBorder padding="md">
            <Text fw={600}>
              By {TREND_DIMENSIONS.find((d) => d.value === by)?.label.toLowerCase()} (largest 8)
            </Text>
            <EChart option={seriesTrendOption(t)} height={320} label={`Sales trend by ${by}`} notMerge />
          </Card>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Card withBorder padding="md">
              <Text fw={600}>Total</Text>
              <EChart option={totalTrendOption(t)} height={220} label="Total sales trend" notMerge />
            </Card>
            <Card withBorder padding="md">
              <Text fw={600} mb="xs">
                Latest month, per {by.replace('_', ' ')}
              </Text>
              <Table.ScrollContainer minWidth={360} mah={220}>
                <Table verticalSpacing={4} aria-label="trend series">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Key</Table.Th>
                      <Table.Th ta="right">Latest</Table.Th>
                      <Table.Th ta="right">MoM</Table.Th>
                      <Table.Th ta="right">YoY</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {t.series.map((s) => (
                      <Table.Tr key={s.key}>
                        <Table.Td>{s.key}</Table.Td>
                        <Table.Td ta="right" ff="monospace">
                          {(s.values[last] ?? 0).toLocaleString()}
                        </Table.Td>
                        <Table.Td ta="right">
                          <Growth value={s.mom_growth[last]} />
                        </Table.Td>
                        <Table.Td ta="right">
                          <Growth value={s.yoy_growth[last]} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Card>
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}
