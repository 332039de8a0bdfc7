import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  Loader,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Stepper,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import {
  IconAlertTriangle,
  IconArrowLeft,
  IconCircleCheck,
  IconDeviceFloppy,
  IconFileSpreadsheet,
} from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { crmKeys, recordPath } from '../../api/crm';
import {
  BACKGROUND_IMPORT_BYTES,
  CONTACT_IMPORT_FIELDS,
  type ImportJob,
  type ImportMapping,
  type ImportReport,
  importKeys,
  pollImport,
  sendImport,
  useImportMappings,
} from '../../api/imports';
import { useCan } from '../../auth/me';
import { ImportErrorTable } from '../../components/ImportErrorTable';
import { NoAccess } from '../../components/NoAccess';
import { readHeader, type SpreadsheetFormat, spreadsheetFormat } from '../../lib/spreadsheet';
import { useCrmOutlet } from './tabs';

type Mapping = Record<string, string>;

function sameMapping(a: Mapping, b: Mapping): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

const fmt = (n: number) => n.toLocaleString();

/** What is going on while the server works: a bar for background imports, a spinner otherwise. */
function Working({ label, job }: { label: string; job: ImportJob | null }) {
  if (job) {
    // total_rows counts units of work (reading and checking rows, then writing them)
    const pct =
      job.total_rows > 0 ? Math.min(100, Math.round((job.processed_rows / job.total_rows) * 100)) : 0;
    const text = `${label}: ${String(pct)}%`;
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

function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  let message: string;
  if (error instanceof ApiError) {
    const fields = error.fieldErrors.map((e) =>
      e.field === 'file' ? e.message : `${e.field.replace(/^map\[(.*)\]$/, '$1')}: ${e.message}`,
    );
    message = fields.length ? fields.join(' · ') : (error.detail ?? error.title);
    if (error.status === 403) message = 'You may not import contacts.';
  } else {
    message = error instanceof Error ? error.message : 'Something went wrong';
  }
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
      {message}
    </Alert>
  );
}

/** The report's numbers: rows, valid, invalid, duplicates. */
export function ReportCounts({ report }: { report: ImportReport }) {
  const stats = [
    { label: 'Rows', value: report.total_rows, color: undefined },
    { label: 'Valid', value: report.valid_rows, color: 'teal' },
    { label: 'Invalid', value: report.invalid_rows, color: report.invalid_rows ? 'red' : undefined },
    {
      label: 'Duplicates',
      value: report.duplicates.length,
      color: report.duplicates.length ? 'orange' : undefined,
    },
  ];
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm" data-testid="import-counts">
      {stats.map((s) => (
        <Card key={s.label} withBorder padding="sm">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {s.label}
          </Text>
          <Text fz={22} fw={700} c={s.color} data-testid={`count-${s.label.toLowerCase()}`}>
            {fmt(s.value)}
          </Text>
        </Card>
      ))}
    </SimpleGrid>
  );
}

/** Every bad cell: row, column, reason (a page at a time): the shared error report. */
export function ErrorTable({ report }: { report: ImportReport }) {
  return <ImportErrorTable errors={report.errors} />;
}

