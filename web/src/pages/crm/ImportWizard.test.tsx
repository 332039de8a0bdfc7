import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ImportJob, ImportReport } from '../../api/imports';
import { csvHeader } from '../../lib/spreadsheet';
import {
  ADMIN,
  json,
  meridianProblem,
  mockServer,
  pickOption,
  renderApp,
  signedIn,
  VIEWER,
} from '../../test/utils';

const CSV =
  'Given Name,Surname,E-mail,Mobile\nAda,Lovelace,ada@example.test,+44 20 1234 5678\n,Nobody,not-an-email,12\nAda,Again,ada@example.test,\n';

function report(extra: Partial<ImportReport> = {}): ImportReport {
  return {
    dry_run: true,
    total_rows: 3,
    valid_rows: 2,
    invalid_rows: 1,
    imported: 0,
    errors: [
      { row: 3, column: 'Given Name', message: 'is required' },
      { row: 3, column: 'E-mail', message: '`not-an-email` is not an email address' },
      { row: 3, column: 'Mobile', message: '`12` needs at least 6 digits' },
    ],
    duplicates: [{ row: 4, field: 'email', existing_id: null, same_as_row: 2 }],
    mapping: { first_name: 'Given Name', last_name: 'Surname', email: 'E-mail' },
    ...extra,
  };
}

interface Seen {
  query: Record<string, string>;
  contentType: string | null;
  body: string;
}

let seen: Seen[];
let answer: (query: Record<string, string>) => Response;

beforeEach(() => {
  seen = [];
  answer = (query) => {
    if (query.dry_run === 'true') {
      return json({ data: report({ mapping: { ...report().mapping, ...mapped(query) } }) });
    }
    return json({ data: report({ dry_run: false, imported: 2 }) });
  };
  mockServer({
    ...signedIn(ADMIN),
    'GET /api/v1/contacts': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
    'GET /api/v1/import-mappings': () =>
      json({
        data: [{ id: 'm-1', name: 'Trade show', object: 'contacts', columns: { first_name: 'Given Name' } }],
      }),
    'POST /api/v1/import-mappings': async (request) =>
      json({ data: { id: 'm-2', ...((await request.json()) as object) } }, 201),
    'POST /api/v1/imports/contacts': async (request) => {
      const query = Object.fromEntries(new URL(request.url).searchParams);
      seen.push({ query, contentType: request.headers.get('content-type'), body: await request.text() });
      return answer(query);
    },
  });
});

/** `map[field]=Header` query parameters → {field: Header}. */
function mapped(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([k]) => k.startsWith('map['))
      .map(([k, v]) => [k.slice(4, -1), v]),
  );
}

async function chooseFile(content = CSV, name = 'contacts.csv') {
  const user = userEvent.setup();
  renderApp('/crm/contacts/import');
  await screen.findByRole('heading', { name: 'Import contacts' });
  const input = document.querySelector<HTMLInputElement>('input[type="file"]');
  if (!input) throw new Error('no file input');
  await user.upload(input, new File([content], name, { type: name.endsWith('.csv') ? 'text/csv' : '' }));
  await user.click(screen.getByRole('button', { name: 'Check the file' }));
  return user;
}

