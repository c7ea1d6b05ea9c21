// Shared helpers for the end-to-end tests: start-up checks, the browser, a
// pass/fail counter and a watch on console and page errors.
//
// Every e2e file follows the same shape:
//
//   const run = createRunner();
//   const base = await run.startup({ paths: ['/'] });      // null when set-up failed
//   if (base) {
//     const browser = await launchBrowser();
//     try { ...; await run.check('what it checks', async () => { ... }); }
//     finally { await browser.close(); }
//   }
//   run.finish();                                           // summary line + exit code
//
// While working on one check, `E2E_ONLY=<regex>` runs only the checks whose title
// matches it (and the start-up and critical ones); the others are not counted.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from '../../scripts/chromium.mjs';

export { launchChromium as launchBrowser } from '../../scripts/chromium.mjs';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Upper bound for one check, so a hung step fails instead of hanging the run. */
const CHECK_TIMEOUT_MS = 90_000;

/** A path under target/e2e/ (created if needed) for screenshots and other artefacts. */
export function artifactPath(name) {
  const dir = join(REPO_ROOT, 'target', 'e2e');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** A string no earlier run produced, for messages a test must find again. */
export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Waits until `predicate(arg)` is truthy in the page; a timeout becomes an error that
 * says what was awaited. Resolves with the predicate's value.
 */
export async function waitUntil(page, what, predicate, arg, timeout = 15_000) {
  try {
    const handle = await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
    const value = await handle.jsonValue();
    await handle.dispose();
    return value;
  } catch (err) {
    if (err && err.name === 'TimeoutError') {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    throw err;
  }
}

/**
 * Collects uncaught page errors and console `error` messages. `allow(pattern)` lets
 * through messages the test itself provokes (matched against "text url").
 */
export function watchPageErrors(page) {
  const allowed = [];
  const unexpected = [];
  const tolerated = [];
  const consider = (entry) => {
    const line = `${entry.text} ${entry.url || ''}`;
    if (allowed.some((pattern) => pattern.test(line))) tolerated.push(entry);
    else unexpected.push(entry);
  };
  page.on('pageerror', (err) => unexpected.push({ kind: 'pageerror', text: String(err && err.stack || err) }));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    consider({ kind: 'console', text: msg.text(), url: msg.location().url });
  });
  return {
    allow(pattern) { allowed.push(pattern); },
    unexpected() { return unexpected.slice(); },
    tolerated() { return tolerated.slice(); },
  };
}

/** The pass/fail counter. One line per check, then `e2e: N passed, M failed`. */
export function createRunner() {
  let passed = 0;
  let failed = 0;
  let stopped = false;

  async function check(title, fn, { critical = false, timeout = CHECK_TIMEOUT_MS } = {}) {
    const only = process.env.E2E_ONLY;
    if (only && !critical && !title.startsWith('start-up') && !new RegExp(only).test(title)) return undefined;
    if (stopped) {
      console.log(`skip  ${title} (an earlier critical check failed)`);
      return undefined;
    }
    let timer;
    try {
      const limit = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`check took longer than ${timeout} ms`)), timeout);
      });
      const note = await Promise.race([fn(), limit]);
      passed += 1;
      console.log(`ok    ${title}${note ? ` (${note})` : ''}`);
      return true;
    } catch (err) {
      failed += 1;
      const message = String(err && err.message || err).split('\n').join('\n      ');
      console.log(`FAIL  ${title}: ${message}`);
      if (critical) stopped = true;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Set-up that must hold before a browser is worth starting: E2E_BASE_URL, the
   * Chromium binary, playwright-core, and the server answering 200 on `paths`.
   * Counted as one check; resolves with the base URL (no trailing slash) or null.
   */
  async function startup({ paths = ['/'] } = {}) {
    let base = null;
    const ok = await check('start-up: base URL, Chromium, playwright-core, server', async () => {
      const raw = process.env.E2E_BASE_URL;
      if (!raw) throw new Error('E2E_BASE_URL is not set (the test script starts the server and sets it)');
      const url = new URL(raw);
      if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (run npm run setup)`);
      try {
        await import('playwright-core');
      } catch (err) {
        throw new Error(`playwright-core is not installed (run npm run setup): ${err.message}`);
      }
      const root = url.href.replace(/\/+$/, '');
      for (const path of paths) {
        let response;
        try {
          response = await fetch(root + path, { signal: AbortSignal.timeout(10_000) });
        } catch (err) {
          throw new Error(`GET ${root}${path} failed: ${err.message}`);
        }
        await response.body?.cancel();
        if (!response.ok) throw new Error(`GET ${root}${path} answered HTTP ${response.status}`);
      }
      base = root;
      return root;
    });
    if (!ok) stopped = true;
    return base;
  }

  function finish() {
    console.log(`e2e: ${passed} passed, ${failed} failed`);
    process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
  }

  return { check, startup, finish };
}

/**
 * Serves `dir` on a loopback port (a real one: Chromium lets only a page on a loopback
 * address reach the loopback test server), never a file outside it. With `proxy` (an
 * origin), what is not a file is forwarded there, streamed both ways: a page served
 * here then reaches that server same-origin. `headers`: more response headers for
 * every file (a policy no `<meta>` can set, such as a report-only CSP). Resolves with
 * { origin, close }.
 */
export function serveStatic(dir, { proxy, headers = {} } = {}) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) || !existsSync(file)) {
      if (proxy) forward(req, res, proxy);
      else res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': types[extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      origin: `http://127.0.0.1:${server.address().port}`,
      // A stream forwarded by `proxy` stays open: close() must not wait for it.
      close: () => new Promise((done) => {
        server.close(done);
        server.closeAllConnections();
      }),
    }));
  });
}

/** Forwards one request to `origin`, and its answer back, as they stream; a side that
 *  goes away ends the other (a page's abort reaches the server). */
function forward(req, res, origin) {
  const url = new URL(req.url, origin);
  const upstream = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
    res.writeHead(answer.statusCode, answer.statusMessage, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** A loopback port that is free now (for a process a test starts on it at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `cmd` with `args`; resolves with `{ child, hit }` once `ready(line)` returns
 * something truthy (`hit`) for a line it printed. Rejects, killing it, if it exits
 * first or takes 15 s. Its output is then read and dropped, so its pipes never fill.
 */
export function startProcess(cmd, args, ready, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start:\n${out}`));
    }, 15_000);
    const onData = (chunk) => {
      out += chunk;
      for (const line of out.split('\n')) {
        const hit = ready(line);
        if (hit) {
          done();
          child.stdout.resume();
          child.stderr.resume();
          resolve({ child, hit });
          return;
        }
      }
    };
    const onExit = (code) => {
      done();
      reject(new Error(`${what} exited (${code}):\n${out}`));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
}
