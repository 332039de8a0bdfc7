// Browser end-to-end test of the contact import wizard, the exports and custom fields against
// the real `meridian` binary: a CSV with bad rows is reported cell by cell (row, column,
// reason) and nothing is imported; the fixed file imports every row and the contacts appear
// in the list; skipping the invalid rows imports the rest; the list exports as CSV and
// XLSX; a custom field defined in Settings is set on a contact and still there after a
// reload; a contact is linked to a deal. Helpers and server set-up: ./support.mjs.
//
//   npm run build && MERIDIAN_BIN=/path/to/meridian npm run e2e
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  eventually,
  killOnExit,
  MeridianServer,
  openBrowser,
  preflight,
  screenshot,
  signIn,
  step as runStep,
} from './support.mjs';

const server = new MeridianServer();
killOnExit(server);
/** @type {Awaited<ReturnType<typeof openBrowser>> | undefined} */
let browser;
/** @type {import('playwright-core').Page} */
let page;
let token = '';

/** @param {string} name @param {() => Promise<void>} fn */
const step = (name, fn) => runStep(() => page, name, fn);

const HEADER = 'First Name,Last Name,Email,Phone,Company';
// rows 2–6 of the spreadsheet (the header is row 1)
const BAD_CSV = [
  HEADER,
  'Ada,Lovelace,ada@analytical.test,+44 20 7946 0001,Analytical Engines',
  ',Nameless,nobody@example.test,,',
  'Grace,Hopper,grace-at-navy,+1 202 555 0199,US Navy',
  'Alan,Turing,alan@bletchley.test,12,Bletchley Park',
  'Augusta,Byron,ada@analytical.test,,Analytical Engines',
].join('\n');
const FIXED_CSV = [
  HEADER,
  'Ada,Lovelace,ada@analytical.test,+44 20 7946 0001,Analytical Engines',
  'Nora,Nameless,nobody@example.test,,',
  'Grace,Hopper,grace@navy.test,+1 202 555 0199,US Navy',
  'Alan,Turing,alan@bletchley.test,+44 1908 640404,Bletchley Park',
  'Augusta,Byron,ada@analytical.test,,Analytical Engines',
].join('\n');
const SKIP_CSV = [
  HEADER,
  'Hedy,Lamarr,hedy@frequency.test,,',
  ',Nobody,,,',
  'Katherine,Johnson,kj@nasa.test,,',
].join('\n');

/** Contacts as the server has them. */
async function contactsNow() {
  const res = await server.api('GET', '/api/v1/contacts?limit=100', { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return /** @type {{id: string, first_name: string, last_name: string}[]} */ (res.body.data);
}

/** Goes to the wizard and chooses a CSV file. @param {string} name @param {string} content */
async function chooseFile(name, content) {
  await page.goto(`${server.base}/crm/contacts`);
  await page.getByRole('link', { name: 'Import' }).click();
  await page.waitForURL(`${server.base}/crm/contacts/import`);
  await page.getByRole('heading', { name: 'Import contacts' }).waitFor();
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(content) });
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page.getByRole('table', { name: 'Column mapping' }).waitFor();
}

/** The rows of the error report, as [row, column, problem]. */
async function errorRows() {
  const table = page.getByRole('table', { name: 'Import errors' });
  await table.waitFor();
  return table
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
}

