// Browser end-to-end test of the sales-data import against the real `meridian` binary: the
// empty dashboard leads to the import wizard; a CSV with bad cells is reported cell by cell
// (row, column, reason; also as a downloadable CSV) and nothing is imported; the fixed file
// imports every row; the import is listed; the distribution gaps and the dashboard show the
// imported data (a pack type that does not sell on the coast is flagged HIGH on the heat
// map); an imported outlet code is linked to a store (a bad code is named, nothing linked)
// and the store's predicted next order then counts the outlet's sales. Helpers and server
// set-up: ./support.mjs.
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

// the sheet6 layout; spreadsheet rows: the header is row 1
const HEADER =
  'Date,Region,Province,Precision Area,Outlet Code,Outlet Name,Channel,Pack Type,SKU,Sales Qty,Sales Value';
const C1 = 'Central,Nairobi,Westlands,C1,Duka Westlands,Duka';
const C2 = 'Central,Nairobi,Westlands,C2,Mini Mart Parklands,Supermarket';
const K1 = 'Coast,Mombasa,Nyali,K1,Nyali Corner Shop,Duka';
const K2 = 'Coast,Mombasa,Nyali,K2,Bamburi Kiosk,Duka';
const GOOD = [
  `2026-11-02,${C1},330ml can,COLA-330,24,600`,
  `2026-11-02,${C2},330ml can,COLA-330,12,300`,
  `2026-11-02,${C1},1L PET,COLA-1L,5,250`,
  `2026-11-02,${C2},1L PET,COLA-1L,3,150`,
  `2026-11-02,${K1},330ml can,COLA-330,4,100`,
  `2026-11-02,${K2},330ml can,COLA-330,2,50`,
  // the coast does not sell the 1-litre bottle: 3 of 4 records are zero (75% > 60%: HIGH)
  `2026-11-02,${K1},1L PET,COLA-1L,0,0`,
  `2026-11-02,${K2},1L PET,COLA-1L,0,0`,
  `2026-11-03,${K1},1L PET,COLA-1L,0,0`,
  `2026-11-03,${K2},1L PET,COLA-1L,6,300`,
];
const BAD = [...GOOD];
BAD[1] = `2026-11-31,${C2},330ml can,COLA-330,12,300`; // row 3: no such day
BAD[3] = `2026-11-02,${C2},1L PET,COLA-1L,three,150`; // row 5: not a number
BAD[5] = `2026-11-02,${K2},330ml can,,2,50`; // row 7: no SKU
const BAD_CSV = [HEADER, ...BAD].join('\n');
const FIXED_CSV = [HEADER, ...GOOD].join('\n');

/** Chooses a file in the wizard and runs the check. @param {string} name @param {string} content */
async function checkFile(name, content) {
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(content) });
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page.getByTestId('import-counts').waitFor();
}

