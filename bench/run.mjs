// The throughput benchmark's driver (`npm run bench` runs it through scripts/bench.sh).
//
// Serves target/bench (the page bundled by esbuild and the wasm reader package) from a
// small static server on 127.0.0.1, opens it in headless Chromium, and times six
// readers (five compared, plus a bytes-only ceiling) of the test server's `/scenario/burst/{n}?then=idle`, each on a fresh
// connection, in interleaved rounds of shuffled order. Prints a table of events/s with
// ratios against the two anchors measured in the same run, the target checks, and
// writes target/bench/results.json.
//
// Environment:
//   BENCH_SERVER       the test server's URL (required; scripts/bench.sh starts it)
//   BENCH_EVENTS       events per run (default 50000)
//   BENCH_ROUNDS       measured rounds (default 5)
//   BENCH_TIMEOUT_MS   limit for one run (default 120000)
//   BENCH_PARSER_LINE  the `cargo bench --bench parse` figure to include

import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/chromium.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SITE = join(ROOT, 'target', 'bench');

const READERS = [
  { id: 'browser-es', label: 'browser EventSource + JSON.parse' },
  { id: 'fetch-esp', label: 'fetch + eventsource-parser + JSON.parse' },
  { id: 'gloo', label: 'gloo-net EventSource + serde_json' },
  { id: 'ours-native', label: 'wasm-eventsource native (typed)' },
  { id: 'ours-fetch', label: 'wasm-eventsource fetch (typed)' },
  // Not an anchor: the ceiling of the fetch transport (bytes counted, nothing parsed).
  { id: 'fetch-bytes', label: 'fetch, bytes only (ceiling, no parsing)', reference: true },
];

