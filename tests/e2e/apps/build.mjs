// Shared by the front-end e2e tests (react, vue, workers): the packed package
// installed into a small app copied from tests/e2e/apps/<name>/, a Vite build of it,
// and the test server's controls and records those tests read.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, waitUntil } from '../lib.mjs';

const WORK = join(REPO_ROOT, 'target', 'frontends');
const APPS = join(REPO_ROOT, 'tests', 'e2e', 'apps');

/** `npm pack`s the package into target/frontends/ (once per process); the tarball. */
let tarball = null;
export function pack() {
  if (tarball) return tarball;
  mkdirSync(WORK, { recursive: true });
  const out = execFileSync('npm', ['pack', '--pack-destination', WORK, '--ignore-scripts', '--json'], {
    cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [{ filename }] = JSON.parse(out);
  tarball = join(WORK, filename);
  if (!existsSync(tarball)) throw new Error(`npm pack made no ${tarball}`);
  return tarball;
}

/**
 * Copies tests/e2e/apps/`name` to target/frontends/`name` and unpacks the tarball into
 * its node_modules/wasm-eventsource, as npm install does for a package with no
 * dependencies. React, Vue and Vite resolve from the repository's node_modules (the
 * app lies under it). Resolves with the app's directory.
 */
export function makeApp(name) {
  const app = join(WORK, name);
  rmSync(app, { recursive: true, force: true });
  cpSync(join(APPS, name), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `app-${name}`, private: true, type: 'module' }));
  const target = join(app, 'node_modules', 'wasm-eventsource');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', pack(), '-C', target, '--strip-components=1']);
  return app;
}

/** Builds `app` with Vite (`config` merged in); resolves with the output directory. */
export async function viteBuild(app, config = {}) {
  const { build } = await import('vite');
  const outDir = join(app, 'dist');
  await build({
    root: app,
    logLevel: 'error',
    configFile: false,
    ...config,
    build: { outDir, emptyOutDir: true, ...(config.build || {}) },
  });
  return outDir;
}

/** The test server's controls and records, for `base`. */
export function serverControls(base) {
  const json = async (path, init) => {
    const response = await fetch(`${base}${path}`, init);
    if (!response.ok) throw new Error(`${init?.method || 'GET'} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  const controls = {
    /** Publishes `data` as an event of `event` on `channel`. */
    publish: (channel, event, data) => json('/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, event, data }),
    }),
    /** The next `count` connections to `channel` are answered with `status`. */
    fail: (channel, status, count = 1) => json(`/control/fail?channel=${encodeURIComponent(channel)}&status=${status}&count=${count}`, { method: 'POST' }),
    /** Ends every open stream of `channel` (clients reconnect). */
    drop: (channel) => json(`/control/drop?channel=${encodeURIComponent(channel)}`, { method: 'POST' }),
    /** The `/events` streams of `channel` open now, as the server counts them. */
    open: async (channel) => (await json('/stats')).perChannel[channel] || 0,
    /** The request log of a scenario `token`. */
    log: (token) => json(`/scenario/log/${encodeURIComponent(token)}`),
    /** Waits until `(await read()) === want`, polling the server; says what it saw. */
    until: async (what, read, want, ms = 15_000) => {
      const end = Date.now() + ms;
      let got;
      for (;;) {
        got = await read();
        if (JSON.stringify(got) === JSON.stringify(want)) return got;
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
  return controls;
}

/**
 * The React and Vue apps' failure check: `channel`'s next connection gets a 404, which
 * must show in `#error` (`kind:reason`), and in `#late-error` of a second user of the
 * connection mounted after it (`window.app.setLate`); `reconnect()` that opens again
 * must clear both. `errors` (watchPageErrors) is told to expect the 404.
 */
export async function checkFailureShownAndCleared({ page, server, channel, errors, who }) {
  errors.allow(new RegExp(`status of 404 \\(Not Found\\) \\S*channel=${channel}&`));
  await server.fail(channel, 404);
  await server.drop(channel);
  await waitUntil(page, 'the badge to say closed', () => document.querySelector('#badge')?.textContent === 'closed');
  const error = await page.textContent('#error');
  if (error !== 'closed:http-status') throw new Error(`the failure set error ${JSON.stringify(error)}`);
  await page.evaluate(() => window.app.setLate(true));
  await waitUntil(page, `the late ${who}`, () => document.querySelector('#late-badge')?.textContent === 'closed');
  const late = await page.textContent('#late-error');
  if (late !== 'closed:http-status') throw new Error(`the ${who} that joined later shows error ${JSON.stringify(late)}`);
  await page.evaluate(() => window.controls.reconnect());
  await waitUntil(page, 'the badges to say open', () => document.querySelector('#badge')?.textContent === 'open' && document.querySelector('#late-badge')?.textContent === 'open');
  const after = await page.evaluate(() => [document.querySelector('#error').textContent, document.querySelector('#late-error').textContent]);
  if (JSON.stringify(after) !== '["",""]') throw new Error(`open again, the errors show ${JSON.stringify(after)}`);
  await page.evaluate(() => window.app.setLate(false));
}

/**
 * Mounts the app's refused view (React's `Refused`, Vue's `Refused.vue`) with the
 * options `setOptions` puts in `window.refusedOptions` (it runs in the page), and
 * returns what its `error` shows; unmounts it after.
 */
export async function showRefused(page, setOptions) {
  await page.evaluate(setOptions);
  await page.evaluate(() => window.app.setRefused(true));
  const shown = await waitUntil(page, 'the refused view', () => document.querySelector('#refused-error')?.textContent);
  await page.evaluate(() => {
    window.app.setRefused(false);
    delete window.refusedOptions;
  });
  return shown;
}
