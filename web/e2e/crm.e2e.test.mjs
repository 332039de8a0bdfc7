// Browser end-to-end test of the CRM screens against the real `meridian` binary: create a
// company and a lead, convert the lead (with a deal) and land on the new records; drag that
// deal across the kanban board with a real mouse and see it stay after a reload; provoke a
// version conflict and see the notice instead of a silent overwrite; find "John Smith" by a
// misspelt search. Helpers and server set-up: ./support.mjs.
//
//   npm run build && MERIDIAN_BIN=/path/to/meridian npm run e2e
import assert from 'node:assert/strict';
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
/** An API token of the admin, for changes "by someone else". */
let token = '';
/** @type {{id: string, name: string, stages: {id: string, name: string}[]}} */
let pipeline;
/** The deal created by the conversion. @type {string} */
let dealId = '';

const DEAL_TITLE = 'Smith Logistics rollout';

/** @param {string} name @param {() => Promise<void>} fn */
const step = (name, fn) => runStep(() => page, name, fn);

/** @param {string} name */
const stageId = (name) => {
  const stage = pipeline.stages.find((s) => s.name === name);
  assert.ok(stage, `stage ${name} in ${JSON.stringify(pipeline.stages.map((s) => s.name))}`);
  return stage.id;
};

/** The board column of a stage. @param {string} name */
const column = (name) => page.getByRole('region', { name: `Stage ${name}` });

/** The card of the test's deal. */
const card = () => page.locator(`[data-testid="deal-card"][data-deal-id="${dealId}"]`);

/** The stage whose column holds the deal's card on the page. */
async function stageOnPage() {
  return card().evaluate(
    (el) => el.closest('[data-testid="board-column"]')?.getAttribute('data-stage-id') ?? '',
  );
}

/** Drags the deal's card onto a column's header with the mouse, in small steps as a person would. @param {string} name */
async function dragCardTo(name) {
  const from = await card().boundingBox();
  const to = await column(name).getByText(name, { exact: true }).boundingBox();
  assert.ok(from && to, 'card and column are on screen');
  await page.mouse.move(from.x + from.width / 2, from.y + from.height - 8);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 10, from.y + from.height - 4, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 20 });
  await page.mouse.move(to.x + to.width / 2 + 2, to.y + to.height / 2 + 2, { steps: 2 });
  const patched = page.waitForResponse(
    (res) => res.request().method() === 'PATCH' && res.url().endsWith(`/api/v1/deals/${dealId}`),
  );
  await page.mouse.up();
  return patched;
}