describe('CRM import, export and custom fields served by meridian', { timeout: 300_000 }, () => {
  before(async () => {
    const bin = preflight();
    await server.setUp(bin);
    token = await server.token(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser = await openBrowser(server.base);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server.tearDown();
  });

  it('signs the admin in on the contacts list', () =>
    step('import-sign-in', async () => {
      await page.goto(`${server.base}/crm/contacts`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/crm/contacts`);
      await page.getByRole('tab', { name: 'Contacts', selected: true }).waitFor();
    }));

  it('reports every bad cell of a CSV with its row, column and reason, and imports nothing', () =>
    step('import-errors', async () => {
      await chooseFile('contacts-bad.csv', BAD_CSV);
      // the server matched every column by its header
      assert.equal(
        await page.getByRole('combobox', { name: 'Column for First name' }).inputValue(),
        'First Name',
      );
      assert.equal(await page.getByRole('combobox', { name: 'Column for Company' }).inputValue(), 'Company');
      await page.getByRole('button', { name: 'Check the rows' }).click();
      assert.deepEqual(await errorRows(), [
        ['3', 'First Name', 'is required'],
        ['4', 'Email', '`grace-at-navy` is not an email address'],
        ['5', 'Phone', '`12` needs at least 6 digits'],
      ]);
      assert.equal(await page.getByTestId('count-rows').textContent(), '5');
      assert.equal(await page.getByTestId('count-valid').textContent(), '2');
      assert.equal(await page.getByTestId('count-invalid').textContent(), '3');
      assert.equal(await page.getByTestId('count-duplicates').textContent(), '1');
      await page
        .getByRole('table', { name: 'Possible duplicates' })
        .getByText('row 2 of this file')
        .waitFor();
      assert.equal(await page.getByRole('button', { name: 'Import all 5 rows' }).isDisabled(), true);
      await page.getByRole('button', { name: 'Skip invalid rows and import 2' }).waitFor();
      await screenshot(page, 'crm-import-report', true);
      assert.deepEqual(await contactsNow(), [], 'a dry run imports nothing');
    }));

  it('imports the fixed file in full, and the contacts appear in the list', () =>
    step('import-fixed', async () => {
      await page.getByRole('button', { name: 'Choose another file' }).click();
      await page
        .locator('input[type="file"]')
        .setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(FIXED_CSV) });
      await page.getByRole('button', { name: 'Check the file' }).click();
      await page.getByRole('button', { name: 'Check the rows' }).click();
      await page.getByTestId('no-errors').waitFor();
      await page.getByRole('button', { name: 'Import all 5 rows' }).click();
      const result = page.getByTestId('import-result');
      await result.getByText('Imported 5 contacts.').waitFor();
      await result.getByRole('link', { name: 'View contacts' }).click();
      await page.waitForURL(`${server.base}/crm/contacts`);
      const table = page.getByRole('table', { name: 'contacts' });
      for (const name of ['Ada Lovelace', 'Nora Nameless', 'Grace Hopper', 'Alan Turing', 'Augusta Byron']) {
        await table.getByRole('link', { name }).waitFor();
      }
      // the company column was matched: "Analytical Engines" exists now
      await table.getByText('Analytical Engines').first().waitFor();
      assert.equal((await contactsNow()).length, 5);
    }));

  it('skips the invalid rows when asked and imports the others', () =>
    step('import-skip', async () => {
      await chooseFile('more.csv', SKIP_CSV);
      await page.getByRole('button', { name: 'Check the rows' }).click();
      assert.deepEqual(await errorRows(), [['3', 'First Name', 'is required']]);
      await page.getByRole('button', { name: 'Skip invalid rows and import 2' }).click();
      await page
        .getByTestId('import-result')
        .getByText('Imported 2 contacts; skipped 1 invalid rows.')
        .waitFor();
      const names = (await contactsNow()).map((c) => `${c.first_name} ${c.last_name}`);
      assert.ok(names.includes('Hedy Lamarr') && names.includes('Katherine Johnson'), names.join(', '));
      assert.equal(names.length, 7);
    }));

  it('checks a file above 1 MB as a background job', () =>
    step('import-background', async () => {
      // long rows, so the file passes 1 MB with few of them (writing is slow in a debug build)
      const title = 'Regional procurement lead, cold chain and refrigerated logistics, northern sites';
      const rows = Array.from({ length: 11_000 }, (_, i) => `Bulk${i},Person,,,${title}`);
      const big = ['First Name,Last Name,Email,Phone,Title', ...rows].join('\n');
      assert.ok(Buffer.byteLength(big) > 1024 * 1024);
      /** @type {{url: string, status: number}[]} */
      const answers = [];
      const onResponse = (/** @type {import('playwright-core').Response} */ res) => {
        if (res.url().includes('/api/v1/imports')) answers.push({ url: res.url(), status: res.status() });
      };
      page.on('response', onResponse);
      try {
        await chooseFile('big.csv', big);
      } finally {
        page.off('response', onResponse);
      }
      // the dry run ran as a job: 202 at once, then polls of GET /api/v1/imports/{id} to the report
      const first = answers.find((a) => a.url.includes('/imports/contacts'));
      assert.ok(
        first && /background=true/.test(first.url) && /dry_run=true/.test(first.url),
        JSON.stringify(answers),
      );
      assert.equal(first.status, 202);
      assert.ok(answers.some((a) => /\/api\/v1\/imports\/[0-9a-f-]{36}$/.test(a.url) && a.status === 200));
      assert.equal(await page.getByRole('combobox', { name: 'Column for Job title' }).inputValue(), 'Title');
      await page.getByRole('button', { name: 'Check the rows' }).click();
      await page.getByTestId('no-errors').waitFor();
      assert.equal(await page.getByTestId('count-rows').textContent(), '11,000');
      await page.getByRole('button', { name: 'Import all 11,000 rows' }).waitFor();
    }));

  it('exports the filtered list as CSV and XLSX', () =>
    step('export', async () => {
      await page.goto(`${server.base}/crm/contacts`);
      await page.getByRole('textbox', { name: 'Filter contacts by name' }).fill('lovelace');
      await page
        .getByRole('table', { name: 'contacts' })
        .getByRole('link', { name: 'Ada Lovelace' })
        .waitFor();
      await eventually(
        () => page.getByRole('table', { name: 'contacts' }).locator('tbody tr').count(),
        (n) => n === 1,
        'the filtered list',
      );
      for (const [format, label] of /** @type {const} */ ([
        ['csv', 'CSV'],
        ['xlsx', 'Excel (XLSX)'],
      ])) {
        await page.getByRole('button', { name: 'Export' }).click();
        const download = page.waitForEvent('download');
        await page.getByRole('menuitem', { name: label }).click();
        const file = await download;
        assert.equal(file.suggestedFilename(), `contacts.${format}`);
        const path = await file.path();
        const bytes = readFileSync(path);
        if (format === 'csv') {
          const text = bytes.toString('utf8');
          assert.match(text, /Lovelace/);
          assert.doesNotMatch(text, /Hopper/, 'the export keeps the list filter');
        } else {
          assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'an XLSX (zip) file');
        }
      }
    }));

  it('defines a custom field, sets it on a contact, and sees it after a reload', () =>
    step('custom-field', async () => {
      await page.goto(`${server.base}/settings/custom-fields`);
      await page.getByRole('button', { name: 'New field' }).click();
      const form = page.getByRole('form', { name: 'New custom field' });
      await form.getByLabel('Label').fill('Loyalty tier');
      assert.equal(await form.getByLabel('Key').inputValue(), 'loyalty_tier');
      await form.getByRole('combobox', { name: 'Kind' }).click();
      await page.getByRole('option', { name: 'Single select' }).click();
      const options = form.getByLabel('Options');
      await options.fill('Gold');
      await options.press('Enter');
      await options.fill('Silver');
      await options.press('Enter');
      await form.getByRole('button', { name: 'Add field' }).click();
      const table = page.getByRole('table', { name: 'Custom fields of Contacts' });
      await table.getByRole('cell', { name: 'Loyalty tier', exact: true }).waitFor();

      const ada = (await contactsNow()).find((c) => c.last_name === 'Lovelace');
      assert.ok(ada);
      await page.goto(`${server.base}/crm/contacts/${ada.id}`);
      await page.getByTestId('custom-fields').waitFor();
      await page.getByRole('button', { name: 'Edit Loyalty tier' }).click();
      const edit = page.getByRole('form', { name: 'Edit Loyalty tier' });
      await edit.getByRole('combobox', { name: 'Loyalty tier' }).click();
      await page.getByRole('option', { name: 'Gold' }).click();
      const saved = page.waitForResponse(
        (res) => res.request().method() === 'PATCH' && res.url().endsWith(`/api/v1/contacts/${ada.id}`),
      );
      await edit.getByRole('button', { name: 'Save Loyalty tier' }).click();
      assert.equal((await saved).status(), 200);
      await page.reload();
      await eventually(
        () => page.getByTestId('cf-value-loyalty_tier').textContent(),
        (t) => t === 'Gold',
        'the saved custom field after a reload',
      );
      const res = await server.api('GET', `/api/v1/contacts/${ada.id}`, { token });
      assert.equal(res.body.data.custom_fields.loyalty_tier, 'Gold');

      // the list offers it as a column
      await page.goto(`${server.base}/crm/contacts`);
      await page.getByRole('button', { name: 'Columns' }).click();
      await page.getByRole('checkbox', { name: 'Loyalty tier' }).check();
      await page.keyboard.press('Escape');
      await page.getByRole('columnheader', { name: 'Loyalty tier' }).waitFor();
      await page.getByRole('table', { name: 'contacts' }).getByRole('cell', { name: 'Gold' }).waitFor();
      await screenshot(page, 'crm-custom-field');
    }));

  it('links a contact to a deal from the deal page', () =>
    step('deal-contacts', async () => {
      const pipelines = await server.api('GET', '/api/v1/pipelines', { token });
      const pipeline = pipelines.body.data.find((/** @type {{is_default: boolean}} */ p) => p.is_default);
      const created = await server.api('POST', '/api/v1/deals', {
        token,
        body: {
          title: 'Engines rollout',
          amount: '5000.00',
          currency: 'EUR',
          pipeline_id: pipeline.id,
          stage_id: pipeline.stages[0].id,
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const dealId = created.body.data.id;
      await page.goto(`${server.base}/crm/deals/${dealId}`);
      const section = page.getByTestId('deal-contacts');
      await section.getByText('No contacts on this deal yet.').waitFor();
      const picker = section.getByRole('combobox', { name: 'Add a contact' });
      await picker.fill('lovel');
      const saved = page.waitForResponse(
        (res) => res.request().method() === 'PATCH' && res.url().endsWith(`/api/v1/deals/${dealId}`),
      );
      await page.getByRole('option', { name: 'Ada Lovelace' }).click();
      assert.equal((await saved).status(), 200);
      await section.getByRole('link', { name: 'Ada Lovelace' }).waitFor();
      await page.reload();
      await page.getByTestId('deal-contacts').getByRole('link', { name: 'Ada Lovelace' }).waitFor();
      const deal = await server.api('GET', `/api/v1/deals/${dealId}`, { token });
      assert.equal(deal.body.data.contact_ids.length, 1);
    }));

  it('warns about a possible duplicate on create, and creates it anyway when asked', () =>
    step('duplicate', async () => {
      await page.goto(`${server.base}/crm/contacts`);
      await page.getByRole('button', { name: 'New contact' }).click();
      const form = page.getByRole('form', { name: 'New contact' });
      await form.getByLabel('First name').fill('Ada');
      await form.getByLabel('Last name').fill('King');
      await form.getByLabel('Email').fill('ada@analytical.test');
      await form.getByRole('button', { name: 'Create' }).click();
      const warning = form.getByTestId('possible-duplicates');
      await warning.waitFor();
      await warning.getByRole('link', { name: 'Ada Lovelace' }).waitFor();
      assert.match((await warning.textContent()) ?? '', /same email/);
      await warning.getByRole('button', { name: 'Create anyway' }).click();
      await page.waitForURL(/\/crm\/contacts\/[0-9a-f-]{36}$/);
      await page.getByTestId('record-title').getByText('Ada King').waitFor();
    }));

  it('loads nothing from other origins and logs no unexpected errors', () => {
    assert.deepEqual(browser?.foreignRequests, []);
    // the duplicate warning is a 409 answer, which Chromium logs
    const unexpected = browser?.problems.filter((p) => !/status of 409 .*\/api\/v1\/contacts/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
