import {
  Alert,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  List,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck, IconFileSpreadsheet, IconUpload } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { ApiError } from '../../api/client';
import { useApi } from '../../api/context';
import {
  formatMoney,
  hasNoMarketTotals,
  isMissing,
  type MarketTotalsImported,
  marketTotalsErrors,
  percent,
  salesKeys,
  sendMarketTotals,
  SHARE_DIMENSIONS,
  type ShareDimension,
  useMarketShare,
} from '../../api/sales';
import { useCan } from '../../auth/me';
import { EChart } from '../../charts/EChart';
import { ErrorAlert } from '../../components/ErrorAlert';
import { ImportErrorTable } from '../../components/ImportErrorTable';
import { monthLabel, shareTrendOption } from './charts';
import { latestShareMonth, shareRows } from './logic';
import { EmptyState } from './shared';

/** The CSV layout the upload takes, as the empty state and the form explain it. */
const CSV_LAYOUT =
  'a header row with month (YYYY-MM), region, pack_type and market_value, and optionally market_qty';

/** A change in share as signed percentage points ("+1.5 pts", "−2.0 pts"). */
function Points({ value }: { value: number | null }) {
  if (value === null)
    return (
      <Text span c="dimmed">
        –
      </Text>
    );
  const pts = (value * 100).toFixed(1);
  return (
    <Text span c={value >= 0 ? 'teal' : 'red'} fw={600}>
      {value >= 0 ? '+' : ''}
      {pts} pts
    </Text>
  );
}

/**
 * The market-totals upload (`sales:import`): a CSV sent as is; the server checks every row and
 * writes nothing unless all are good. A refusal shows the problem and, row by row, every bad cell.
 */
function MarketTotalsUpload() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<MarketTotalsImported | null>(null);
  const notCsv = file !== null && !file.name.toLowerCase().endsWith('.csv');

  const send = async () => {
    if (!file || notCsv) return;
    setSending(true);
    setError(null);
    setDone(null);
    try {
      const result = await sendMarketTotals(api, file);
      setDone(result);
      await queryClient.invalidateQueries({ queryKey: salesKeys.marketShareAll });
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };

  const refusal = error instanceof ApiError && error.status === 422 ? error : null;
  const problems = refusal ? marketTotalsErrors(refusal.fieldErrors) : null;
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Text fw={600}>Load market totals</Text>
        <Group align="flex-end" gap="sm">
          <FileInput
            label="Market totals (CSV)"
            description={`One row per month, region and pack type: ${CSV_LAYOUT}.`}
            placeholder="Choose a .csv file"
            accept=".csv,text/csv"
            leftSection={<IconFileSpreadsheet size={16} />}
            value={file}
            onChange={(f) => {
              setFile(f);
              setError(null);
              setDone(null);
            }}
            clearable
            error={notCsv ? 'Choose a .csv file' : undefined}
            w={420}
          />
          <Button
            leftSection={<IconUpload size={16} />}
            onClick={() => void send()}
            loading={sending}
            disabled={!file || notCsv}
          >
            Upload market totals
          </Button>
        </Group>
        {done ? (
          <Alert
            color="teal"
            variant="light"
            icon={<IconCircleCheck size={18} />}
            data-testid="market-totals-result"
          >
            Loaded {done.rows} {done.rows === 1 ? 'row' : 'rows'} ({done.inserted} new, {done.replaced}{' '}
            replaced)
            {done.from && done.to
              ? `, ${monthLabel(done.from)}${done.to !== done.from ? ` – ${monthLabel(done.to)}` : ''}`
              : ''}
            .
          </Alert>
        ) : null}
        {refusal && problems ? (
          <Stack gap="xs" data-testid="market-totals-problem">
            <Alert color="red" variant="light" title={refusal.title} icon={<IconAlertTriangle size={18} />}>
              <Stack gap={4}>
                <Text size="sm">Nothing was loaded: fix the file and upload it again.</Text>
                {refusal.detail && !problems.cells.length && !problems.general.length ? (
                  <Text size="sm">{refusal.detail}</Text>
                ) : null}
                {problems.general.length ? (
                  <List size="sm" aria-label="File problems">
                    {problems.general.map((p) => (
                      <List.Item key={`${p.field}-${p.message}`}>
                        <Text span ff="monospace" size="sm">
                          {p.field}
                        </Text>
                        : {p.message}
                      </List.Item>
                    ))}
                  </List>
                ) : null}
              </Stack>
            </Alert>
            {problems.cells.length ? <ImportErrorTable errors={problems.cells} /> : null}
          </Stack>
        ) : error ? (
          <ErrorAlert error={error} what="the market totals upload" />
        ) : null}
      </Stack>
    </Card>
  );
}

/**
 * Market share: our sales against the market's totals, per region or pack type and month —
 * a line per key, a table for one month with the change against the month before and the
 * server's erosion flag, and (for `sales:import`) the upload of the market totals.
 */