describe('import wizard', () => {
  it('reads the header row of a CSV (quotes, BOM, blank lines)', () => {
    expect(csvHeader('\uFEFF\n"Name, full","Say ""hi""", Email \r\nx,y,z')).toEqual([
      'Name, full',
      'Say "hi"',
      'Email',
    ]);
    expect(csvHeader('')).toEqual([]);
  });

  it('dry-runs the file, maps columns, reports every bad cell, and imports the valid rows', async () => {
    const user = await chooseFile();

    // the dry run: the file itself as text/csv, nothing else
    await screen.findByRole('table', { name: 'Column mapping' });
    expect(seen[0]).toEqual({ query: { dry_run: 'true' }, contentType: 'text/csv', body: CSV });

    // the mapping step shows what the server matched; the file's other headers are offered
    const phone = screen.getByRole('combobox', { name: 'Column for Phone' });
    expect(phone).toHaveValue('');
    expect(screen.getByRole('combobox', { name: 'Column for First name' })).toHaveValue('Given Name');
    await pickOption(user, phone, 'Mobile');
    await user.click(screen.getByRole('button', { name: 'Check the rows' }));

    // a second dry run with the whole mapping as map[field]=Header
    await screen.findByRole('table', { name: 'Import errors' });
    expect(seen[1]?.query).toEqual({
      dry_run: 'true',
      'map[first_name]': 'Given Name',
      'map[last_name]': 'Surname',
      'map[email]': 'E-mail',
      'map[phone]': 'Mobile',
    });

    // every bad cell: row, column, reason; the counts; the duplicate
    const rows = within(screen.getByRole('table', { name: 'Import errors' }))
      .getAllByRole('row')
      .slice(1)
      .map((r) =>
        within(r)
          .getAllByRole('cell')
          .map((c) => c.textContent),
      );
    expect(rows).toEqual([
      ['3', 'Given Name', 'is required'],
      ['3', 'E-mail', '`not-an-email` is not an email address'],
      ['3', 'Mobile', '`12` needs at least 6 digits'],
    ]);
    expect(screen.getByTestId('count-rows')).toHaveTextContent('3');
    expect(screen.getByTestId('count-valid')).toHaveTextContent('2');
    expect(screen.getByTestId('count-invalid')).toHaveTextContent('1');
    expect(screen.getByTestId('count-duplicates')).toHaveTextContent('1');
    expect(
      within(screen.getByRole('table', { name: 'Possible duplicates' })).getByText('row 2 of this file'),
    ).toBeInTheDocument();

    // "Import all" only when nothing is wrong; skipping imports the valid rows
    expect(screen.getByRole('button', { name: 'Import all 3 rows' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Skip invalid rows and import 2' }));
    const result = await screen.findByTestId('import-result');
    expect(result).toHaveTextContent('Imported 2 contacts; skipped 1 invalid rows.');
    expect(seen[2]?.query).toEqual({
      skip_invalid: 'true',
      'map[first_name]': 'Given Name',
      'map[last_name]': 'Surname',
      'map[email]': 'E-mail',
      'map[phone]': 'Mobile',
    });
    expect(within(result).getByRole('link', { name: 'View contacts' })).toHaveAttribute(
      'href',
      '/crm/contacts',
    );
  });

  it('imports everything when no row is wrong, without asking again', async () => {
    answer = (query) =>
      json({
        data: report({
          dry_run: query.dry_run === 'true',
          valid_rows: 3,
          invalid_rows: 0,
          errors: [],
          duplicates: [],
          imported: query.dry_run === 'true' ? 0 : 3,
        }),
      });
    const user = await chooseFile();
    await user.click(await screen.findByRole('button', { name: 'Check the rows' }));
    expect(await screen.findByTestId('no-errors')).toHaveTextContent('Every row is valid.');
    // the mapping did not change: no second dry run
    expect(seen).toHaveLength(1);
    expect(screen.queryByRole('button', { name: /Skip invalid rows/ })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Import all 3 rows' }));
    expect(await screen.findByTestId('import-result')).toHaveTextContent('Imported 3 contacts.');
    expect(seen[1]?.query).toEqual({
      'map[first_name]': 'Given Name',
      'map[last_name]': 'Surname',
      'map[email]': 'E-mail',
    });
  });

  it('uses and saves a saved mapping, and fixes a mapping the server refused', async () => {
    answer = (query) =>
      query['map[first_name]'] === 'Given Name'
        ? meridianProblem(422, 'validation_failed', {
            errors: [{ field: 'map[first_name]', message: 'the file has no column `Given Name`' }],
          })
        : json({ data: report({ mapping: mapped(query) }) });
    const user = userEvent.setup();
    renderApp('/crm/contacts/import');
    const input = await waitFor(() => {
      const el = document.querySelector<HTMLInputElement>('input[type="file"]');
      if (!el) throw new Error('no file input');
      return el;
    });
    await user.upload(input, new File(['First,Last\nAda,L\n'], 'other.csv', { type: 'text/csv' }));
    await user.click(await screen.findByRole('combobox', { name: 'Saved mapping' }));
    await user.click(await screen.findByRole('option', { name: 'Trade show', hidden: true }));
    await user.click(screen.getByRole('button', { name: 'Check the file' }));

    // the refusal shows in the mapping step, with the file's own headers to choose from
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'first_name: the file has no column `Given Name`',
    );
    expect(seen[0]?.query).toEqual({ dry_run: 'true', 'map[first_name]': 'Given Name' });
    await pickOption(user, screen.getByRole('combobox', { name: 'Column for First name' }), 'First');

    await user.type(screen.getByRole('textbox', { name: 'Save this mapping as' }), 'Other export');
    await user.click(screen.getByRole('button', { name: 'Save mapping' }));
    await screen.findByText('Mapping “Other export” saved.');

    await user.click(screen.getByRole('button', { name: 'Check the rows' }));
    await screen.findByRole('table', { name: 'Import errors' });
    expect(seen[1]?.query).toEqual({ dry_run: 'true', 'map[first_name]': 'First' });
  });

  it('runs a file above 1 MB in the background and shows its progress', async () => {
    const big = `First Name,Email\n${'Ada,ada@example.test\n'.repeat(60_000)}`;
    let polls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const job = (extra: Partial<ImportJob>): ImportJob => ({
      id: 'job-1',
      object: 'contacts',
      created_at: '2026-01-01T00:00:00Z',
      status: 'running',
      total_rows: 60_000,
      processed_rows: 0,
      report: null,
      error: null,
      ...extra,
    });
    answer = () => json({ data: job({}) }, 202);
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/import-mappings': () => json({ data: [] }),
      'POST /api/v1/imports/contacts': (request) => {
        seen.push({
          query: Object.fromEntries(new URL(request.url).searchParams),
          contentType: '',
          body: '',
        });
        return answer({});
      },
      'GET /api/v1/imports/job-1': async () => {
        polls += 1;
        if (polls === 1) return json({ data: job({ processed_rows: 15_000 }) });
        await gate;
        return json({ data: job({ status: 'done', processed_rows: 60_000, report: report() }) });
      },
    });
    await chooseFile(big, 'big.csv');
    const progress = await screen.findByRole('progressbar', {
      name: 'Checking the file: 25%',
    });
    expect(progress).toHaveAttribute('aria-valuenow', '25');
    expect(seen[0]?.query).toEqual({ dry_run: 'true', background: 'true' });
    release();
    await screen.findByRole('table', { name: 'Column mapping' });
  });

  it('is not offered without contacts:import', async () => {
    mockServer({
      ...signedIn({ ...VIEWER, permissions: ['contacts:read', 'contacts:export'] }),
      'GET /api/v1/contacts': () => json({ data: [], meta: { next_cursor: null, limit: 50 } }),
    });
    renderApp('/crm/contacts');
    await screen.findByRole('button', { name: 'Export' });
    expect(screen.queryByRole('link', { name: 'Import' })).toBeNull();
  });
});
