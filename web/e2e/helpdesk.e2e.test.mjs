// Browser end-to-end test of the helpdesk screens against the real `meridian` binary: open
// a Critical ticket from the inbox and see its 1 h response target counting down live; a
// customer message gets its mood marker; an internal note is shown as a note and does not
// count as the first response (nor reach the customer's view); the first agent reply does,
// within target; status changes offer only the allowed transitions, and Waiting on Customer
// pauses the clock; the AI insight panel shows the server's insight. Then the knowledge
// base: a category and an article written, published, found by search and suggested on the
// matching ticket; the ticket resolved and its CSAT rating recorded; the dashboard showing
// those figures (ticket count, CSAT average) with its charts drawn; tags edited on the
// ticket; and Settings → Teams: a round-robin team whose new tickets go to its members in
// turn. Helpers and server set-up: ./support.mjs.
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
  sleep,
  step as runStep,
} from './support.mjs';

const server = new MeridianServer();
killOnExit(server);
/** @type {Awaited<ReturnType<typeof openBrowser>> | undefined} */
let browser;
/** @type {import('playwright-core').Page} */
let page;
let token = '';
let ticketId = '';
let articleId = '';

const SUBJECT = 'Walk-in cooler at store 4 is down';
const KB_TITLE = 'Walk-in cooler down: compressor checklist';

/** @param {string} name @param {() => Promise<void>} fn */
const step = (name, fn) => runStep(() => page, name, fn);

