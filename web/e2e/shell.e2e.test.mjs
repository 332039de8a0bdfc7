// Browser end-to-end test of the web shell, served by the real `meridian` binary.
//
//   npm run build && MERIDIAN_BIN=/path/to/meridian npm run e2e
//
// Starts `$MERIDIAN_BIN serve` on a free loopback port against a fresh SQLite file, with
// MERIDIAN_WEB_DIR pointing at web/dist, and drives Debian's Chromium (playwright-core never
// downloads a browser). The server is always stopped at the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';

const WEB_DIR = resolve(import.meta.dirname, '..');
const DIST = join(WEB_DIR, 'dist');
const RESULTS = join(WEB_DIR, 'test-results');
const CHROMIUM = process.env.MERIDIAN_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STEP_TIMEOUT = 30_000;

/** Fails fast, with what to do, when something the test needs is missing. */
function preflight() {
  const bin = process.env.MERIDIAN_BIN;
  if (!bin) {
    throw new Error(
      'MERIDIAN_BIN is not set. Build the server and point the e2e test at it, e.g.\n' +
        '  cargo build -p server && MERIDIAN_BIN=/path/to/target/debug/meridian npm --prefix web run e2e',
    );
  }
  const binPath = resolve(bin);
  if (!existsSync(binPath)) throw new Error(`MERIDIAN_BIN=${bin}: no such file (build the server first)`);
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run \`npm run build\` in web/ first`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  return binPath;
}

/** A port the kernel just handed out on 127.0.0.1, released again for the server to take. */
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') res(addr.port);
        else rej(new Error('could not get a free port'));
      });
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The running server: its child process, base URL and everything it printed. */
class MeridianServer {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  child;
  output = '';
  base = '';
  exited = false;

  /** @param {string} bin @param {string} dataDir */
  async start(bin, dataDir) {
    // A port from freePort() can be taken by someone else before the server binds it: retry.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      this.base = `http://127.0.0.1:${port}`;
      this.output = '';
      this.exited = false;
      const args = [
        'serve',
        '--addr',
        `127.0.0.1:${port}`,
        '--database-url',
        `sqlite://${join(dataDir, 'e2e.db')}`,
      ];
      const child = spawn(bin, args, {
        env: { ...process.env, MERIDIAN_WEB_DIR: DIST },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      child.stdout?.on('data', (d) => (this.output += d));
      child.stderr?.on('data', (d) => (this.output += d));
      child.on('exit', () => (this.exited = true));
      child.on('error', (e) => {
        this.output += `\nspawn error: ${e.message}`;
        this.exited = true;
      });
      if (await this.waitForHealth(30_000)) return;
      await this.stop();
      if (attempt === 3 || !/in use|AddrInUse|address already/i.test(this.output)) {
        throw new Error(
          `meridian did not answer GET /health within 30 s (attempt ${attempt}).\n` +
            `command: ${bin} ${args.join(' ')}\n--- server output ---\n${this.output.slice(-4000)}`,
        );
      }
    }
  }

  /** @param {number} timeoutMs */
  async waitForHealth(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.exited) {
      try {
        const res = await fetch(`${this.base}/health`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return true;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    return false;
  }

  async stop() {
    const child = this.child;
    if (!child || this.exited || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }

  /** Synchronous last resort, for process exit paths. */
  killNow() {
    if (this.child && !this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Polls `read` until `check` accepts its value; fails with the last value seen.
 * @template T
 * @param {() => Promise<T>} read
 * @param {(v: T) => boolean} check
 * @param {string} what
 */
async function eventually(read, check, what, timeoutMs = STEP_TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  /** @type {T | undefined} */
  let last;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (e) {
      last = /** @type {T} */ (
        /** @type {unknown} */ (`error: ${e instanceof Error ? e.message : String(e)}`)
      );
    }
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

const server = new MeridianServer();
const problems = /** @type {string[]} */ ([]);
const foreignRequests = /** @type {string[]} */ ([]);
/** @type {import('playwright-core').BrowserContext | undefined} */
let context;
/** @type {import('playwright-core').Page} */
let page;
let dataDir = '';
let profileDir = '';
/** @type {{status: string, version: string}} */
let health;

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    server.killNow();
    process.exit(130);
  });
}
process.once('exit', () => server.killNow());

/**
 * Runs a step; on failure saves a screenshot named after it before rethrowing.
 * @param {string} name
 * @param {() => Promise<void>} fn
 */
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    if (page) {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, `failed-${name}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  }
}

describe('web shell served by meridian', { timeout: 180_000 }, () => {
  before(async () => {
    const bin = preflight();
    dataDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-'));
    profileDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-chromium-'));
    await server.start(bin, dataDir);
    health = /** @type {{status: string, version: string}} */ (
      await (await fetch(`${server.base}/health`)).json()
    );

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'UTC',
      colorScheme: 'light',
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(server.base).origin;
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => {
      // aborted polls during navigation are normal
      if (req.failure()?.errorText !== 'net::ERR_ABORTED') {
        problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
      }
    });
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) {
        foreignRequests.push(url);
      }
    });
  });

  after(async () => {
    await context?.close().catch(() => {});
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('loads the shell at / with the header and navigation for every module', () =>
    step('home', async () => {
      const res = await page.goto(`${server.base}/`);
      assert.equal(res?.status(), 200);
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

      mkdirSync(RESULTS, { recursive: true });
      await page.mouse.move(900, 860); // no hover effect on the nav link just clicked
      await page.screenshot({ path: join(RESULTS, 'status.png'), fullPage: true });
    }));

  it('serves client routes on a deep link (/crm)', () =>
    step('deep-link', async () => {
      const res = await page.goto(`${server.base}/crm`);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()['content-type'] ?? '', /text\/html/);
      await page.getByRole('heading', { level: 1, name: 'CRM' }).waitFor();
      await page.getByTestId('coming-soon').waitFor();
      assert.match((await page.getByTestId('coming-soon').textContent()) ?? '', /Coming soon/);
      assert.equal(await page.title(), 'CRM · Meridian');
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'crm.png') });
    }));

  it("shows the app's 404 page for an unknown client route", () =>
    step('not-found', async () => {
      await page.goto(`${server.base}/no/such/page`);
      await page.getByTestId('not-found').waitFor();
      assert.match((await page.getByTestId('not-found').textContent()) ?? '', /404.*\/no\/such\/page/s);
      assert.equal(await page.title(), 'Page not found · Meridian');
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
    assert.deepEqual(foreignRequests, [], 'every asset is self-hosted');
    assert.deepEqual(problems, [], 'no console errors, page errors (e.g. CSP violations) or failed requests');
  });
});
