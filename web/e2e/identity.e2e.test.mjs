// Browser end-to-end test of sign-in, users and permissions, against the real `meridian`:
// the admin signs in, creates a Viewer in Settings → Users and signs out; the Viewer signs
// in and is refused what a Viewer may not do, in the UI and by the API. Helpers: ./support.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  eventually,
  killOnExit,
  MeridianServer,
  openBrowser,
  ORG_NAME,
  preflight,
  screenshot,
  signIn,
  signOut,
  step as runStep,
  totp,
} from './support.mjs';

const VIEWER = { email: 'vera@acme.test', name: 'Vera Viewer', password: 'Copper-Meadow-Signal-2841' };

const server = new MeridianServer();
killOnExit(server);
/** @type {Awaited<ReturnType<typeof openBrowser>> | undefined} */
let browser;
/** @type {import('playwright-core').Page} */
let page;

/** @param {string} name @param {() => Promise<void>} fn */
const step = (name, fn) => runStep(() => page, name, fn);

describe('identity: sign-in, users and permissions', { timeout: 180_000 }, () => {
  before(async () => {
    await server.setUp(preflight());
    browser = await openBrowser(server.base);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server.tearDown();
  });

  it('asks for sign-in on a settings page, then returns to it', () =>
    step('admin-sign-in', async () => {
      await page.goto(`${server.base}/settings/users`);
      await page.waitForURL(`${server.base}/login`);
      await page.getByRole('heading', { level: 1, name: 'Sign in to Meridian' }).waitFor();
      await screenshot(page, 'sign-in');
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/settings/users`);
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      assert.equal(await page.title(), 'Users · Settings · Meridian');
      await page.getByTestId('user-row').filter({ hasText: ADMIN_EMAIL }).waitFor();
      const menu = page.getByRole('button', { name: 'User menu' });
      assert.match((await menu.textContent()) ?? '', new RegExp(ORG_NAME));
    }));

  it('creates a Viewer in Settings → Users', () =>
    step('create-user', async () => {
      await page.getByRole('button', { name: 'New user' }).click();
      const form = page.getByRole('form', { name: 'New user' });
      await form.getByRole('textbox', { name: 'Email' }).fill(VIEWER.email);
      await form.getByRole('textbox', { name: 'Name' }).fill(VIEWER.name);
      await form.getByRole('textbox', { name: 'Initial password' }).fill(VIEWER.password);
      await form.getByRole('combobox', { name: 'Role' }).click();
      await page.getByRole('option', { name: 'Viewer', exact: true }).click();
      await form.getByRole('button', { name: 'Create user' }).click();
      await form.waitFor({ state: 'detached' });
      const row = page.getByTestId('user-row').filter({ hasText: VIEWER.email });
      await row.waitFor();
      assert.equal(
        await row.getByRole('combobox', { name: `Role of ${VIEWER.name}` }).inputValue(),
        'Viewer',
      );
      assert.match((await row.textContent()) ?? '', /Active/);
      await page.getByText('User created').waitFor({ state: 'detached' }); // the notification
      await screenshot(page, 'users');
    }));

  it('shows the creation in the audit log, with its details', () =>
    step('audit', async () => {
      await page.getByRole('tab', { name: 'Audit log' }).click();
      await page.waitForURL(`${server.base}/settings/audit`);
      await page.getByRole('textbox', { name: 'Action' }).fill('user.created');
      const row = page.getByTestId('audit-row').first();
      await eventually(
        () => page.getByTestId('audit-row').count(),
        (n) => n === 2, // the admin (by `init`) and the Viewer
        'two user.created rows',
      );
      await row.click();
      const changes = await page.getByTestId('audit-changes').textContent();
      assert.match(changes ?? '', /"role": "Viewer"/);
      assert.match((await page.getByTestId('audit-details').textContent()) ?? '', /127\.0\.0\.1/);
    }));

  it('signs out', () =>
    step('sign-out', async () => {
      await signOut(page);
      assert.equal(await page.evaluate("localStorage.getItem('meridian.refresh_token')"), null);
      await page.goto(`${server.base}/settings/users`);
      await page.waitForURL(`${server.base}/login`);
    }));

  it('signs the Viewer in; Settings → Users has no "New user"', () =>
    step('viewer-sign-in', async () => {
      await signIn(page, VIEWER.email, VIEWER.password);
      await page.waitForURL(`${server.base}/settings/users`);
      const menu = page.getByRole('button', { name: 'User menu' });
      await eventually(
        () => menu.textContent(),
        (t) => (t ?? '').includes(VIEWER.name),
        'the Viewer in the menu',
      );
      await page.getByTestId('user-row').filter({ hasText: VIEWER.name }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'New user' }).count(), 0);
      // A Viewer's own role is shown, not editable; no role pickers at all
      assert.equal(await page.getByRole('combobox', { name: /^Role of/ }).count(), 0);
      const tabs = await page.getByRole('tab').allTextContents();
      // the built-in Viewer reads SLA policies too (read-only there)
      assert.deepEqual(tabs, ['Users', 'Roles', 'SLA & hours']);
    }));

  it('refuses /settings/api-keys with "You don\'t have access"', () =>
    step('refused', async () => {
      await page.goto(`${server.base}/settings/api-keys`);
      const refused = page.getByTestId('no-access');
      await refused.waitFor();
      assert.match((await refused.textContent()) ?? '', /You don't have access/);
      await screenshot(page, 'refused');
    }));

  it('answers a forbidden API call of the Viewer with 403, and audits it', async () => {
    const token = await server.token(VIEWER.email, VIEWER.password);
    const res = await server.api('POST', '/api/v1/users', {
      token,
      body: {
        email: 'mallory@acme.test',
        name: 'Mallory',
        password: 'Granite-Orchard-Kettle-93',
        role: 'Admin',
      },
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.body.code, 'forbidden');
    const admin = await server.token(ADMIN_EMAIL, ADMIN_PASSWORD);
    const audit = await server.api('GET', '/api/v1/audit?action=permission.denied', { token: admin });
    assert.equal(audit.status, 200);
    assert.ok(audit.body.data.length >= 1, 'the refusal is in the audit trail');
  });

  /** @type {string[]} */
  let recoveryCodes = [];

  it('lets the Viewer turn on two-step verification (QR code, secret, recovery codes)', () =>
    step('totp-enrol', async () => {
      await page.getByRole('button', { name: 'User menu' }).click();
      await page.getByRole('menuitem', { name: 'Security' }).click();
      await page.getByRole('button', { name: 'Set up two-step verification' }).click();
      await page.getByTestId('totp-qr').locator('svg').waitFor();
      const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s/g, '');
      assert.match(secret, /^[A-Z2-7]{16,}$/);
      await page.getByRole('textbox', { name: 'Code from the app' }).fill(totp(secret));
      await page.getByRole('button', { name: 'Turn on' }).click();
      const codes = page.getByTestId('recovery-codes');
      await codes.waitFor();
      recoveryCodes = (await codes.locator('code').allTextContents()).map((c) => c.trim());
      assert.ok(recoveryCodes.length >= 5, `recovery codes: ${recoveryCodes.join(', ')}`);
      await page.getByRole('button', { name: 'I have saved them' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
    }));

  it('asks the Viewer for a code at the next sign-in, and takes a recovery code', () =>
    step('totp-sign-in', async () => {
      await signOut(page);
      await signIn(page, VIEWER.email, VIEWER.password);
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await page.getByRole('textbox', { name: 'Authentication code' }).fill(recoveryCodes[0] ?? '');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${server.base}/`);
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    }));

  it('logged no errors in the browser and loaded nothing from other origins', () => {
    assert.deepEqual(browser?.foreignRequests, []);
    // The one expected refusal: the sign-in that answered "TOTP code required" (401).
    const unexpected = browser?.problems.filter((p) => !/status of 401 .*\/api\/v1\/auth\/login\)$/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