/** Rows that match an existing contact or an earlier row (imported all the same). */
export function DuplicateTable({ report }: { report: ImportReport }) {
  if (report.duplicates.length === 0) return null;
  return (
    <Stack gap="xs">
      <Title order={3} fz={16}>
        Possible duplicates ({fmt(report.duplicates.length)})
      </Title>
      <Text size="sm" c="dimmed">
        These rows are imported all the same; merge them afterwards if they are the same person.
      </Text>
      <Table aria-label="Possible duplicates" verticalSpacing={6}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={80}>Row</Table.Th>
            <Table.Th w={140}>Same</Table.Th>
            <Table.Th>As</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.duplicates.slice(0, 200).map((d) => (
            <Table.Tr key={`${String(d.row)}-${d.field}`}>
              <Table.Td ff="monospace">{d.row}</Table.Td>
              <Table.Td>{d.field}</Table.Td>
              <Table.Td>
                {d.existing_id ? (
                  <Anchor component={Link} to={recordPath('contact', d.existing_id)} size="sm">
                    an existing contact
                  </Anchor>
                ) : d.same_as_row ? (
                  `row ${String(d.same_as_row)} of this file`
                ) : (
                  '–'
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** The column-mapping step: a select per contact field over the file's headers. */
export function MappingStep({
  headers,
  mapping,
  onChange,
}: {
  headers: string[];
  mapping: Mapping;
  onChange: (mapping: Mapping) => void;
}) {
  const options = [...new Set([...headers.filter(Boolean), ...Object.values(mapping)])];
  return (
    <Table aria-label="Column mapping" verticalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Contact field</Table.Th>
          <Table.Th>Column of the file</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {CONTACT_IMPORT_FIELDS.map((f) => (
          <Table.Tr key={f.field}>
            <Table.Td>
              <Text size="sm" fw={500}>
                {f.label}
                {'required' in f ? (
                  <Text span c="red" aria-hidden>
                    {' '}
                    *
                  </Text>
                ) : null}
              </Text>
            </Table.Td>
            <Table.Td>
              <Select
                aria-label={`Column for ${f.label}`}
                placeholder="Not in the file"
                data={options}
                value={mapping[f.field] ?? null}
                onChange={(v) => {
                  const next = Object.fromEntries(Object.entries(mapping).filter(([k]) => k !== f.field));
                  onChange(v ? { ...next, [f.field]: v } : next);
                }}
                searchable
                comboboxProps={{ withinPortal: true }}
                w={260}
              />
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function SaveMapping({ mapping }: { mapping: Mapping }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const save = useMutation<ImportMapping, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/import-mappings', {
            body: { name: name.trim(), object: 'contacts', columns: mapping },
          }),
        )
      ).data,
    onSuccess: async (saved) => {
      notifications.show({ color: 'teal', message: `Mapping “${saved.name}” saved.` });
      setName('');
      await queryClient.invalidateQueries({ queryKey: importKeys.mappings });
    },
  });
  return (
    <form
      aria-label="Save mapping"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Group align="flex-end" gap="xs">
        <TextInput
          label="Save this mapping as"
          placeholder="e.g. Trade show export"
          value={name}
          onChange={(e) => {
            setName(e.currentTarget.value);
          }}
          error={
            save.error ? (save.error.fieldError('name') ?? save.error.detail ?? save.error.title) : undefined
          }
          w={260}
        />
        <Button
          type="submit"
          variant="default"
          leftSection={<IconDeviceFloppy size={16} />}
          disabled={!name.trim()}
          loading={save.isPending}
        >
          Save mapping
        </Button>
      </Group>
    </form>
  );
}

/**
 * Contacts → Import: choose a CSV or XLSX file → the server's dry run → check and change
 * the column mapping (or use a saved one) → every bad cell with its row, column and reason
 * → import everything (only when nothing is wrong) or skip the invalid rows → the result.
 * Files above 1 MB run as background imports with a progress bar.
 */
export function ImportContactsPage() {
  const can = useCan();
  const allowed = can('contacts:import') && can('contacts:create');
  const api = useApi();
  const queryClient = useQueryClient();
  const outlet = useCrmOutlet();
  useEffect(() => {
    outlet?.setRecordTitle('Import contacts · CRM');
    return () => outlet?.setRecordTitle(null);
  }, [outlet]);

  const [step, setStep] = useState(0);
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<SpreadsheetFormat | null>(null);
  const [headers, setHeaders] = useState<string[]>([]);
  const [savedName, setSavedName] = useState<string | null>(null);
  const [mapping, setMapping] = useState<Mapping>({});
  const [report, setReport] = useState<ImportReport | null>(null);
  const [result, setResult] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const mappings = useImportMappings(allowed);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  if (!allowed) return <NoAccess what="the contact import" />;

  const background = (file?.size ?? 0) > BACKGROUND_IMPORT_BYTES;

  /** Runs the import request (and polls it in background mode); null when it failed. */
  const run = async (
    label: string,
    options: { dryRun: boolean; skipInvalid?: boolean; mapping: Mapping },
  ): Promise<ImportReport | null> => {
    if (!file || !format) return null;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setBusy(label);
    setJob(null);
    setError(null);
    try {
      const answer = await sendImport(api, { file, format, background, ...options }, controller.signal);
      if ('report' in answer) return answer.report;
      return await pollImport(api, answer.job, setJob, controller.signal);
    } catch (e) {
      if (!controller.signal.aborted) setError(e);
      return null;
    } finally {
      if (abort.current === controller) {
        setBusy(null);
        setJob(null);
      }
    }
  };

  const choose = (chosen: File | null) => {
    setFile(chosen);
    setError(null);
    setReport(null);
    setResult(null);
    setHeaders([]);
    setFormat(chosen ? spreadsheetFormat(chosen) : null);
  };

  /** Step 1 → 2: read the header, run the first dry run (with the saved mapping, if any). */
  const analyse = async () => {
    if (!file || !format) return;
    setHeaders(await readHeader(file, format));
    const saved = mappings.data?.find((m) => m.name === savedName);
    const start = saved ? { ...saved.columns } : {};
    const checked = await run('Checking the file', { dryRun: true, mapping: start });
    if (checked) {
      setReport(checked);
      setMapping(checked.mapping);
      setStep(1);
    } else {
      // a mapping problem (no first-name column, a saved column the file lacks) is fixed
      // in the mapping step; anything else (not a spreadsheet) stays here
      setMapping(start);
    }
  };

  /** Step 2 → 3: check the rows with the chosen mapping (again only if it changed). */
  const check = async () => {
    if (report && sameMapping(report.mapping, mapping)) {
      setStep(2);
      return;
    }
    const checked = await run('Checking the rows', { dryRun: true, mapping });
    if (checked) {
      setReport(checked);
      setMapping(checked.mapping);
      setStep(2);
    }
  };

  const commit = async (skipInvalid: boolean) => {
    const done = await run('Importing', { dryRun: false, skipInvalid, mapping });
    if (done) {
      setResult(done);
      setStep(3);
      await queryClient.invalidateQueries({ queryKey: crmKeys.lists('contacts') });
      await queryClient.invalidateQueries({ queryKey: crmKeys.lists('companies') });
    }
  };

  const restart = () => {
    choose(null);
    setMapping({});
    setSavedName(null);
    setStep(0);
  };

  // An error from the first dry run that the mapping step can fix.
  const mappingProblem =
    error instanceof ApiError &&
    error.status === 422 &&
    error.fieldErrors.some((e) => e.field.startsWith('map[') || e.message.includes('first name column'));
  const shownStep = step === 0 && mappingProblem ? 1 : step;

  return (
    <Stack gap="md" data-testid="import-wizard">
      <Anchor component={Link} to="/crm/contacts" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} />
          Contacts
        </Group>
      </Anchor>
      <Title order={2} fz={22}>
        Import contacts
      </Title>
      <Stepper active={shownStep} size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label="File" description="CSV or XLSX">
          <Stack gap="sm" mt="md" maw={520}>
            <FileInput
              label="Spreadsheet"
              description="The first row names the columns. CSV (UTF-8) or Excel (.xlsx), up to 64 MB."
              placeholder="Choose a file"
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              leftSection={<IconFileSpreadsheet size={16} />}
              value={file}
              onChange={choose}
              clearable
              error={file && !format ? 'Choose a .csv or .xlsx file' : undefined}
            />
            {mappings.data && mappings.data.length > 0 ? (
              <Select
                label="Saved mapping"
                description="Use the column mapping of an earlier import"
                placeholder="Match columns by their names"
                clearable
                data={mappings.data.map((m) => m.name)}
                value={savedName}
                onChange={setSavedName}
                comboboxProps={{ withinPortal: true }}
              />
            ) : null}
            {background && file ? (
              <Text size="xs" c="dimmed">
                A large file: it is checked and imported in the background, with progress shown here.
              </Text>
            ) : null}
            {busy ? <Working label={busy} job={job} /> : <Problem error={error} />}
            <Group>
              <Button onClick={() => void analyse()} disabled={!file || !format} loading={Boolean(busy)}>
                Check the file
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Columns" description="Map them to fields">
          <Stack gap="sm" mt="md">
            <Text size="sm" c="dimmed">
              {file?.name}: the columns the server matched to contact fields. Change a column where the match
              is wrong or missing.
            </Text>
            <MappingStep headers={headers} mapping={mapping} onChange={setMapping} />
            {busy ? <Working label={busy} job={job} /> : <Problem error={error} />}
            <Group justify="space-between" align="flex-end">
              <SaveMapping mapping={mapping} />
              <Group>
                <Button variant="default" onClick={restart}>
                  Start over
                </Button>
                <Button onClick={() => void check()} loading={Boolean(busy)}>
                  Check the rows
                </Button>
              </Group>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Check" description="Errors and duplicates">
          {report ? (
            <Stack gap="md" mt="md">
              <ReportCounts report={report} />
              <ErrorTable report={report} />
              <DuplicateTable report={report} />
              {busy ? <Working label={busy} job={job} /> : <Problem error={error} />}
              {report.invalid_rows > 0 ? (
                <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />}>
                  Nothing has been imported. Fix the rows above in your file and choose it again, or skip the
                  invalid rows.
                </Alert>
              ) : null}
              <Group>
                <Button
                  variant="default"
                  onClick={() => {
                    setStep(1);
                  }}
                >
                  Back to the columns
                </Button>
                <Button variant="default" onClick={restart}>
                  Choose another file
                </Button>
                <Button
                  onClick={() => void commit(false)}
                  loading={Boolean(busy)}
                  disabled={report.invalid_rows > 0 || report.valid_rows === 0}
                  title={report.invalid_rows > 0 ? 'Only when no row has errors' : undefined}
                >
                  Import all {fmt(report.total_rows)} rows
                </Button>
                {report.invalid_rows > 0 ? (
                  <Button
                    color="orange"
                    onClick={() => void commit(true)}
                    loading={Boolean(busy)}
                    disabled={report.valid_rows === 0}
                  >
                    Skip invalid rows and import {fmt(report.valid_rows)}
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
                Imported {fmt(result.imported)} {result.imported === 1 ? 'contact' : 'contacts'}
                {result.invalid_rows > 0 ? `; skipped ${fmt(result.invalid_rows)} invalid rows` : ''}.
              </Alert>
              {result.duplicates.length > 0 ? (
                <Badge color="orange" variant="light">
                  {fmt(result.duplicates.length)} possible duplicates
                </Badge>
              ) : null}
              <Group>
                <Button component={Link} to="/crm/contacts">
                  View contacts
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
