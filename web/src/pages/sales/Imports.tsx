import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  FileInput,
  Group,
  Loader,
  Progress,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Stepper,
  Table,
  Text,
  Title,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconArrowLeft,
  IconCircleCheck,
  IconFileImport,
  IconFileSpreadsheet,
} from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client';
import { useApi } from '../../api/context';
import {
  importErrorsOf,
  isMissing,
  pollSalesImport,
  type SalesImport,
  type SalesImportError,
  type SalesImportStatus,
  salesFileType,
  salesKeys,
  sendSalesImport,
  useSalesImportMappings,
  useSalesImports,
} from '../../api/sales';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { ImportErrorTable } from '../../components/ImportErrorTable';
import type { CellError } from '../../components/importErrors';
import { NoAccess } from '../../components/NoAccess';
import { formatDate } from '../../lib/format';
import { EmptyState } from './shared';

/** Files above this size are imported in the background, with a progress bar. */
export const BACKGROUND_SALES_BYTES = 512 * 1024;

const STATUS_COLOURS: Partial<Record<string, string>> & Record<SalesImportStatus, string> = {
  validated: 'blue',
  rejected: 'red',
  committed: 'teal',
  running: 'yellow',
  failed: 'red',
};

const cellErrors = (errors: readonly SalesImportError[]): CellError[] =>
  errors.map((e) => ({ row: e.row, column: e.column, message: e.reason }));

/**
 * The import a 422 refusal of a commit describes: the check we had (or an empty one) with the
 * refusal's errors (`errors`, `errors_truncated` and `import_id` extension members).
 */
function refusedImport(
  error: unknown,
  rows: SalesImportError[],
  before: SalesImport | null,
  fileName: string,
  mapping: string,
  dryRun: boolean,
): SalesImport {
  const ext = (error instanceof ApiError ? error.problem : {}) as {
    import_id?: string;
    errors_truncated?: boolean;
  };
  const invalid = new Set(rows.map((r) => r.row)).size;
  return {
    id: ext.import_id ?? before?.id ?? '',
    file_name: before?.file_name ?? fileName,
    file_sha256: before?.file_sha256 ?? '',
    source: 'api',
    mapping,
    status: 'rejected',
    dry_run: dryRun,
    skip_invalid: false,
    rows_total: before?.rows_total ?? invalid,
    rows_invalid: Math.max(invalid, before?.rows_invalid ?? 0),
    rows_inserted: 0,
    rows_replaced: 0,
    period_from: before?.period_from ?? null,
    period_to: before?.period_to ?? null,
    processed_rows: 0,
    errors: rows,
    errors_truncated: ext.errors_truncated ?? false,
    warnings: before?.warnings ?? [],
    created_at: before?.created_at ?? new Date().toISOString(),
    finished_at: null,
  };
}