describe('sales-data import served by meridian', { timeout: 300_000 }, () => {
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

  it('signs in on an empty dashboard that leads to the import wizard', () =>
    step('sales-import-empty', async () => {
      await page.goto(`${server.base}/sales`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/sales`);
      const empty = page.getByTestId('empty-state');
      await empty.getByText('No sales data yet').waitFor();
      await empty.getByRole('link', { name: 'Import sales data' }).click();
      await page.waitForURL(`${server.base}/sales/imports/new`);
      await page.getByRole('heading', { name: 'Import sales data' }).waitFor();
    }));

  it('reports every bad cell with its row, column and reason, as a table and a CSV, and imports nothing', () =>
    step('sales-import-errors', async () => {
      await checkFile('november-bad.csv', BAD_CSV);
      assert.equal(await page.getByTestId('count-rows').textContent(), '10');
      assert.equal(await page.getByTestId('count-invalid').textContent(), '3');
      const rows = await page
        .getByRole('table', { name: 'Import errors' })
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
        );
      assert.deepEqual(
        rows.map(([row, column]) => [row, column]),
        [
          ['3', 'Date'],
          ['5', 'Sales Qty'],
          ['7', 'SKU'],
        ],
      );
      for (const [, , reason] of rows)
        assert.ok(reason && reason.length > 3, `a reason: ${JSON.stringify(rows)}`);
      assert.ok(await page.getByRole('button', { name: /^Import all/ }).isDisabled());

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download the error report (CSV)' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'november-bad-errors.csv');
      const csv = readFileSync(await download.path(), 'utf8').split('\n');
      assert.equal(csv[0], 'row,column,reason');
      assert.deepEqual(
        csv.slice(1).map((l) => l.split(',').slice(0, 2).join(',')),
        ['3,Date', '5,Sales Qty', '7,SKU'],
      );
      await screenshot(page, 'sales-import-errors', true);

      // nothing was imported
      const imports = await server.api('GET', '/api/v1/sales/imports', { token });
      assert.equal(imports.status, 200, JSON.stringify(imports.body));
      assert.ok(
        imports.body.data.every((/** @type {{status: string}} */ i) => i.status !== 'committed'),
        JSON.stringify(imports.body.data),
      );
    }));

  it('imports the fixed file: every row, with the period', () =>
    step('sales-import-clean', async () => {
      await page.getByRole('button', { name: 'Choose another file' }).click();
      await checkFile('november.csv', FIXED_CSV);
      await page.getByTestId('no-errors').waitFor();
      assert.equal(await page.getByTestId('count-invalid').textContent(), '0');
      await page.getByRole('button', { name: 'Import all 10 rows' }).click();
      const result = page.getByTestId('import-result');
      await result.getByText(/Imported 10 new rows/).waitFor();

      await page.goto(`${server.base}/sales/imports`);
      const table = page.getByRole('table', { name: 'imports' });
      await table.getByRole('row', { name: /november\.csv.*committed/ }).waitFor();
    }));

  it('shows the imported data in the distribution gaps and on the dashboard', () =>
    step('sales-import-gaps', async () => {
      await page.goto(`${server.base}/sales/gaps`);
      const gaps = page.getByRole('table', { name: 'distribution gaps' });
      const coast = gaps.getByRole('row', { name: /Coast.*Nyali.*1L PET/ });
      await coast.waitFor();
      assert.match((await coast.textContent()) ?? '', /75\.0%.*HIGH/);
      // only the flagged gap is listed; the summary counts every record
      assert.equal(await gaps.locator('tbody tr').count(), 1);
      assert.equal(await page.getByTestId('kpi-records').locator('p').nth(1).textContent(), '10');
      await page.getByRole('img', { name: 'Distribution gap heat map by region and pack type' }).waitFor();

      await page.goto(`${server.base}/sales`);
      await page.getByTestId('kpi-sales-value').waitFor();
      // 600 + 300 + 250 + 150 + 100 + 50 + 300 = 1,750 in November 2026
      await eventually(
        () => page.getByTestId('kpi-sales-value').textContent(),
        (t) => /1\.8K|1,750|1750/.test(t ?? '') && /Nov 2026/.test(t ?? ''),
        'the sales value of November',
      );
      await page.getByRole('img', { name: 'Sales value by month' }).waitFor();
      await page.getByRole('tab', { name: 'Management' }).click();
      await page.getByRole('img', { name: 'Distribution gap heat map by region and pack type' }).waitFor();
      await page
        .getByRole('table', { name: 'Top gaps' })
        .getByRole('cell', { name: '1L PET', exact: true })
        .waitFor();
      await screenshot(page, 'sales-dashboard-management', true);
      assert.deepEqual(browser?.foreignRequests, []);
    }));

  it('links an imported outlet to a store, naming a bad code, and the store counts its sales', () =>
    step('sales-import-outlet-link', async () => {
      const company = await server.api('POST', '/api/v1/companies', {
        token,
        body: { name: 'Nyali Corner Shop' },
      });
      assert.equal(company.status, 201, JSON.stringify(company.body));
      const store = await server.api('POST', '/api/v1/stores', {
        token,
        body: { company_id: company.body.data.id, region: 'Coast' },
      });
      assert.equal(store.status, 201, JSON.stringify(store.body));
      await page.goto(`${server.base}/sales/stores/${store.body.data.id}`);
      const card = page.getByTestId('store-outlets');
      await card.getByText('None yet.').waitFor();
      await page.getByTestId('next-order').getByText('0 orders seen').waitFor();
      await card.getByRole('button', { name: 'Edit' }).click();
      const codes = card.getByLabel('Outlet codes');
      await codes.fill('K1');
      await codes.press('Enter');
      await codes.fill('ZZ9');
      await codes.press('Enter');
      await card.getByRole('button', { name: 'Save' }).click();
      await card
        .getByTestId('outlet-errors')
        .getByText(/ZZ9: `ZZ9` is not an imported outlet/)
        .waitFor();
      // nothing was linked
      const none = await server.api('GET', `/api/v1/stores/${store.body.data.id}/outlets`, { token });
      assert.deepEqual(none.body.data, []);
      await codes.press('Backspace');
      await card.getByRole('button', { name: 'Save' }).click();
      await card.getByText('K1', { exact: true }).waitFor();
      // K1 bought on 2 November (and visited without buying on the 3rd): one order day
      await page.getByTestId('next-order').getByText('1 order seen').waitFor();
      await screenshot(page, 'sales-store-outlets', true);
    }));
});