export function MarketSharePage() {
  const can = useCan();
  const canUpload = can('sales:import');
  const [by, setBy] = useState<ShareDimension>('region');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [month, setMonth] = useState<string | null>(null);
  const share = useMarketShare({ by, from, to });
  const dimension = SHARE_DIMENSIONS.find((d) => d.value === by)?.label ?? by;
  const s = share.data;

  const controls = (
    <Group align="flex-end" gap="sm">
      <Select
        label="By"
        data={SHARE_DIMENSIONS.map((d) => ({ value: d.value, label: d.label }))}
        value={by}
        onChange={(v) => {
          if (v === 'region' || v === 'pack_type') setBy(v);
        }}
        allowDeselect={false}
        w={160}
        comboboxProps={{ withinPortal: true }}
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
  );

  // The upload keeps one place in the tree whatever is shown above it, so its result
  // survives the switch from the empty state to the share that the upload itself causes.
  const page = (showControls: boolean, body: ReactNode) => (
    <Stack gap="md">
      {showControls ? controls : null}
      {body}
      {canUpload ? <MarketTotalsUpload /> : null}
    </Stack>
  );
  if (share.error && !isMissing(share.error)) {
    return page(
      true,
      <ErrorAlert error={share.error} what="the market share" onRetry={() => void share.refetch()} />,
    );
  }
  if (!s) return page(true, <Skeleton h={320} />);
  if (hasNoMarketTotals(s)) {
    return page(
      Boolean(from || to),
      <EmptyState title={from || to ? 'No market totals in this period' : 'No market totals yet'}>
        Market share compares our sales with the whole market's, per month, region and pack type. It needs the
        market totals from your panel or syndicated data: a CSV with {CSV_LAYOUT}.{' '}
        {canUpload
          ? 'Load it below (or POST it to /api/v1/sales/market-totals).'
          : 'Someone with the sales:import permission loads it here or through POST /api/v1/sales/market-totals.'}
      </EmptyState>,
    );
  }

  const latest = latestShareMonth(s);
  const index = month !== null && s.months.includes(month) ? s.months.indexOf(month) : latest;
  const rows = shareRows(s, index);
  const eroding = s.series.filter((x) => x.eroding).length;
  const lastMonth = s.months[s.months.length - 1] ?? '';
  return page(
    true,
    <>
      <Card withBorder padding="md">
        <Group justify="space-between" mb="xs">
          <Text fw={600}>Our share by {dimension.toLowerCase()}</Text>
          {eroding ? (
            <Badge color="red" variant="light" data-testid="eroding-count">
              {eroding} eroding
            </Badge>
          ) : null}
        </Group>
        <EChart
          option={shareTrendOption(s)}
          height={320}
          label={`Market share by ${dimension.toLowerCase()}`}
          notMerge
        />
      </Card>
      <Card withBorder padding="md">
        <Group justify="space-between" align="flex-end" mb="xs">
          <Text fw={600}>Share in {monthLabel(s.months[index] ?? '')}</Text>
          <Select
            label="Month"
            data={[...s.months].reverse().map((m) => ({ value: m, label: monthLabel(m) }))}
            value={s.months[index] ?? null}
            onChange={setMonth}
            allowDeselect={false}
            w={160}
            comboboxProps={{ withinPortal: true }}
          />
        </Group>
        <Table.ScrollContainer minWidth={760}>
          <Table striped aria-label="market share" verticalSpacing={6}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{dimension}</Table.Th>
                <Table.Th ta="right">Our sales</Table.Th>
                <Table.Th ta="right">Market total</Table.Th>
                <Table.Th ta="right">Share</Table.Th>
                <Table.Th ta="right">vs previous month</Table.Th>
                <Table.Th ta="right">3-month change</Table.Th>
                <Table.Th>Erosion</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r) => (
                <Table.Tr key={r.key}>
                  <Table.Td>{r.key}</Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {r.marketValue === null ? '–' : formatMoney(r.ourValue)}
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {formatMoney(r.marketValue)}
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {percent(r.share, 1)}
                  </Table.Td>
                  <Table.Td ta="right">
                    <Points value={r.changeVsPrevious} />
                  </Table.Td>
                  <Table.Td ta="right">
                    <Points value={r.change3m} />
                  </Table.Td>
                  <Table.Td>
                    {r.eroding ? (
                      <Badge color="red" variant="filled">
                        Eroding
                      </Badge>
                    ) : (
                      <Text span c="dimmed" size="sm">
                        –
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Text size="xs" c="dimmed" mt="xs">
          Our sales count only the regions and pack types that have a market total that month. Erosion and the
          3-month change are measured at {monthLabel(lastMonth)}, the last month of the period: eroding means
          at least 2 points of share lost against 3 months before.
        </Text>
      </Card>
    </>,
  );
}