function die(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

// A failure to report without a stack trace. Thrown, so that the browser is closed.
class BenchError extends Error {}
function fail(message) {
  throw new BenchError(message);
}

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) die(`${name} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return v;
}

const SERVER = (process.env.BENCH_SERVER || '').replace(/\/+$/, '');
if (!SERVER) die('BENCH_SERVER is not set (the test server URL; scripts/bench.sh sets it)');
const N = intEnv('BENCH_EVENTS', 50000);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_MS', 120000);
const WARMUP_N = Math.min(N, 5000);

// The server numbers the burst's events 1..=n.
const expectedChecksum = (n) => (n * (n + 1)) / 2;

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

function staticServer(root) {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/') {
      res.writeHead(302, { Location: '/page/index.html' });
      res.end();
      return;
    }
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}\n`);
    }
  });
  return new Promise((ok, ko) => {
    server.once('error', ko);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

function shuffle(xs) {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const fmtRatio = (x) => (x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`);
const fmtPct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const site = await staticServer(SITE);
  const pageUrl = `http://127.0.0.1:${site.address().port}/page/index.html`;
  // window.gc() between runs, so one reader's garbage is not collected in the next.
  const browser = await launchChromium(['--js-flags=--expose-gc']);
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(pageUrl);
    await page
      .waitForFunction(() => window.bench, null, { timeout: 30000 })
      .then(() => page.evaluate(() => window.bench.ready))
      .catch((e) => fail(`the bench page did not load: ${e}\n${pageErrors.join('\n')}`));


    const runOne = async (reader, n, tag) => {
      const url = `${SERVER}/scenario/burst/${n}?then=idle`;
      const out = await page.evaluate(
        ([id, url, n, timeout]) =>
          Promise.race([
            window.bench.run(id, url, n),
            new Promise((r) => setTimeout(() => r({ error: `timed out after ${timeout} ms` }), timeout)),
          ]),
        [reader.id, url, n, TIMEOUT_MS],
      );
      if (out.error) fail(`${reader.label} (${tag}) failed: ${out.error}`);
      const want = expectedChecksum(n);
      if (reader.reference && out.checksum === null) {
        if (out.count !== n) fail(`${reader.label} (${tag}): counted ${out.count} events, expected ${n}`);
      } else if (out.checksum !== want) {
        fail(`${reader.label} (${tag}): checksum ${out.checksum}, expected ${want} (sum of seq 1..=${n}): events were lost, repeated or misread`);
      }
      await page.evaluate(() => window.gc && window.gc());
      await sleep(100);
      return (n * 1000) / out.ms;
    };

    console.log(`chromium ${browser.version()}, ${N} events of 110 bytes per run, ${ROUNDS} rounds (+1 warm-up round of ${WARMUP_N})`);
    for (const r of shuffle(READERS)) await runOne(r, WARMUP_N, 'warm-up');
    for (const r of READERS) r.runs = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = shuffle(READERS);
      for (const r of order) r.runs.push(await runOne(r, N, `round ${round}`));
      console.log(`round ${round}/${ROUNDS}: ${order.map((r) => `${r.id} ${fmtInt(r.runs.at(-1))}/s`).join(', ')}`);
    }

    for (const r of READERS) {
      r.median = median(r.runs);
      r.min = Math.min(...r.runs);
      r.max = Math.max(...r.runs);
    }
    const byId = Object.fromEntries(READERS.map((r) => [r.id, r]));
    const anchorEs = byId['browser-es'].median;
    const anchorEsp = byId['fetch-esp'].median;
    for (const r of READERS) {
      r.vsBrowserEs = r.median / anchorEs;
      r.vsFetchEsp = r.median / anchorEsp;
    }

    // The table.
    const head = ['reader', 'median events/s', 'min–max events/s', 'vs browser ES', 'vs fetch+esp'];
    const rows = READERS.map((r) => [
      r.label, fmtInt(r.median), `${fmtInt(r.min)}–${fmtInt(r.max)}`, fmtRatio(r.vsBrowserEs), fmtRatio(r.vsFetchEsp),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log('');
    console.log(line(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));
    console.log('(events/s = events / time from constructing the reader to its last event; ratios of medians)');
    console.log('');

    // The targets: reported, never failing the command (timings are noisy).
    const target = (name, goal, value, shown, met) => ({ name, target: goal, value, met, shown });
    const native = byId['ours-native'].vsBrowserEs - 1;
    const targets = [
      target('fetch typed vs fetch+eventsource-parser', '>= 2x', byId['ours-fetch'].vsFetchEsp,
        fmtRatio(byId['ours-fetch'].vsFetchEsp), byId['ours-fetch'].vsFetchEsp >= 2),
      // "Within 10%" of the browser's EventSource: no more than 10% slower (faster is fine).
      target('native typed vs browser EventSource', 'within 10% (>= -10%)', native, fmtPct(native), native >= -0.1),
    ];
    for (const t of targets) console.log(`${t.name}: ${t.shown} (target ${t.target}): ${t.met ? 'met' : 'NOT met'}`);

    const parser = process.env.BENCH_PARSER_LINE || null;
    if (parser) console.log(`parser alone (native, cargo bench --bench parse): ${parser}`);
    if (pageErrors.length) console.log(`page errors:\n  ${pageErrors.join('\n  ')}`);

    const results = {
      date: new Date().toISOString(),
      chromium: browser.version(),
      events: N,
      eventBytes: 110,
      rounds: ROUNDS,
      warmupEvents: WARMUP_N,
      expectedChecksum: expectedChecksum(N),
      readers: READERS.map((r) => ({
        id: r.id,
        label: r.label,
        ...(r.reference ? { reference: true } : {}),
        eventsPerSec: r.runs, median: r.median, min: r.min, max: r.max, vsBrowserEventSource: r.vsBrowserEs, vsFetchEventsourceParser: r.vsFetchEsp,
      })),
      targets: targets.map(({ shown, ...t }) => t),
      parser,
    };
    const out = join(SITE, 'results.json');
    await writeFile(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`results: ${out.slice(ROOT.length + 1)}`);
  } finally {
    await browser.close();
    site.close();
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof BenchError ? e.message : e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
});