/** Earlier imports: when, which file, how many rows, which period. */
export function SalesImportsPage() {
  const can = useCan();
  const imports = useSalesImports(can('sales:import'));
  if (!can('sales:import')) return <NoAccess what="the sales imports" />;
  const rows = imports.data ?? [];
  return (
    <Stack gap="md">
      <Group justify="flex-end">
        <Button component={Link} to="/sales/imports/new" leftSection={<IconFileImport size={16} />}>
          Import sales data
        </Button>
      </Group>
      {imports.error && !isMissing(imports.error) ? (
        <ErrorAlert error={imports.error} what="the imports" />
      ) : null}
      {imports.isPending ? (
        <Skeleton h={160} />
      ) : rows.length === 0 ? (
        <EmptyState
          title="No import yet"
          action={
            <Button component={Link} to="/sales/imports/new" leftSection={<IconFileImport size={16} />}>
              Import sales data
            </Button>
          }
        >
          Import a CSV or Excel file of sales (the sheet6 layout or a mapping of your own): it is checked row
          by row before anything is saved.
        </EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table striped aria-label="imports" verticalSpacing={6}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>File</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Rows</Table.Th>
                <Table.Th ta="right">Invalid</Table.Th>
                <Table.Th ta="right">Inserted</Table.Th>
                <Table.Th ta="right">Replaced</Table.Th>
                <Table.Th>Period</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{formatDate(r.created_at, true)}</Table.Td>
                  <Table.Td>{r.file_name}</Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLOURS[r.status] ?? 'gray'} variant="light">
                      {r.dry_run && r.status === 'validated' ? 'dry run' : r.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="right">{r.rows_total.toLocaleString()}</Table.Td>
                  <Table.Td ta="right">{r.rows_invalid.toLocaleString()}</Table.Td>
                  <Table.Td ta="right">{r.rows_inserted.toLocaleString()}</Table.Td>
                  <Table.Td ta="right">{r.rows_replaced.toLocaleString()}</Table.Td>
                  <Table.Td>
                    {r.period_from ? `${formatDate(r.period_from)} – ${formatDate(r.period_to)}` : '–'}
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

/** Progress of a running import: a bar when the server reports rows, a spinner otherwise. */
function Working({ label, running }: { label: string; running: SalesImport | null }) {
  if (running && running.rows_total > 0) {
    const pct = Math.min(100, Math.round((running.processed_rows / running.rows_total) * 100));
    const text = `${label}: ${String(pct)}% (${running.processed_rows.toLocaleString()} of ${running.rows_total.toLocaleString()} rows)`;
    return (
      <Stack gap={4} data-testid="import-progress">
        <Text size="sm">{text}</Text>
        <Progress value={pct} size="lg" striped animated aria-label={text} />
      </Stack>
    );
  }
  return (
    <Group gap="xs" data-testid="import-progress">
      <Loader size="sm" />
      <Text size="sm">{label}…</Text>
    </Group>
  );
}

function Counts({ result }: { result: SalesImport }) {
  const stats = [
    { label: 'Rows', value: result.rows_total, color: undefined },
    { label: 'Valid', value: result.rows_total - result.rows_invalid, color: 'teal' },
    { label: 'Invalid', value: result.rows_invalid, color: result.rows_invalid ? 'red' : undefined },
  ];
  return (
    <SimpleGrid cols={{ base: 3 }} spacing="sm" maw={560} data-testid="import-counts">
      {stats.map((s) => (
        <Card key={s.label} withBorder padding="sm">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {s.label}
          </Text>
          <Text fz={22} fw={700} c={s.color} data-testid={`count-${s.label.toLowerCase()}`}>
            {s.value.toLocaleString()}
          </Text>
        </Card>
      ))}
    </SimpleGrid>
  );
}

function Refusal({ error }: { error: unknown }) {
  if (!error) return null;
  let message = error instanceof Error ? error.message : 'Something went wrong';
  if (error instanceof ApiError) {
    const rows = importErrorsOf(error);
    const fields = error.fieldErrors
      .filter((f) => typeof f.field === 'string' && typeof f.message === 'string')
      .map((f) => (f.field === 'file' ? f.message : `${f.field}: ${f.message}`));
    if (error.status === 403) message = 'You may not import sales data.';
    else if (rows)
      message = `The file was refused: ${String(new Set(rows.map((r) => r.row)).size)} rows have errors (listed below). Nothing was imported.`;
    else message = fields.length ? fields.join(' · ') : (error.detail ?? error.title);
  }
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
      {message}
    </Alert>
  );
}

/**
 * Sales data → Import: choose a CSV or XLSX file and its mapping → the server's dry run →
 * the error report (row, column, reason; downloadable) → import (all or nothing, or skip
 * the invalid rows) with progress → the summary and the way to the dashboard.
 */
export function SalesImportWizard() {
  const can = useCan();
  const allowed = can('sales:import');
  const api = useApi();
  const queryClient = useQueryClient();
  const mappings = useSalesImportMappings(allowed);
  const [step, setStep] = useState(0);
  const [file, setFile] = useState<File | null>(null);
  const [mapping, setMapping] = useState('sheet6');
  const [allowNew, setAllowNew] = useState(false);
  const [checked, setChecked] = useState<SalesImport | null>(null);
  const [result, setResult] = useState<SalesImport | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [running, setRunning] = useState<SalesImport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);
  if (!allowed) return <NoAccess what="the sales import" />;

  const background = (file?.size ?? 0) > BACKGROUND_SALES_BYTES;
  const type = file ? salesFileType(file.name) : null;

  const run = async (
    label: string,
    options: { dryRun: boolean; skipInvalid?: boolean },
  ): Promise<SalesImport | null> => {
    if (!file) return null;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setBusy(label);
    setRunning(null);
    setError(null);
    try {
      const answer = await sendSalesImport(
        api,
        file,
        { mapping, background, allowNewValues: allowNew, ...options },
        controller.signal,
      );
      return answer.status === 'running'
        ? await pollSalesImport(api, answer, setRunning, controller.signal)
        : answer;
    } catch (e) {
      if (controller.signal.aborted) return null;
      // a refused file (dry run or commit) carries its report as `errors`: show it as the check
      const rows = importErrorsOf(e);
      if (rows) {
        setChecked(refusedImport(e, rows, checked, file.name, mapping, options.dryRun));
        setStep(1);
      }
      setError(e);
      return null;
    } finally {
      if (abort.current === controller) {
        setBusy(null);
        setRunning(null);
      }
    }
  };

  const check = async () => {
    const answer = await run('Checking the file', { dryRun: true });
    if (answer) {
      setChecked(answer);
      setStep(1);
    }
  };

  const commit = async (skipInvalid: boolean) => {
    const answer = await run('Importing', { dryRun: false, skipInvalid });
    if (answer?.status === 'failed') {
      setError(new Error('The import failed on the server; nothing was saved.'));
      return;
    }
    if (answer) {
      setResult(answer);
      setStep(2);
      await queryClient.invalidateQueries({ queryKey: salesKeys.all });
    }
  };

  const restart = () => {
    setFile(null);
    setChecked(null);
    setResult(null);
    setError(null);
    setStep(0);
  };

  const mappingOptions = [...new Set(['sheet6', ...(mappings.data ?? []).map((m) => m.name)])];
  const invalid = checked?.rows_invalid ?? 0;
  const valid = (checked?.rows_total ?? 0) - invalid;

  return (
    <Stack gap="md" data-testid="import-wizard">
      <Anchor component={Link} to="/sales/imports" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          Imports
        </Group>
      </Anchor>
      <Title order={2} fz={22}>
        Import sales data
      </Title>
      <Stepper active={step} size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label="File" description="CSV or XLSX, and its mapping">
          <Stack gap="sm" mt="md" maw={560}>
            <FileInput
              label="Sales file"
              description="One row per outlet, SKU and day. The sheet6 layout: Date, Region, Province, Precision Area, Outlet Code, Outlet Name, Channel, Pack Type, SKU, Sales Qty, Sales Value."
              placeholder="Choose a file"
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              leftSection={<IconFileSpreadsheet size={16} />}
              value={file}
              onChange={(f) => {
                setFile(f);
                setChecked(null);
                setError(null);
              }}
              clearable
              error={file && !type ? 'Choose a .csv or .xlsx file' : undefined}
            />
            <Select
              label="Mapping"
              description="Which column of the file holds each field"
              data={mappingOptions}
              value={mapping}
              onChange={(v) => {
                if (v) setMapping(v);
              }}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
            />
            <Checkbox
              label="Accept new regions and pack types"
              description="Otherwise a region or pack type the organisation has never seen is refused as a typo"
              checked={allowNew}
              onChange={(e) => {
                setAllowNew(e.currentTarget.checked);
              }}
            />
            {background && file ? (
              <Text size="xs" c="dimmed">
                A large file: it is checked and imported in the background, with progress shown here.
              </Text>
            ) : null}
            {busy ? <Working label={busy} running={running} /> : <Refusal error={error} />}
            <Group>
              <Button onClick={() => void check()} disabled={!file || !type} loading={Boolean(busy)}>
                Check the file
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Check" description="Every bad cell">
          {checked ? (
            <Stack gap="md" mt="md">
              <Text size="sm" c="dimmed">
                {file?.name} · mapping {mapping}
                {checked.period_from
                  ? ` · ${formatDate(checked.period_from)} to ${formatDate(checked.period_to)}`
                  : ''}
              </Text>
              <Counts result={checked} />
              <ImportErrorTable
                errors={cellErrors(checked.errors)}
                truncated={checked.errors_truncated}
                downloadName={`${(file?.name ?? 'sales').replace(/\.[^.]+$/, '')}-errors.csv`}
              />
              {checked.warnings.length ? (
                <Alert
                  color="yellow"
                  variant="light"
                  title="New values accepted"
                  data-testid="import-warnings"
                >
                  {checked.warnings.map((w) => `row ${String(w.row)}, ${w.column}: ${w.reason}`).join(' · ')}
                </Alert>
              ) : null}
              {checked.same_file_as ? (
                <Text size="sm" c="dimmed">
                  This file was imported before: importing it again replaces its rows, nothing is counted
                  twice.
                </Text>
              ) : null}
              {busy ? <Working label={busy} running={running} /> : <Refusal error={error} />}
              {invalid > 0 ? (
                <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />}>
                  Nothing has been imported. Fix the rows above in your file and choose it again, or skip the
                  invalid rows.
                </Alert>
              ) : null}
              <Group>
                <Button variant="default" onClick={restart}>
                  Choose another file
                </Button>
                <Button
                  onClick={() => void commit(false)}
                  loading={Boolean(busy)}
                  disabled={invalid > 0 || valid <= 0}
                  title={invalid > 0 ? 'Only when no row has errors' : undefined}
                >
                  Import all {checked.rows_total.toLocaleString()} rows
                </Button>
                {invalid > 0 ? (
                  <Button
                    color="orange"
                    onClick={() => void commit(true)}
                    loading={Boolean(busy)}
                    disabled={valid <= 0}
                  >
                    Skip invalid rows and import {valid.toLocaleString()}
                  </Button>
                ) : null}
              </Group>
            </Stack>
          ) : null}
        </Stepper.Step>

        <Stepper.Completed>
          {result ? (
            <Stack gap="md" mt="md" data-testid="import-result">
              <Alert
                color="teal"
                variant="light"
                icon={<IconCircleCheck size={18} />}
                title="Import finished"
              >
                Imported {result.rows_inserted.toLocaleString()} new rows
                {result.rows_replaced ? `, replaced ${result.rows_replaced.toLocaleString()}` : ''}
                {result.rows_invalid ? `; skipped ${result.rows_invalid.toLocaleString()} invalid rows` : ''}
                {result.period_from
                  ? ` (${formatDate(result.period_from)} to ${formatDate(result.period_to)})`
                  : ''}
                .
              </Alert>
              <Group>
                <Button component={Link} to="/sales">
                  Open the dashboard
                </Button>
                <Button component={Link} to="/sales/gaps" variant="default">
                  Distribution gaps
                </Button>
                <Button variant="default" onClick={restart}>
                  Import another file
                </Button>
              </Group>
            </Stack>
          ) : null}
        </Stepper.Completed>
      </Stepper>
    </Stack>
  );
}
