import { Card, Checkbox, Group, SimpleGrid, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { isMissing, percent, useGapHeatmap, useGaps } from '../../api/sales';
import { EChart } from '../../charts/EChart';
import { ErrorAlert } from '../../components/ErrorAlert';
import { heatmapOption } from './charts';
import { EmptyState, ImportSalesAction, Kpi, UrgencyBadge } from './shared';

/** Distribution gaps: where a pack type does not sell, by area, with what to do about it. */
export function GapsPage() {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [region, setRegion] = useState('');
  const [packType, setPackType] = useState('');
  const [flaggedOnly, setFlaggedOnly] = useState(true);
  const [filters] = useDebouncedValue({ from, to, region: region.trim(), pack_type: packType.trim() }, 300);
  const gaps = useGaps({ ...filters, flagged_only: String(flaggedOnly) });
  const heatmap = useGapHeatmap({ from: filters.from, to: filters.to });

  const empty = gaps.data?.summary.total_records === 0 && !from && !to && !region && !packType;
  if (isMissing(gaps.error) || empty) {
    return (
      <EmptyState title="No sales data yet" action={<ImportSalesAction />}>
        Distribution gaps come from imported sales data: the share of records with zero sales per area and
        pack type.
      </EmptyState>
    );
  }
  const s = gaps.data?.summary;
  return (
    <Stack gap="md">
      <Group align="flex-end" gap="sm">
        <TextInput
          label="From"
          type="date"
          value={from}
          onChange={(e) => {
            setFrom(e.currentTarget.value);
          }}
          w={160}
        />
        <TextInput
          label="To"
          type="date"
          value={to}
          onChange={(e) => {
            setTo(e.currentTarget.value);
          }}
          w={160}
        />
        <TextInput
          label="Region"
          value={region}
          onChange={(e) => {
            setRegion(e.currentTarget.value);
          }}
          w={160}
        />
        <TextInput
          label="Pack type"
          value={packType}
          onChange={(e) => {
            setPackType(e.currentTarget.value);
          }}
          w={160}
        />
        <Checkbox
          label="Flagged only"
          checked={flaggedOnly}
          onChange={(e) => {
            setFlaggedOnly(e.currentTarget.checked);
          }}
          mb={8}
        />
      </Group>
      {gaps.error ? <ErrorAlert error={gaps.error} what="the distribution gaps" /> : null}
      {s ? (
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Kpi label="Records" value={s.total_records.toLocaleString()} />
          <Kpi
            label="Zero-sales share"
            value={percent(s.zero_share, 1)}
            note={`${s.zero_records.toLocaleString()} records`}
          />
          <Kpi label="Flagged" value={String(s.flagged)} />
          <Kpi label="High urgency" value={String(s.high)} color={s.high ? 'red' : undefined} />
        </SimpleGrid>
      ) : null}
      {heatmap.data && heatmap.data.cells.length > 0 ? (
        <Card withBorder padding="md">
          <Text fw={600}>Region × pack type</Text>
          <EChart
            option={heatmapOption(heatmap.data)}
            height={Math.max(260, 44 * heatmap.data.row_labels.length + 90)}
            label="Distribution gap heat map by region and pack type"
            notMerge
          />
        </Card>
      ) : null}
      {gaps.isPending ? (
        <Skeleton h={200} />
      ) : gaps.data?.rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          {flaggedOnly
            ? 'No flagged gap in this period: untick “Flagged only” to see every area.'
            : 'No data in this period.'}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table striped aria-label="distribution gaps" verticalSpacing={6}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Region</Table.Th>
                <Table.Th>Province</Table.Th>
                <Table.Th>Precision area</Table.Th>
                <Table.Th>Pack type</Table.Th>
                <Table.Th ta="right">Records</Table.Th>
                <Table.Th ta="right">Zero share</Table.Th>
                <Table.Th>Urgency</Table.Th>
                <Table.Th>Recommendation</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(gaps.data?.rows ?? []).map((g) => (
                <Table.Tr key={`${g.region}|${g.province}|${g.precision_area}|${g.pack_type}`}>
                  <Table.Td>{g.region}</Table.Td>
                  <Table.Td>{g.province}</Table.Td>
                  <Table.Td>{g.precision_area}</Table.Td>
                  <Table.Td>{g.pack_type}</Table.Td>
                  <Table.Td ta="right">{g.total_records.toLocaleString()}</Table.Td>
                  <Table.Td ta="right">{percent(g.zero_share, 1)}</Table.Td>
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
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