/** The deal as the server has it. */
async function dealNow() {
  const res = await server.api('GET', `/api/v1/deals/${dealId}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return /** @type {{stage_id: string, version: number}} */ (res.body.data);
}

describe('CRM screens served by meridian', { timeout: 240_000 }, () => {
  before(async () => {
    const bin = preflight();
    await server.setUp(bin);
    token = await server.token(ADMIN_EMAIL, ADMIN_PASSWORD);
    const pipelines = await server.api('GET', '/api/v1/pipelines', { token });
    assert.equal(pipelines.status, 200, JSON.stringify(pipelines.body));
    pipeline = pipelines.body.data.find((/** @type {{is_default: boolean}} */ p) => p.is_default);
    assert.ok(pipeline && pipeline.stages.length >= 4, 'a default pipeline with stages');
    browser = await openBrowser(server.base);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server.tearDown();
  });

  it('signs the admin in and opens the pipeline', () =>
    step('crm-sign-in', async () => {
      await page.goto(`${server.base}/crm`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/crm`);
      await page.getByRole('tab', { name: 'Pipeline', selected: true }).waitFor();
      await column(pipeline.stages[0]?.name ?? '').waitFor();
    }));

  it('creates a company in its list and lands on its page', () =>
    step('crm-company', async () => {
      await page.getByRole('tab', { name: 'Companies' }).click();
      await page.waitForURL(`${server.base}/crm/companies`);
      await page.getByRole('button', { name: 'New company' }).click();
      const form = page.getByRole('form', { name: 'New company' });
      // the server's field errors appear next to their fields
      await form.getByRole('button', { name: 'Create' }).click();
      await form.getByText('is required').waitFor();
      await form.getByLabel('Name').fill('Northwind Traders');
      await form.getByLabel('Industry').fill('Wholesale');
      await form.getByRole('button', { name: 'Create' }).click();
      await page.waitForURL(/\/crm\/companies\/[0-9a-f-]{36}$/);
      await page.getByTestId('record-title').getByText('Northwind Traders').waitFor();
      const c360 = page.getByTestId('customer-360');
      // the helpdesk is there: a new customer has no open tickets
      await c360.getByTestId('customer-tickets').getByText('No open tickets.').waitFor();
      assert.equal(
        ((await c360.getByTestId('customer-tickets-counts').textContent()) ?? '').trim(),
        '0 open · 0 at risk · 0 breached',
      );
      // the sales module is there too: a company that is not a store has no orders
      await c360.getByTestId('customer-orders').getByText('Not a store yet: no orders.').waitFor();
      await c360.getByText('Arrives with the Insight module').waitFor();
      assert.equal(await page.title(), 'Northwind Traders · Company · Meridian');

      // inline editing (with the record's version), then the change is in the timeline
      await page.getByRole('button', { name: 'Edit Industry' }).click();
      await page.getByRole('textbox', { name: 'Industry' }).fill('Retail');
      await page.getByRole('textbox', { name: 'Industry' }).press('Enter');
      await eventually(
        () => page.getByTestId('field-Industry').textContent(),
        (t) => t === 'Retail',
        'the saved industry',
      );
      await page.getByTestId('timeline').getByText('industry: Retail').waitFor();

      // "Log activity": kind, subject, notes; it lands in the timeline
      await page.getByRole('button', { name: 'Log activity' }).click();
      const log = page.getByRole('form', { name: 'Log activity' });
      await log.getByRole('textbox', { name: 'Subject' }).fill('Intro call');
      await log.getByRole('textbox', { name: 'Notes' }).fill('Wants a quote for 40 coolers');
      await log.getByRole('button', { name: 'Log' }).click();
      await page.getByTestId('timeline').getByText('call: Intro call').waitFor();
      await page.getByTestId('timeline').getByText('Wants a quote for 40 coolers').waitFor();
    }));

  it('creates a lead, converts it with a deal, and lands on the new records', () =>
    step('crm-convert', async () => {
      await page.getByRole('tab', { name: 'Leads' }).click();
      await page.getByRole('button', { name: 'New lead' }).click();
      const form = page.getByRole('form', { name: 'New lead' });
      await form.getByLabel('First name').fill('John');
      await form.getByLabel('Last name').fill('Smith');
      await form.getByLabel('Company name').fill('Smith Logistics');
      await form.getByLabel('Email').fill('john.smith@smith-logistics.test');
      await form.getByRole('button', { name: 'Create' }).click();
      await page.waitForURL(/\/crm\/leads\/[0-9a-f-]{36}$/);
      await page.getByTestId('record-title').getByText('John Smith').waitFor();

      await page.getByRole('button', { name: 'Convert' }).click();
      const dialog = page.getByRole('form', { name: 'Convert lead' });
      assert.equal(await dialog.getByLabel('New company name').inputValue(), 'Smith Logistics');
      await dialog.getByLabel('Deal title').fill(DEAL_TITLE);
      await dialog.getByLabel('Amount').fill('12500.00');
      await dialog.getByRole('button', { name: 'Convert' }).click();
      const result = page.getByTestId('conversion-result');
      await result.waitFor();
      const dealLink = result.getByRole('link', { name: `Deal: ${DEAL_TITLE}` });
      const contactHref = await result
        .getByRole('link', { name: 'Contact: John Smith' })
        .getAttribute('href');
      const companyHref = await result
        .getByRole('link', { name: 'Company: Smith Logistics' })
        .getAttribute('href');
      dealId = ((await dealLink.getAttribute('href')) ?? '').split('/').pop() ?? '';
      assert.match(dealId, /^[0-9a-f-]{36}$/);

      await dealLink.click();
      await page.waitForURL(`${server.base}/crm/deals/${dealId}`);
      await page.getByTestId('record-title').getByText(DEAL_TITLE).waitFor();
      await page.getByText('€12,500').first().waitFor();

      await page.goto(`${server.base}${contactHref ?? ''}`);
      await page.getByTestId('record-title').getByText('John Smith').waitFor();
      await page.goto(`${server.base}${companyHref ?? ''}`);
      await page.getByTestId('record-title').getByText('Smith Logistics').waitFor();
      await page.getByTestId('customer-360').getByRole('link', { name: DEAL_TITLE }).waitFor();
      await page.getByTestId('customer-360').getByRole('link', { name: 'John Smith' }).waitFor();
      await page.getByTestId('timeline').getByText('company.created').waitFor();
      await screenshot(page, 'crm-company');
    }));

  it('drags the deal to another stage with the mouse, and it stays there after a reload', () =>
    step('crm-drag', async () => {
      await page.goto(`${server.base}/crm`);
      await card().waitFor();
      const first = pipeline.stages[0]?.name ?? '';
      const second = pipeline.stages[1]?.name ?? '';
      assert.equal(await stageOnPage(), stageId(first));
      const res = await dragCardTo(second);
      assert.equal(res.status(), 200, await res.text());
      assert.equal((await dealNow()).stage_id, stageId(second));
      await page.reload();
      await card().waitFor();
      assert.equal(await stageOnPage(), stageId(second));
      await column(second).getByRole('link', { name: DEAL_TITLE }).waitFor();
    }));

  it('shows a conflict instead of overwriting a change made meanwhile', () =>
    step('crm-conflict', async () => {
      const second = pipeline.stages[1]?.name ?? '';
      const third = pipeline.stages[2]?.name ?? '';
      const fourth = pipeline.stages[3]?.name ?? '';
      // someone else moves the deal to the third stage (with the current version)...
      const now = await dealNow();
      const moved = await server.api('PATCH', `/api/v1/deals/${dealId}`, {
        token,
        body: { stage_id: stageId(third), position: 0, version: now.version },
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      // ...while the page still shows the old version in the second stage
      assert.equal(await stageOnPage(), stageId(second));
      const res = await dragCardTo(fourth);
      assert.equal(res.status(), 412);
      const notice = page.getByTestId('conflict-notice');
      await notice.waitFor();
      assert.match((await notice.textContent()) ?? '', new RegExp(`changed by someone else`));
      assert.match((await notice.textContent()) ?? '', new RegExp(`Stage: now ${third}`));
      await eventually(stageOnPage, (s) => s === stageId(third), 'the card in the server stage');
      assert.equal((await dealNow()).stage_id, stageId(third), 'the other change was kept');
      await screenshot(page, 'crm-board');
    }));

  it('finds John Smith by a misspelt search and opens the hit with the keyboard', () =>
    step('crm-search', async () => {
      const search = page.getByRole('textbox', { name: 'Search' });
      await search.click();
      await search.fill('jon smth');
      const hit = page.getByRole('option', { name: 'John Smith' }).first();
      await hit.waitFor();
      await search.press('ArrowDown');
      await search.press('Enter');
      await page.waitForURL(/\/crm\/(contacts|leads)\/[0-9a-f-]{36}$/);
      await page.getByTestId('record-title').getByText('John Smith').waitFor();
      await page.getByTestId('timeline').waitFor();
      await screenshot(page, 'crm-record');
    }));

  it('loads nothing from other origins and logs no unexpected errors', () => {
    assert.deepEqual(browser?.foreignRequests, []);
    // the refused move (412) and the empty create form (422) are expected answers
    const unexpected = browser?.problems.filter(
      (p) => !/status of (412|422) .*\/api\/v1\/(deals|companies)/.test(p),
    );
    assert.deepEqual(unexpected, []);
  });
});
