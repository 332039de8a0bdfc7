// Browser end-to-end test of the market-share screen against the real `meridian` binary:
// with sales imported but no market totals, the tab explains how to load them; a bad
// market-totals CSV shows the server's problem with every bad cell by spreadsheet row and
// nothing is loaded; the good file is loaded and the share table (our sales, market total,
// share, change against the month before, the erosion flag) and the chart show it.
// Helpers and server set-up: ./support.mjs.
//
//   npm run build && MERIDIAN_BIN=/path/to/meridian node --test e2e/sales-market.e2e.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
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

// Our sales of 330ml cans, August to November 2026, in the sheet6 layout.
const SALES_HEADER =
  'Date,Region,Province,Precision Area,Outlet Code,Outlet Name,Channel,Pack Type,SKU,Sales Qty,Sales Value';
const CENTRAL = 'Central,Nairobi,Westlands,C1,Duka Westlands,Duka,330ml can,COLA-330';
const COAST = 'Coast,Mombasa,Nyali,K1,Nyali Corner Shop,Duka,330ml can,COLA-330';
const SALES_CSV = [
  SALES_HEADER,
  `2026-08-03,${CENTRAL},12,300`,
  `2026-09-07,${CENTRAL},11,280`,
  `2026-10-05,${CENTRAL},10,260`,
  `2026-11-02,${CENTRAL},10,250`,
  `2026-08-03,${COAST},4,100`,
  `2026-09-07,${COAST},4,100`,
  `2026-10-05,${COAST},4,100`,
  `2026-11-02,${COAST},5,120`,
].join('\n');

// The market: 1,000 a month in each region. Central's share falls 30% → 25% (eroding: 5
// points in 3 months), the coast's rises 10% → 12%.
const MONTHS = ['2026-08', '2026-09', '2026-10', '2026-11'];
const TOTALS_HEADER = 'month,region,pack_type,market_value';
const GOOD_TOTALS = [
  TOTALS_HEADER,
  ...MONTHS.flatMap((m) => [`${m},Central,330ml can,1000`, `${m},Coast,330ml can,1000`]),
];
const BAD_TOTALS = [...GOOD_TOTALS];
BAD_TOTALS[2] = '2026-08,Coast,330ml can,lots'; // spreadsheet row 3: not a number
BAD_TOTALS[4] = '2026-13,Coast,330ml can,1000'; // row 5: no such month

/** Chooses a market-totals file and uploads it. @param {string} name @param {string[]} lines */
async function upload(name, lines) {
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
  await page.getByRole('button', { name: 'Upload market totals' }).click();
}

/** The text of every cell of a table's body, row by row. @param {import('playwright-core').Locator} table */
const cells = (table) =>
  table
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())),
    );

describe('market share served by meridian', { timeout: 300_000 }, () => {
  before(async () => {
    const bin = preflight();
    await server.setUp(bin);
    token = await server.token(ADMIN_EMAIL, ADMIN_PASSWORD);
    const imported = await fetch(`${server.base}/api/v1/sales/imports?mapping=sheet6&dry_run=false`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: SALES_CSV,
    });
    const report = await imported.text();
    assert.equal(imported.status, 200, report);
    assert.equal(JSON.parse(report).data.status, 'committed', report);
    browser = await openBrowser(server.base);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server.tearDown();
  });

  it('explains how to load market totals while there are none', () =>
    step('sales-market-empty', async () => {
      await page.goto(`${server.base}/sales/market-share`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/sales/market-share`);
      await page.getByRole('tab', { name: 'Market share', selected: true }).waitFor();
      const empty = page.getByTestId('empty-state');
      await empty.getByText('No market totals yet').waitFor();
      await empty.getByText(/month \(YYYY-MM\), region, pack_type and market_value/).waitFor();
      await page.getByRole('button', { name: 'Upload market totals' }).waitFor();
    }));

  it('shows the problem of a bad file, row by row, and loads nothing', () =>
    step('sales-market-bad-file', async () => {
      await upload('market-bad.csv', BAD_TOTALS);
      const problem = page.getByTestId('market-totals-problem');
      await problem.getByText('Nothing was loaded').waitFor();
      const rows = await cells(problem.getByRole('table', { name: 'Import errors' }));
      assert.deepEqual(
        rows.map(([row, column]) => [row, column]),
        [
          ['3', 'market_value'],
          ['5', 'month'],
        ],
      );
      for (const [, , reason] of rows) assert.ok(reason && reason.length > 3, JSON.stringify(rows));
      await screenshot(page, 'sales-market-bad-file', true);
      const share = await server.api('GET', '/api/v1/sales/market-share', { token });
      assert.equal(share.status, 200, JSON.stringify(share.body));
      assert.deepEqual(share.body.data.series, []);
    }));

  it('loads the good file and shows the share table and chart', () =>
    step('sales-market-share', async () => {
      await upload('market.csv', GOOD_TOTALS);
      await page
        .getByTestId('market-totals-result')
        .getByText(/Loaded 8 rows \(8 new, 0 replaced\)/)
        .waitFor();
      await page.getByRole('img', { name: 'Market share by region' }).waitFor();
      const table = page.getByRole('table', { name: 'market share' });
      await table.getByRole('row', { name: /Central/ }).waitFor();
      assert.deepEqual(await cells(table), [
        ['Central', '250.00', '1,000.00', '25.0%', '-1.0 pts', '-5.0 pts', 'Eroding'],
        ['Coast', '120.00', '1,000.00', '12.0%', '+2.0 pts', '+2.0 pts', '–'],
      ]);
      await page.getByText('Share in Nov 2026').waitFor();
      assert.equal(await page.getByTestId('eroding-count').textContent(), '1 eroding');

      // by pack type: both regions together, 370 of 2,000
      await page.getByRole('combobox', { name: 'By' }).click();
      await page.getByRole('option', { name: 'Pack type' }).click();
      await page.getByRole('img', { name: 'Market share by pack type' }).waitFor();
      await table.getByRole('row', { name: /330ml can.*370\.00.*2,000\.00.*18\.5%/ }).waitFor();
      await screenshot(page, 'sales-market-share', true);
      // the only failed request is the bad file's 422, on purpose
      assert.deepEqual(
        browser?.problems.filter((p) => !/status of 422 .*\/api\/v1\/sales\/market-totals/.test(p)),
        [],
      );
      assert.deepEqual(browser?.foreignRequests, []);
    }));
});
