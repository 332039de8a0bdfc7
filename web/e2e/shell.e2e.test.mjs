// Browser end-to-end test of the web shell, served by the real `meridian` binary.
//
//   npm run build && MERIDIAN_BIN=/path/to/meridian npm run e2e
//
// Creates keys and an organisation with its admin in a temporary directory, starts
// `$MERIDIAN_BIN serve` on a free loopback port with MERIDIAN_WEB_DIR pointing at web/dist,
// and drives Debian's Chromium (playwright-core never downloads a browser). The server is
// always stopped at the end. Helpers: ./support.mjs.
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
/** @type {{status: string, version: string}} */
let health;

/** @param {string} name @param {() => Promise<void>} fn */
const step = (name, fn) => runStep(() => page, name, fn);

describe('web shell served by meridian', { timeout: 180_000 }, () => {
  before(async () => {
    const bin = preflight();
    await server.setUp(bin);
    health = /** @type {{status: string, version: string}} */ (
      await (await fetch(`${server.base}/health`)).json()
    );
    browser = await openBrowser(server.base);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server.tearDown();
  });

  it('sends a signed-out visitor to the sign-in page, and back after signing in', () =>
    step('sign-in', async () => {
      const res = await page.goto(`${server.base}/`);
      assert.equal(res?.status(), 200);
      await page.waitForURL(`${server.base}/login`);
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      assert.equal(await page.title(), 'Sign in · Meridian');
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/`);
    }));

  it('loads the shell at / with the header and navigation for every module', () =>
    step('home', async () => {
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      assert.equal(await page.title(), 'Dashboard · Meridian');
      assert.match((await page.getByRole('banner').textContent()) ?? '', /Meridian/);
      await page.getByRole('button', { name: 'User menu' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Main navigation' });
      for (const label of [
        'Dashboard',
        'CRM',
        'Helpdesk',
        'Supply',
        'Sales',
        'Assets',
        'Analytics',
        'Settings',
      ]) {
        await nav.getByRole('link', { name: label, exact: true }).waitFor();
      }
      const favicon = await page.locator('link[rel="icon"]').getAttribute('href');
      assert.ok(favicon, 'page has a favicon');
      const iconRes = await fetch(new URL(favicon, server.base));
      assert.equal(iconRes.status, 200, `favicon ${favicon} is served`);
    }));

  it('navigates to Status from the navigation and shows version and readiness', () =>
    step('status', async () => {
      const nav = page.getByRole('navigation', { name: 'Main navigation' });
      await nav.getByRole('link', { name: 'Status', exact: true }).click();
      await page.waitForURL(`${server.base}/status`);
      await page.getByRole('heading', { level: 1, name: 'Status' }).waitFor();
      assert.equal(await page.title(), 'Status · Meridian');

      const version = await eventually(
        () => page.getByTestId('server-version').textContent(),
        (t) => t === `v${health.version}`,
        `the version v${health.version}`,
      );
      assert.equal(version, `v${health.version}`);
      await eventually(
        () => page.getByTestId('readiness-status').textContent(),
        (t) => t === 'ready',
        'readiness "ready"',
      );
      await eventually(
        () => page.getByTestId('database').textContent(),
        (t) => t === 'sqlite',
        'database sqlite',
      );
      // Wait for a second poll (every 5 s) so the latency chart draws a line.
      await eventually(
        () => page.getByTestId('latency').locator('xpath=..').textContent(),
        (t) => /over [2-9]\d* polls/.test(t ?? ''),
        'a second readiness poll',
        15_000,
      );
      const paths = await page.getByTestId('echart').locator('svg path').count();
      assert.ok(paths > 0, 'the latency chart drew something');
      await page.mouse.move(900, 860); // no hover effect on the nav link just clicked
      await screenshot(page, 'status', true);
    }));

  it('serves client routes on a deep link (/crm), keeping the session across the reload', () =>
    step('deep-link', async () => {
      const res = await page.goto(`${server.base}/crm`);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()['content-type'] ?? '', /text\/html/);
      await page.getByRole('heading', { level: 1, name: 'CRM' }).waitFor();
      // the CRM opens on the pipeline board (its own test: crm.e2e.test.mjs)
      await page.getByRole('tab', { name: 'Pipeline', selected: true }).waitFor();
      await page.getByTestId('board-column').first().waitFor();
      assert.equal(await page.title(), 'Pipeline · CRM · Meridian');
      await screenshot(page, 'crm');
    }));

  it("shows the app's 404 page for an unknown client route", () =>
    step('not-found', async () => {
      await page.goto(`${server.base}/no/such/page`);
      await page.getByTestId('not-found').waitFor();
      assert.match((await page.getByTestId('not-found').textContent()) ?? '', /404.*\/no\/such\/page/s);
      assert.equal(await page.title(), 'Page not found · Meridian');
    }));

  it('keeps the status page public', () =>
    step('public-status', async () => {
      // Forget the session (the refresh token is all a reload keeps), look, sign back in.
      await page.evaluate('localStorage.clear()');
      await page.goto(`${server.base}/status`);
      await page.getByRole('heading', { level: 1, name: 'Status' }).waitFor();
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/status');
      await page.goto(`${server.base}/crm`);
      await page.waitForURL(`${server.base}/login`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.waitForURL(`${server.base}/crm`);
    }));

  it('keeps unknown /api paths as problem+json, not the app', async () => {
    const res = await fetch(`${server.base}/api/v1/no-such-thing`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  });

  it('loaded nothing from other origins and logged no errors', async () => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(browser?.foreignRequests, [], 'every asset is self-hosted');
    assert.deepEqual(
      browser?.problems,
      [],
      'no console errors, page errors (e.g. CSP violations) or failed requests',
    );
  });
});