/** The ticket as the server has it. */
async function ticketNow() {
  const res = await server.api('GET', `/api/v1/tickets/${ticketId}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

/** @param {string} testId */
const text = async (testId) => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();

describe('helpdesk screens served by meridian', { timeout: 240_000 }, () => {
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

  it('signs the admin in and opens the inbox', () =>
    step('helpdesk-sign-in', async () => {
      await page.goto(`${server.base}/helpdesk`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/helpdesk`);
      await page.getByRole('tab', { name: 'Inbox', selected: true }).waitFor();
      await page.getByRole('table', { name: 'Tickets' }).waitFor();
      await page.getByTestId('inbox-empty').waitFor();
    }));

  it('opens a Critical ticket: the 1 h response target counts down live', () =>
    step('helpdesk-create', async () => {
      await page.getByRole('button', { name: 'New ticket' }).click();
      const form = page.getByRole('form', { name: 'New ticket' });
      // the server's field error shows next to the empty subject
      await form.getByRole('button', { name: 'Create' }).click();
      await form.getByText('must be 1 to 300 characters').waitFor();
      await form.getByLabel('Subject').fill(SUBJECT);
      await form.getByLabel('Description').fill('Temperature is rising, stock at risk.');
      await form.getByRole('combobox', { name: 'Type' }).click();
      await page.getByRole('option', { name: 'Incident', exact: true }).click();
      await form.getByRole('combobox', { name: 'Priority' }).click();
      await page.getByRole('option', { name: 'Critical', exact: true }).click();
      await form.getByRole('button', { name: 'Create' }).click();
      await page.waitForURL(/\/helpdesk\/tickets\/[0-9a-f-]{36}$/);
      ticketId = page.url().split('/').pop() ?? '';
      await page.getByTestId('ticket-title').getByText(SUBJECT).waitFor();
      assert.match(await text('ticket-number'), /^TKT-\d{4}-\d{5}$/);

      const panel = page.getByTestId('sla-panel');
      await panel.waitFor();
      // a 1 h target is within the default at-risk margin (20 % or 1 h, whichever is larger),
      // so a Critical ticket is At Risk from the start
      assert.equal(await text('sla-status'), 'At Risk');
      assert.equal(await text('response-target'), '1h');
      assert.equal(await text('resolution-target'), '4h');
      // a fresh org's calendar is 24×7: the response is due an hour from now
      const first = await text('response-countdown');
      assert.match(first, /^(1h 00m|59m \d\ds)$/);
      // ...and the countdown ticks every second
      await eventually(
        () => text('response-countdown'),
        (t) => t !== first && /^59m \d\ds$/.test(t),
        'a tick',
      );
      const t = await ticketNow();
      assert.equal(t.priority, 'Critical');
      assert.equal(t.sla.response_target_minutes, 60);
      assert.equal(t.sla.first_response_at ?? null, null);
      assert.equal(t.sla.status, 'At Risk');
      await screenshot(page, 'helpdesk-new-ticket');
    }));

  it("shows the customer's message with its mood, and the server's AI insight", () =>
    step('helpdesk-customer', async () => {
      const res = await server.api('POST', `/api/v1/tickets/${ticketId}/messages`, {
        token,
        body: { kind: 'customer', body: 'This is terrible, everything is melting and nobody answers!' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await page.reload();
      const customer = page
        .getByTestId('conversation')
        .locator('[data-testid="message"][data-kind="customer"]');
      await customer.waitFor();
      assert.equal(await customer.getByTestId('sentiment').getAttribute('data-label'), 'negative');
      await page.getByTestId('mood-panel').waitFor();
      // the AI insight as the server computed it (rules on a new org: no model trained yet)
      const { insights } = await ticketNow();
      assert.ok(insights, 'the ticket has an insight');
      const panel = page.getByTestId('insight-panel');
      await panel.waitFor();
      await panel.getByText(insights.source, { exact: true }).waitFor();
      await panel.getByText(`${Math.round(insights.escalation_risk * 100)}%`, { exact: true }).waitFor();
      assert.equal(
        ((await panel.getByTestId('priority-badge').textContent()) ?? '').trim(),
        insights.predicted_priority,
      );
      for (const reason of insights.ai_insights) await panel.getByText(reason, { exact: true }).waitFor();
    }));

  it('adds an internal note, shown as a note and not as the first response', () =>
    step('helpdesk-note', async () => {
      await page.getByLabel('Message kind').getByText('Internal note', { exact: true }).click();
      await page
        .getByRole('textbox', { name: 'Internal note' })
        .fill('Compressor fault likely, call the vendor.');
      await page.getByRole('button', { name: 'Add note' }).click();
      const note = page.getByTestId('conversation').locator('[data-testid="message"][data-kind="note"]');
      await note.getByText('Compressor fault likely, call the vendor.').waitFor();
      await note.getByText('Internal note', { exact: true }).waitFor();
      // no reply yet: the response clock still runs and no first response is shown
      assert.equal(await page.locator('[data-testid="message"][data-kind="reply"]').count(), 0);
      assert.equal(await page.getByTestId('first-response').count(), 0);
      assert.match(await text('response-countdown'), /^\d+m \d\ds$/);
      assert.equal((await ticketNow()).sla.first_response_at ?? null, null);
      // the customer's view leaves the note out
      const view = await server.api('GET', `/api/v1/tickets/${ticketId}/messages?audience=customer`, {
        token,
      });
      assert.equal(view.status, 200);
      assert.deepEqual(
        view.body.data.map((/** @type {{kind: string}} */ m) => m.kind),
        ['customer'],
      );
    }));

  it('replies as the agent: the first response is recorded within target', () =>
    step('helpdesk-reply', async () => {
      await page.getByLabel('Message kind').getByText('Reply to customer', { exact: true }).click();
      await page.getByRole('textbox', { name: 'Reply' }).fill('We are on it: a technician is on the way.');
      await page.getByRole('button', { name: 'Send reply' }).click();
      const reply = page.getByTestId('conversation').locator('[data-testid="message"][data-kind="reply"]');
      await reply.getByText('We are on it: a technician is on the way.').waitFor();
      await eventually(
        () => text('first-response'),
        (t) => t === 'Within target',
        'the first response',
      );
      assert.equal(await text('response-countdown'), 'met');
      // the response target is met; the 4 h resolution target has more than an hour left
      await eventually(
        () => text('sla-status'),
        (s) => s === 'On Track',
        'On Track after the reply',
      );
      assert.match(
        (await page.getByTestId('sla-panel').getByTestId('sla-countdown').textContent()) ?? '',
        /^Resolve in (4h 00m|3h \d\dm)$/,
      );
      // the clock now races the resolution deadline (4 h for a Critical incident)
      assert.match(await text('resolution-countdown'), /^(4h 00m|3h \d\dm)$/);
      const t = await ticketNow();
      assert.ok(t.sla.first_response_at, 'first_response_at set');
      assert.ok(Date.parse(t.sla.first_response_at) <= Date.parse(t.sla.response_due_at));
      assert.equal(await page.locator('[data-testid="message"]').count(), 3);
      await screenshot(page, 'helpdesk-ticket', true);
    }));

  it('attaches a file and downloads it; a file whose content is not its type is refused with the reason', () =>
    step('helpdesk-attachments', async () => {
      const box = page.getByTestId('attachments');
      const input = box.locator('input[type="file"]');
      await input.setInputFiles({
        name: 'cooler-log.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('08:00 4C\n09:00 9C\n'),
      });
      await box.getByText('cooler-log.txt').waitFor();
      const downloaded = page.waitForEvent('download');
      await box.getByRole('button', { name: 'Download cooler-log.txt' }).click();
      const download = await downloaded;
      assert.equal(download.suggestedFilename(), 'cooler-log.txt');
      const path = await download.path();
      assert.equal(readFileSync(path, 'utf8'), '08:00 4C\n09:00 9C\n');

      await input.setInputFiles({
        name: 'photo.png',
        mimeType: 'image/png',
        buffer: Buffer.from('not a png'),
      });
      const problem = page.getByTestId('upload-problem');
      await problem.waitFor();
      assert.match((await problem.textContent()) ?? '', /^photo\.png was refused: file: /);
      const list = await server.api('GET', `/api/v1/tickets/${ticketId}/attachments`, { token });
      assert.deepEqual(
        list.body.data.map((/** @type {{filename: string}} */ a) => a.filename),
        ['cooler-log.txt'],
      );
    }));

  it('changes status through the allowed transitions; waiting on the customer pauses the clock', () =>
    step('helpdesk-status', async () => {
      const buttons = page.getByRole('group', { name: 'Status changes' }).getByRole('button');
      assert.deepEqual(await buttons.allTextContents(), ['Start work', 'Wait on customer', 'Resolve']);
      await page.getByRole('button', { name: 'Start work' }).click();
      await page.getByTestId('status-badge').getByText('In Progress').waitFor();
      assert.deepEqual(await buttons.allTextContents(), ['Wait on customer', 'Resolve']);
      assert.equal((await ticketNow()).status, 'In Progress');

      await page.getByRole('button', { name: 'Wait on customer' }).click();
      await page.getByTestId('status-badge').getByText('Waiting on Customer').waitFor();
      await page.getByTestId('sla-paused').waitFor();
      const clock = page.getByTestId('sla-panel').getByTestId('sla-countdown');
      assert.equal(await clock.getAttribute('data-paused'), 'true');
      const paused = await text('resolution-countdown');
      assert.match(paused, /^paused/);
      await sleep(1500);
      assert.equal(await text('resolution-countdown'), paused, 'a paused clock does not count');
      assert.deepEqual(await buttons.allTextContents(), ['Resume work', 'Resolve']);
      const t = await ticketNow();
      assert.equal(t.status, 'Waiting on Customer');
      assert.equal(t.sla.paused, true);
      assert.equal(await text('sla-status'), t.sla.status);

      await page.getByRole('button', { name: 'Resume work' }).click();
      await page.getByTestId('status-badge').getByText('In Progress').waitFor();
      await eventually(
        () => text('resolution-countdown'),
        (s) => /^\dh \d\dm$/.test(s),
        'the clock running again',
      );
    }));

  it('lists the ticket in the inbox with its badges and countdown, by view', () =>
    step('helpdesk-inbox', async () => {
      await page.getByRole('tab', { name: 'Inbox' }).click();
      await page.waitForURL(`${server.base}/helpdesk`);
      const row = page.locator(`[data-testid="ticket-row"][data-ticket-id="${ticketId}"]`);
      await row.waitFor();
      assert.equal(((await row.getByTestId('priority-badge').textContent()) ?? '').trim(), 'Critical');
      assert.equal(((await row.getByTestId('status-badge').textContent()) ?? '').trim(), 'In Progress');
      assert.equal(((await row.getByTestId('sla-status').textContent()) ?? '').trim(), 'On Track');
      assert.match((await row.getByTestId('sla-countdown').textContent()) ?? '', /^Resolve in \dh \d\dm$/);
      assert.equal(await row.getByTestId('sentiment').getAttribute('data-label'), 'negative');
      await screenshot(page, 'helpdesk-inbox');

      const views = page.getByLabel('Inbox view');
      // answered and On Track: not at risk, not breached; nobody assigned yet
      await views.getByText('At risk', { exact: true }).click();
      await page.waitForURL(`${server.base}/helpdesk?view=at_risk`);
      await page.getByTestId('inbox-empty').waitFor();
      await views.getByText('Breached', { exact: true }).click();
      await page.waitForURL(`${server.base}/helpdesk?view=breached`);
      await page.getByTestId('inbox-empty').waitFor();
      await views.getByText('Unassigned', { exact: true }).click();
      await page.waitForURL(`${server.base}/helpdesk?view=unassigned`);
      await row.waitFor();
    }));

  it('edits the SLA policy in Settings and recomputes the open ticket', () =>
    step('helpdesk-sla-settings', async () => {
      await page.goto(`${server.base}/settings/sla`);
      await page.getByRole('tab', { name: 'SLA & hours', selected: true }).waitFor();
      const policy = page.getByTestId('sla-policy').first();
      await policy.getByText('Default for new tickets').waitFor();
      const resolution = policy.getByRole('textbox', { name: 'Critical resolution hours' });
      assert.equal(await resolution.inputValue(), '4');
      assert.equal(await policy.getByRole('textbox', { name: 'Critical response hours' }).inputValue(), '1');
      // a new org's default calendar is 24×7
      const calendar = page.getByTestId('calendar').first();
      await calendar.getByText('168 business hours a week').waitFor();
      assert.equal(await calendar.getByRole('textbox', { name: 'Monday hours' }).inputValue(), '00:00-24:00');

      await resolution.fill('6');
      await policy.getByRole('button', { name: 'Save policy' }).click();
      await page.getByText(/saved\. Open tickets keep their deadlines/).waitFor();
      assert.equal((await ticketNow()).sla.resolution_target_minutes, 240, 'kept until recomputed');
      await policy.getByRole('button', { name: 'Recompute open tickets' }).click();
      await page.getByText('Deadlines of 1 open ticket recomputed.').waitFor();
      assert.equal((await ticketNow()).sla.resolution_target_minutes, 360);
      await screenshot(page, 'helpdesk-sla-settings', true);

      await page.goto(`${server.base}/helpdesk/tickets/${ticketId}`);
      await eventually(
        () => text('resolution-target'),
        (t) => t === '6h',
        'the new target on the ticket',
      );
    }));

  it('writes a KB category and article, publishes it and finds it by search', () =>
    step('helpdesk-kb', async () => {
      await page.getByRole('tab', { name: 'Knowledge base' }).click();
      await page.waitForURL(`${server.base}/helpdesk/kb`);
      await page.getByRole('textbox', { name: 'New category' }).fill('Refrigeration');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByText('Refrigeration', { exact: true }).first().waitFor();
      const cats = await server.api('GET', '/api/v1/kb/categories', { token });
      assert.equal(cats.status, 200);
      const category = cats.body.data.find((/** @type {{name: string}} */ c) => c.name === 'Refrigeration');
      assert.ok(category, 'the category exists on the server');

      await page.getByRole('button', { name: 'New article' }).click();
      const editor = page.getByTestId('kb-editor');
      await editor.waitFor();
      await editor.getByRole('textbox', { name: 'Title' }).fill(KB_TITLE);
      await editor.getByRole('combobox', { name: 'Category' }).click();
      await page.getByRole('option', { name: 'Refrigeration', exact: true }).click();
      await editor.getByRole('combobox', { name: 'Tags' }).fill('cooler');
      await editor.getByRole('combobox', { name: 'Tags' }).press('Enter');
      await editor
        .getByRole('textbox', { name: 'Body (Markdown)' })
        .fill(
          '## When the cooler is down\n\nCheck the **compressor** and the door seal; move stock to another cooler.',
        );
      await editor.getByTestId('kb-preview').locator('strong').getByText('compressor').waitFor();
      await editor.getByRole('button', { name: 'Publish' }).click();
      await page.getByText(`“${KB_TITLE}” is published.`).waitFor();
      await editor.getByText('published', { exact: true }).waitFor();

      const list = await server.api('GET', '/api/v1/kb/articles?status=published', { token });
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const article = list.body.data.find((/** @type {{title: string}} */ a) => a.title === KB_TITLE);
      assert.ok(article, 'published on the server');
      assert.equal(article.category_id, category.id);
      assert.deepEqual(article.tags, ['cooler']);
      assert.ok(article.published_at);
      articleId = article.id;

      await editor.getByRole('button', { name: 'Back to list' }).click();
      await page.getByRole('textbox', { name: 'Search articles' }).fill('compressor failing');
      const results = page.getByTestId('kb-articles');
      await results.getByText(KB_TITLE).waitFor();
      // a ranked search result carries its relevance score
      await results.getByTestId('kb-score').first().waitFor();
      await screenshot(page, 'helpdesk-kb');
      await page.getByRole('textbox', { name: 'Search articles' }).fill('payroll invoice');
      await results.getByText(/^No articles match/).waitFor();
    }));

  it('suggests the article on the matching ticket, and the link opens it', () =>
    step('helpdesk-suggested', async () => {
      await page.goto(`${server.base}/helpdesk/tickets/${ticketId}`);
      const suggested = page.getByTestId('suggested-articles');
      await suggested.waitFor();
      const link = suggested.getByRole('link', { name: KB_TITLE });
      await link.waitFor();
      const api = await server.api('GET', `/api/v1/tickets/${ticketId}/suggested-articles`, { token });
      assert.equal(api.status, 200);
      assert.equal(api.body.data[0].id, articleId);
      await link.click();
      await page.waitForURL(`${server.base}/helpdesk/kb?article=${articleId}`);
      await page.getByTestId('kb-editor').waitFor();
      assert.equal(
        await page.getByTestId('kb-editor').getByRole('textbox', { name: 'Title' }).inputValue(),
        KB_TITLE,
      );
    }));

  it('edits the ticket tags in place', () =>
    step('helpdesk-tags', async () => {
      await page.goto(`${server.base}/helpdesk/tickets/${ticketId}`);
      const tags = page.getByTestId('details-panel').getByRole('combobox', { name: 'Tags' });
      await tags.fill('Refrigeration');
      await tags.press('Enter');
      await eventually(
        async () => (await ticketNow()).tags,
        (t) => JSON.stringify(t) === '["refrigeration"]',
        'the tag saved',
      );
    }));

  it('resolves the ticket and records the CSAT rating', () =>
    step('helpdesk-csat', async () => {
      await page.getByRole('button', { name: 'Resolve' }).click();
      await page.getByTestId('status-badge').getByText('Resolved').waitFor();
      const panel = page.getByTestId('csat-panel');
      await panel.waitFor();
      await panel.locator('input[type="radio"][value="4"]').focus();
      await page.keyboard.press('Enter');
      await panel.getByRole('textbox', { name: 'CSAT comment' }).fill('Fixed before the stock spoiled');
      await panel.getByRole('button', { name: 'Record rating' }).click();
      await panel.getByText('“Fixed before the stock spoiled”').waitFor();
      assert.equal(await panel.getByTestId('csat-rating').getAttribute('data-rating'), '4');
      const t = await ticketNow();
      assert.equal(t.status, 'Resolved');
      assert.equal(t.csat?.rating, 4);
      assert.equal(t.csat?.comment, 'Fixed before the stock spoiled');
      // one rating per resolution: the server refuses a second
      const again = await server.api('POST', `/api/v1/tickets/${ticketId}/csat`, {
        token,
        body: { rating: 1 },
      });
      assert.equal(again.status, 409);
    }));

  it('shows the real figures on the dashboard, with its charts drawn', () =>
    step('helpdesk-dashboard', async () => {
      await page.getByRole('tab', { name: 'Dashboard' }).click();
      await page.waitForURL(`${server.base}/helpdesk/dashboard`);
      const dashboard = page.getByTestId('helpdesk-dashboard');
      await dashboard.waitFor();
      const res = await server.api('GET', '/api/v1/helpdesk/analytics', { token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const a = res.body.data;
      // what this test produced: one ticket, answered and resolved, rated 4
      assert.equal(a.csat.count, 1);
      assert.equal(a.csat.average, 4);
      assert.equal(a.first_response_hours.count, 1);
      assert.equal(a.resolution_hours.count, 1);
      assert.equal(
        a.volume.reduce((/** @type {number} */ n, /** @type {{created: number}} */ d) => n + d.created, 0),
        1,
      );
      await eventually(
        () => text('kpi-csat'),
        (t) => t.includes('4.0 / 5') && t.includes('1 ratings'),
        'CSAT',
      );
      assert.match(await text('kpi-first-response'), /1 tickets$/);
      assert.match(await text('kpi-resolution-time'), /1 tickets$/);
      const c = a.sla_compliance;
      assert.equal(c.met, 1);
      assert.equal(
        await text('kpi-response'),
        `Response SLA met${c.response_pct}%${c.met} met · ${c.breached} breached`,
      );
      // six charts, each drawn (ECharts' SVG renderer puts paths in them)
      const charts = dashboard.getByTestId('echart');
      assert.equal(await charts.count(), 6);
      for (let i = 0; i < 6; i += 1) {
        await eventually(
          () => charts.nth(i).locator('svg path').count(),
          (n) => n > 0,
          `chart ${i + 1} drawn`,
        );
      }
      await screenshot(page, 'helpdesk-dashboard', true);
    }));

  it('sets up a round-robin team in Settings; new tickets of the team go to its members in turn', () =>
    step('helpdesk-teams', async () => {
      const created = await server.api('POST', '/api/v1/users', {
        token,
        body: {
          email: 'sam@acme.test',
          name: 'Sam Agent',
          password: 'Velvet-Orchard-Compass-2284',
          role: 'Support Agent',
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const sam = created.body.data.id;
      const me = await server.api('GET', '/api/v1/auth/me', { token });
      const admin = me.body.data.user.id;
      /** @type {string} */
      const adminName = me.body.data.user.name;
      /** @param {string} t */
      const startsWith = (t) => new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

      await page.goto(`${server.base}/settings/teams`);
      await page.getByRole('tab', { name: 'Teams', selected: true }).waitFor();
      await page.getByTestId('teams-empty').waitFor();
      await page.getByRole('textbox', { name: 'New team name' }).fill('Store support');
      await page.getByRole('button', { name: 'Create team' }).click();
      const editor = page.getByTestId('team-editor');
      await editor.getByRole('heading', { name: 'Store support' }).waitFor();
      await editor.getByRole('combobox', { name: 'Assignment method' }).click();
      await page.getByRole('option', { name: 'Round robin', exact: true }).click();
      await editor.getByRole('button', { name: 'Save team' }).click();
      const row = page.getByTestId('team-row');
      await eventually(
        () => row.getByTestId('team-method').textContent(),
        (t) => t === 'Round robin',
        'saved',
      );

      const members = editor.getByTestId('team-members');
      for (const name of ['Sam Agent', adminName]) {
        await members.getByRole('combobox', { name: 'Add member' }).click();
        await page.getByRole('option', { name: startsWith(name) }).click();
      }
      const skills = members.getByRole('combobox', { name: /^Skills of Sam Agent/ });
      await skills.fill('refrigeration');
      await skills.press('Enter');
      await members.getByRole('button', { name: 'Save members' }).click();
      await eventually(
        () => row.getByTestId('team-member-count').textContent(),
        (t) => t === '2',
        'members saved',
      );
      const team = (await server.api('GET', '/api/v1/teams', { token })).body.data[0];
      assert.equal(team.assignment_method, 'round_robin');
      const saved = await server.api('GET', `/api/v1/teams/${team.id}/members`, { token });
      assert.deepEqual(
        saved.body.data.map((/** @type {{user_id: string, skills: string[]}} */ m) => [m.user_id, m.skills]),
        [
          [admin, []],
          [sam, ['refrigeration']],
        ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      );
      await screenshot(page, 'helpdesk-teams', true);

      // two tickets of the team opened without an assignee: one to each member, in user-id order
      /** @type {string[]} */
      const assignees = [];
      for (const subject of ['Freezer alarm at store 2', 'Ice machine leaking at store 9']) {
        await page.goto(`${server.base}/helpdesk`);
        await page.getByRole('button', { name: 'New ticket' }).click();
        const form = page.getByRole('form', { name: 'New ticket' });
        await form.getByLabel('Subject').fill(subject);
        await form.getByRole('combobox', { name: 'Team' }).click();
        await page.getByRole('option', { name: 'Store support', exact: true }).click();
        await form
          .getByTestId('auto-assign-hint')
          .getByText(/round robin/)
          .waitFor();
        await form.getByRole('button', { name: 'Create' }).click();
        await page.waitForURL(/\/helpdesk\/tickets\/[0-9a-f-]{36}$/);
        const id = page.url().split('/').pop() ?? '';
        const t = (await server.api('GET', `/api/v1/tickets/${id}`, { token })).body.data;
        assert.equal(t.team_id, team.id);
        assert.ok(t.assignee_id, 'assigned on create');
        assignees.push(t.assignee_id);
        const name = t.assignee_id === sam ? 'Sam Agent' : adminName;
        await eventually(
          () => page.getByTestId('details-panel').getByRole('combobox', { name: 'Assignee' }).inputValue(),
          (v) => v.startsWith(name),
          'the assignee on the ticket page',
        );
      }
      assert.deepEqual(assignees, [admin, sam].sort());
    }));

  it('loads nothing from other origins and logs no unexpected errors', () => {
    assert.deepEqual(browser?.foreignRequests, []);
    // the empty create form and the refused upload (422) are expected answers
    const unexpected = browser?.problems.filter((p) => !/status of 422 .*\/api\/v1\/tickets/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
