// The npm package as a JavaScript user meets it: the root package.json resolves
// through its `exports`, its TypeScript types check a strict consumer (and reject a wrong one),
// esbuild bundles the consumer, and the bundle receives typed events in Chromium.
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/package.test.mjs
// (after `npm run build`; `npm test` does both).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, createRunner, launchBrowser, serveStatic, waitUntil, watchPageErrors } from './lib.mjs';

const PKG = REPO_ROOT;
const APP = join(REPO_ROOT, 'tests', 'package');
const OUT = join(REPO_ROOT, 'target', 'package-test');
const BIN = join(REPO_ROOT, 'node_modules', '.bin');

/** Runs a tool; resolves with its output, or throws with it. */
function run(tool, args, cwd = REPO_ROOT) {
  try {
    return execFileSync(join(BIN, tool), args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const error = new Error(`${tool} ${args.join(' ')} failed:\n${err.stdout || ''}${err.stderr || ''}`);
    error.output = `${err.stdout || ''}${err.stderr || ''}`;
    throw error;
  }
}

const runner = createRunner();
const base = await runner.startup({ paths: ['/scenario/log/package-test'] });
if (base) {
  await runner.check('the package resolves: package.json names wasm-eventsource with exports, types and files', async () => {
    const meta = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
    if (meta.name !== 'wasm-eventsource') throw new Error(`name is ${meta.name}`);
    for (const entry of ['.', './web']) {
      const target = meta.exports?.[entry];
      if (!target?.types || !target?.default) throw new Error(`exports[${entry}] lacks types or default`);
      for (const file of [target.types, target.default]) {
        if (!existsSync(join(PKG, file))) throw new Error(`exports[${entry}] points at missing ${file}`);
      }
    }
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files = new Set(packed[0].files.map((f) => f.path));
    for (const entry of Object.values(meta.exports)) {
      for (const file of typeof entry === 'string' ? [entry] : [entry.types, entry.default]) {
        if (!files.has(file.replace(/^\.\//, ''))) throw new Error(`npm pack would leave out ${file}`);
      }
    }
    // Install it the way `npm install ../wasm-eventsource` would: a link in node_modules.
    const link = join(APP, 'node_modules', 'wasm-eventsource');
    rmSync(link, { recursive: true, force: true });
    mkdirSync(join(APP, 'node_modules'), { recursive: true });
    symlinkSync(PKG, link, 'dir');
    return `${meta.name}@${meta.version}, npm pack: ${files.size} files`;
  }, { critical: true });

  await runner.check('tsc --noEmit --strict accepts the consumer', async () => {
    run('tsc', ['--noEmit', '-p', join(APP, 'tsconfig.json')]);
  });

  await runner.check('tsc rejects code the types rule out (the types are not `any`)', async () => {
    const wrong = join(APP, 'wrong.ts');
    writeFileSync(wrong, [
      'import { TypedEventSource } from "wasm-eventsource";',
      'const es = new TypedEventSource("/events", { transport: "carrier-pigeon" });',
      'es.onState((s) => s.attempt);',
      'es.on<{ n: number }>("x", (data) => data.missing);',
      '',
    ].join('\n'));
    try {
      run('tsc', ['--noEmit', '--strict', '--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2022', '--lib', 'es2022,dom,esnext.disposable', wrong]);
      throw new Error('tsc accepted code that must not type-check');
    } catch (err) {
      if (!err.output) throw err;
      // Exactly these errors, at these lines: an `any`-typed package would give other
      // codes (TS7006 implicit any, TS2347 untyped type arguments), an unresolved one
      // TS2307.
      const found = [...err.output.matchAll(/wrong\.ts\((\d+),\d+\): error (TS\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
      const expected = ['2:TS2322', '3:TS2339', '4:TS2339'];
      if (JSON.stringify(found) !== JSON.stringify(expected)) {
        throw new Error(`expected errors ${expected.join(', ')}, got ${found.join(', ') || 'none'}:\n${err.output}`);
      }
      return `rejected with ${found.join(', ')}`;
    } finally {
      rmSync(wrong, { force: true });
    }
  });

  await runner.check('esbuild bundles the consumer', async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    run('esbuild', [join(APP, 'app.ts'), '--bundle', '--format=esm', '--target=es2022', `--outfile=${join(OUT, 'app.js')}`, '--log-level=warning']);
    copyFileSync(join(APP, 'index.html'), join(OUT, 'index.html'));
    // The web build loads its wasm from next to the module (new URL(..., import.meta.url)).
    copyFileSync(join(PKG, 'pkg-web', 'wasm_eventsource_bg.wasm'), join(OUT, 'wasm_eventsource_bg.wasm'));
    const size = readFileSync(join(OUT, 'app.js')).length;
    return `app.js ${size} bytes`;
  });

  const browser = await launchBrowser();
  try {
    await runner.check('the bundle receives typed events, the decode error and the states in Chromium', async () => {
      const site = await serveStatic(OUT);
      const page = await browser.newPage();
      try {
        const errors = watchPageErrors(page);
        await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}`);
        const results = await waitUntil(page, 'the app to read its three events', () => {
          const r = window.results;
          return r && (r.done || r.error) && r;
        });
        if (results.error) throw new Error(`the app failed: ${results.error}`);
        const got = JSON.stringify(results.events);
        const want = JSON.stringify([
          { n: 1, type: 'message', lastEventId: '1' },
          { n: 3, type: 'message', lastEventId: '3' },
        ]);
        if (got !== want) throw new Error(`events ${got}, expected ${want}`);
        if (JSON.stringify(results.decodeErrors) !== JSON.stringify(['{not json'])) {
          throw new Error(`decode errors ${JSON.stringify(results.decodeErrors)}`);
        }
        const wantErrors = [/unknown option `transprt` in `options`/, /`options.heartbeatMs` must be a whole number .* got 1.5/, /`options.retry.jitter` must be true or false, got the string "yes"/];
        wantErrors.forEach((re, i) => {
          if (!re.test(results.optionErrors[i] || '')) throw new Error(`option error ${i}: "${results.optionErrors[i]}" does not match ${re}`);
        });
        const states = results.states.join(' → ');
        if (!states.startsWith('connecting 0 → open')) throw new Error(`states ${states}`);
        await waitUntil(page, 'the closed state after close()', () => window.results.states.includes('closed client'));
        const burst = await waitUntil(page, 'the 2,000-event bursts', () => window.results.burst || window.results.error);
        if (typeof burst !== 'object') throw new Error(`the burst failed: ${burst}`);
        const wantBurst = { first: 2000, second: 2000, checksum: 2001000, closedAt: 1000, afterClose: 0, badMeta: 0 };
        if (JSON.stringify(burst) !== JSON.stringify(wantBurst)) {
          throw new Error(`burst ${JSON.stringify(burst)}, expected ${JSON.stringify(wantBurst)}`);
        }
        const rest = await waitUntil(page, 'the drop-in, onRaw and iterator parts', () => (window.results.iterated || window.results.error) && window.results);
        if (rest.error) throw new Error(`the app failed: ${rest.error}`);
        const wantDropIn = {
          messages: [`{"n":2}||true`], chats: ['{"n":1}', '{"n":3}'], readyStates: [0, 1, 2], opened: true, constants: [0, 1, 2, 2],
        };
        if (JSON.stringify(rest.dropIn) !== JSON.stringify(wantDropIn)) {
          throw new Error(`drop-in ${JSON.stringify(rest.dropIn)}, expected ${JSON.stringify(wantDropIn)}`);
        }
        if (JSON.stringify(rest.raw) !== JSON.stringify(['{"n":1}', '{not json', '{"n":3}'])) throw new Error(`onRaw ${JSON.stringify(rest.raw)}`);
        if (JSON.stringify(rest.iterated) !== JSON.stringify([1, 3])) throw new Error(`events() ${JSON.stringify(rest.iterated)}`);
        const unexpected = errors.unexpected();
        if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
        return (await page.evaluate(() => window.results.states)).join(' → ');
      } finally {
        // Also on failure: an open server would keep this process, and npm test, alive.
        await page.close();
        await site.close();
      }
    });
  } finally {
    await browser.close();
  }
}
runner.finish();
