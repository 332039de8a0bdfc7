// Shared helpers of the browser end-to-end tests: a fresh `meridian` (keys, organisation,
// admin) on a free loopback port, Debian's Chromium through playwright-core, and steps that
// leave a screenshot behind when they fail. Not a test file itself (no `.e2e.test.mjs`).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const WEB_DIR = resolve(import.meta.dirname, '..');
export const DIST = join(WEB_DIR, 'dist');
export const RESULTS = join(WEB_DIR, 'test-results');
export const CHROMIUM = process.env.MERIDIAN_CHROMIUM ?? '/usr/bin/chromium';
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
export const STEP_TIMEOUT = 30_000;

/** The first organisation and its admin, as `meridian init` creates them. */
export const ORG_NAME = 'Acme Test';
export const ADMIN_EMAIL = 'admin@acme.test';
// ≥ 12 characters and not in the server's list of common passwords.
export const ADMIN_PASSWORD = 'Quartz-Lantern-Harbour-7351';

/** Fails fast, with what to do, when something the test needs is missing. */
export function preflight() {
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
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a CLI command of the binary to completion; fails with its output otherwise.
 * @param {string} bin @param {string[]} args @param {Record<string, string>} env
 */
function run(bin, args, env) {
  const result = spawnSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(
      `\`meridian ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** The running server: its child process, base URL and everything it printed. */
export class MeridianServer {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  child;
  output = '';
  base = '';
  exited = false;
  dataDir = '';
  /** Environment every command gets (the key file). @type {Record<string, string>} */
  env = {};

  get databaseUrl() {
    return `sqlite://${join(this.dataDir, 'e2e.db')}`;
  }

  /**
   * A fresh data directory with keys (`keys generate`) and an organisation with its admin
   * (`init`), then `serve`.
   * @param {string} bin
   */
  async setUp(bin) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-'));
    const keyFile = join(this.dataDir, 'keys.toml');
    writeFileSync(keyFile, run(bin, ['keys', 'generate'], {}), { mode: 0o600 });
    this.env = { MERIDIAN_KEY_FILE: keyFile };
    run(
      bin,
      ['init', '--org-name', ORG_NAME, '--admin-email', ADMIN_EMAIL, '--database-url', this.databaseUrl],
      { ...this.env, MERIDIAN_ADMIN_PASSWORD: ADMIN_PASSWORD },
    );
    await this.start(bin);
  }

  /** @param {string} bin */
  async start(bin) {
    // A port from freePort() can be taken by someone else before the server binds it: retry.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      this.base = `http://127.0.0.1:${port}`;
      this.output = '';
      this.exited = false;
      const args = ['serve', '--addr', `127.0.0.1:${port}`, '--database-url', this.databaseUrl];
      const child = spawn(bin, args, {
        // attachments in the data directory too, so they go with it (the default is ./data)
        env: {
          ...process.env,
          MERIDIAN_ATTACHMENTS_DIR: join(this.dataDir, 'attachments'),
          ...this.env,
          MERIDIAN_WEB_DIR: DIST,
        },
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

  /** Stops the server and removes its data directory. */
  async tearDown() {
    await this.stop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Synchronous last resort, for process exit paths. */
  killNow() {
    if (this.child && !this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /**
   * Calls the API directly (not through the browser).
   * @param {string} method @param {string} path @param {{token?: string, body?: unknown}} [options]
   */
  async api(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    /** @type {any} */
    let body = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** An access token for these credentials, straight from the API. @param {string} email @param {string} password */
  async token(email, password) {
    const res = await this.api('POST', '/api/v1/auth/login', { body: { email, password } });
    assert.equal(res.status, 200, `sign-in of ${email}: ${JSON.stringify(res.body)}`);
    return /** @type {string} */ (res.body.access_token);
  }
}

/** Kills the server when the test process is interrupted or exits. @param {MeridianServer} server */
export function killOnExit(server) {
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => {
      server.killNow();
      process.exit(130);
    });
  }
  process.once('exit', () => server.killNow());
}

/**
 * Polls `read` until `check` accepts its value; fails with the last value seen.
 * @template T
 * @param {() => Promise<T>} read
 * @param {(v: T) => boolean} check
 * @param {string} what
 */
export async function eventually(read, check, what, timeoutMs = STEP_TIMEOUT) {
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

/**
 * Chromium with a fresh profile, and a page that records console errors, page errors,
 * failed requests and requests to other origins.
 * @param {string} base
 */
export async function openBrowser(base) {
  const profileDir = mkdtempSync(join(tmpdir(), 'meridian-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
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
  const page = context.pages()[0] ?? (await context.newPage());
  const origin = new URL(base).origin;
  const problems = /** @type {string[]} */ ([]);
  const foreignRequests = /** @type {string[]} */ ([]);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()} (${msg.location().url})`);
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
  return {
    context,
    page,
    problems,
    foreignRequests,
    async close() {
      await context.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** @param {import('playwright-core').Page} page @param {string} name */
export async function screenshot(page, name, fullPage = false) {
  mkdirSync(RESULTS, { recursive: true });
  await page.mouse.move(1, 899); // no hover effect on whatever was clicked last
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage });
}

/**
 * Runs a step; on failure saves a screenshot named after it before rethrowing.
 * @param {() => import('playwright-core').Page | undefined} getPage
 * @param {string} name
 * @param {() => Promise<void>} fn
 */
export async function step(getPage, name, fn) {
  try {
    await fn();
  } catch (e) {
    const page = getPage();
    if (page) {
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, `failed-${name}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  }
}

/**
 * Signs in through the sign-in page (the page must be on /login).
 * @param {import('playwright-core').Page} page @param {string} email @param {string} password
 */
export async function signIn(page, email, password) {
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Email').fill(email);
  await form.getByRole('textbox', { name: 'Password' }).fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs out through the user menu. @param {import('playwright-core').Page} page */
export async function signOut(page) {
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
}

/**
 * The current TOTP code of a base32 secret (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits).
 * @param {string} secret @param {number} [at] ms since the epoch
 */
export function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}
