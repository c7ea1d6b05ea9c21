// The package in workers: a Vite app (tests/e2e/apps/workers, module workers) built
// from the packed tarball starts a dedicated worker, a SharedWorker and a Service
// Worker, each importing `wasm-eventsource` by name (with no EventSource, the Service
// Worker's default transport must be fetch). Each must get a published event
// exactly once, and closing each must end its stream (the server's /stats count).
// The Service Worker removes EventSource from its global first (Chromium's has one,
// other browsers' have none), then puts TypedEventSource there as a drop-in and opens
// its source through it. Also a page that uses a source as the package's module
// graph runs, before the wasm is ready (the package loads it without a top-level
// await, which Chromium refuses in a Service Worker).
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/workers.test.mjs
// (after `npm run build`; `npm test` does both).

import { join } from 'node:path';
import { createRunner, artifactPath, launchBrowser, serveStatic, unique, waitUntil, watchPageErrors } from './lib.mjs';
import { makeApp, serverControls, viteBuild } from './apps/build.mjs';

const WHO = ['dedicated', 'shared', 'service'];

const runner = createRunner();
const base = await runner.startup({ paths: ['/stats'] });
if (base) {
  const server = serverControls(base);
  let dist = null;
  await runner.check('Vite builds the workers app from the packed tarball (module workers)', async () => {
    const app = makeApp('workers');
    dist = await viteBuild(app, {
      worker: { format: 'es' },
      build: { rollupOptions: { input: { main: join(app, 'index.html'), loading: join(app, 'loading.html') } } },
    });
  }, { critical: true });

  const browser = await launchBrowser();
  const site = dist ? await serveStatic(dist) : null;
  try {
    const channel = unique('workers');
    let page = null;
    let errors = null;
    const failures = () => page.evaluate(() => window.failures);

    await runner.check('a dedicated worker, a SharedWorker and a Service Worker each open a stream', async () => {
      page = await browser.newPage();
      errors = watchPageErrors(page);
      await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${channel}`);
      // Until all three are open, or one fails or closes: then say what each did.
      let settled = false;
      try {
        settled = await waitUntil(page, 'all three to be open', (who) =>
          who.every((w) => window.states[w].includes('open')) || window.failures.length || who.some((w) => window.states[w].includes('closed')), WHO) === true;
      } finally {
        if (!settled) {
          const seen = await page.evaluate((who) => who.map((w) => `${w}: ${window.states[w].join(' → ') || 'nothing'}`), WHO);
          throw new Error([...(await failures()), ...seen].join('\n'));
        }
      }
      await server.until(`three open streams on ${channel}`, () => server.open(channel), 3);
      const notes = await page.evaluate(() => window.notes);
      if (!notes.some((n) => /^service: EventSource: .*, now undefined$/.test(n))) throw new Error(`the service worker had EventSource: ${notes}`);
      if (!notes.includes('service: drop-in before the wasm: no error')) throw new Error(`TypedEventSource as the service worker's EventSource: ${notes}`);
      return [...notes, ...(await page.evaluate((who) => who.map((w) => `${w}: ${window.states[w].join(' → ')}`), WHO))].join('; ');
    }, { critical: true });

    await runner.check('each receives a published typed event exactly once', async () => {
      await server.publish(channel, 'chat', { n: 1, text: 'to every worker' });
      // A second event as a marker: once it is in, a duplicate of the first would be too.
      await server.publish(channel, 'chat', { n: 2, text: 'marker' });
      const received = await waitUntil(page, 'the marker in all three', (who) => who.every((w) => window.received[w].some((d) => d.n === 2)) && window.received, WHO);
      for (const who of WHO) {
        const got = received[who].map((d) => `${d.n}:${d.text}`);
        if (JSON.stringify(got) !== JSON.stringify(['1:to every worker', '2:marker'])) throw new Error(`${who} received ${JSON.stringify(got)}`);
      }
      // Regression: `onAny` threw "needs the fetch transport" in a Service Worker,
      // whose default transport is fetch, when the wasm was ready at construction.
      const notes = await waitUntil(page, "the service worker's onAny to see the marker", () => window.notes.includes('service: onAny: chat 2') && window.notes);
      if (!notes.includes('service: onAny: chat 1')) throw new Error(`the service worker's onAny saw: ${notes}`);
      await page.screenshot({ path: artifactPath('workers.png') });
    });

    await runner.check('closing each ends its stream (the server counts 2, 1, 0)', async () => {
      let open = 3;
      for (const who of WHO) {
        await page.evaluate((w) => window.stop(w), who);
        open -= 1;
        await server.until(`${open} open streams after closing the ${who} worker's`, () => server.open(channel), open);
        await waitUntil(page, `the ${who} worker's closed state`, (w) => window.states[w].at(-1) === 'closed', who);
      }
      const failed = await failures();
      if (failed.length) throw new Error(failed.join('\n'));
      const unexpected = errors.unexpected();
      if (unexpected.length) throw new Error([...new Set(unexpected.map((e) => e.text))].slice(0, 3).join('\n'));
    });
    await page?.close();

    await runner.check('a worker\'s source that waits for the network connects once navigator.onLine is true, with no online event', async () => {
      // What broke: the wait for the network woke only on `online`, which Chromium
      // never fires on a worker's global scope (its navigator.onLine changes all the
      // same): back online, a worker's source with reconnectOnOnline waited for good.
      const offline = await browser.newPage();
      try {
        const pageErrors = watchPageErrors(offline);
        await offline.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${unique('offline')}`);
        await waitUntil(offline, 'the app', () => typeof window.startOffline === 'function');
        const before = {};
        for (const transport of ['fetch', 'native']) {
          await offline.evaluate((t) => window.startOffline(t), transport);
          // Read as it decides to wait, as the wait begins, and at least once more:
          // the wait looks again with no event to wake it.
          await waitUntil(offline, `the ${transport} source to look at the network again`, (t) => window.offline[t].reads >= 3, transport);
          before[transport] = await offline.evaluate((t) => window.offline[t].states.join(), transport);
          await offline.evaluate((t) => window.offline[t].send('online'), transport);
          await waitUntil(offline, `the ${transport} source to open`, (t) => window.offline[t].states.includes('open'), transport);
          await offline.evaluate((t) => window.offline[t].send('close'), transport);
        }
        if (JSON.stringify(before) !== JSON.stringify({ fetch: 'connecting', native: 'connecting' })) throw new Error(`while offline: ${JSON.stringify(before)}`);
        const unexpected = pageErrors.unexpected();
        if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
        return 'both transports';
      } finally {
        await offline.close();
      }
    });

    // A worker of `offline.js` that starts online, with a source of `transport` on `url`
    // (and `options`): once it is open, `cut(flags)` takes the network away as the check
    // needs (`flags.send(kind)`, `flags.seen`); then the flag alone comes back, with no
    // `online` event. Resolves with how soon the source was open again.
    const backOnline = async (transport, url, options, cut) => {
      const page = await browser.newPage();
      try {
        const pageErrors = watchPageErrors(page);
        await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${unique('unused')}`);
        await waitUntil(page, 'the app', () => typeof window.startOffline === 'function');
        await page.evaluate(([t, u, o]) => window.startOffline(t, { online: true, url: u, options: o }), [transport, url, options]);
        const seen = (what, predicate) => waitUntil(page, what, ([t, p]) => new Function('f', `return (${p})(f)`)(window.offline[t]), [transport, predicate.toString()]);
        await seen('the source to open', (f) => f.states.includes('open'));
        const send = (kind) => page.evaluate(([t, k]) => window.offline[t].send(k), [transport, kind]);
        await cut({ send, seen });
        await send('online');
        const since = Date.now();
        await waitUntil(page, 'the source to open again', (t) => window.offline[t].states.filter((s) => s === 'open').length >= 2, transport, 10_000);
        const states = await page.evaluate((t) => window.offline[t].states.join(), transport);
        await send('close');
        const unexpected = pageErrors.unexpected();
        if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
        return `open again ${Date.now() - since} ms after the flag (${states})`;
      } finally {
        await page.close();
      }
    };

    await runner.check('native in a worker: a connection lost offline is replaced once navigator.onLine is true, with no online event', async () => {
      // What broke: while the browser retried a native connection lost offline, the
      // source waited for an `online` event to replace it, which Chromium never fires
      // in a worker: back online, it waited for the browser's own retry, as late as the
      // server's `retry:` (a minute here).
      const channel = unique('native-online');
      return backOnline('native', `${base}/events?channel=${channel}&retry=60000`, undefined, async ({ send, seen }) => {
        await send('offline');
        await seen('the worker to go offline', (f) => f.online === false);
        await server.drop(channel);
        await seen('the loss', (f) => f.states.includes('reconnecting'));
      });
    });

    await runner.check('fetch in a worker: back online after offline cuts the backoff short, with no online event', async () => {
      // What broke: only an `online` event cut a backoff short with reconnectOnOnline,
      // and Chromium never fires one in a worker: a retry decided before the worker
      // read offline waited out its whole backoff (a minute here) after the network
      // came back.
      const channel = unique('fetch-online');
      const options = { retry: { baseMs: 60_000, maxMs: 60_000, jitter: false } };
      return backOnline('fetch', `${base}/events?channel=${channel}`, options, async ({ send, seen }) => {
        // The loss, then a 503: the retry after it waits the server's `retry:` (1 s,
        // which coming online never cuts) and a minute of backoff.
        await server.fail(channel, 503);
        await server.drop(channel);
        await seen('the backoff after the 503', (f) => f.states.join().endsWith('open,reconnecting,connecting,reconnecting'));
        await send('offline');
        await seen('the source to read the flag offline', (f) => f.readOffline > 0);
      });
    });

    // Regression (a review): sharing took any global `window` for a page and listened on
    // `document`, which a worker has not: with a polyfill's `self.window = self`, the
    // source threw as it was made. And (a later review) with a `document` too, a bare
    // object, the link threw after it had joined its group: the source connected alone,
    // and the half-made member held its lock and threw at each message of the group.
    for (const [polyfill, what] of [[true, 'self.window'], ['document', 'self.window and a bare self.document']]) {
      await runner.check(`sharing in a worker whose polyfill sets ${what} leads its group, and leaves no lock behind`, async () => {
        const page = await browser.newPage();
        try {
          const pageErrors = watchPageErrors(page);
          await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${unique('unused')}`);
          await waitUntil(page, 'the app', () => typeof window.startOffline === 'function');
          const channel = unique('polyfill');
          await page.evaluate(([u, polyfill]) => window.startOffline('fetch', { name: 'polyfill', online: true, url: u, options: { share: true }, windowPolyfill: polyfill }), [`${base}/events?channel=${channel}`, polyfill]);
          await waitUntil(page, 'the shared source to open, or a failure', () => window.offline.polyfill.states.includes('open') || window.failures.length > 0);
          const roles = await page.evaluate(() => window.offline.polyfill.roles);
          if (roles.at(-1) !== 'leader') throw new Error(`its roles were ${JSON.stringify(roles)}: not sharing`);
          const held = () => navigator.locks.query().then((q) => q.held.map((l) => l.name));
          const before = (await page.evaluate(held)).filter((name) => name.includes(channel));
          if (before.length === 0) throw new Error('no lock of its group was held while open');
          await page.evaluate(() => window.offline.polyfill.send('close'));
          await waitUntil(page, 'its locks to go', async (c) => (await navigator.locks.query()).held.every((l) => !l.name.includes(c)), channel);
          const failed = await page.evaluate(() => window.failures);
          if (failed.length) throw new Error(failed.join('\n'));
          const unexpected = pageErrors.unexpected();
          if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
          return `roles ${roles.join(',')}, ${before.length} locks held, none after close, no failure`;
        } finally {
          await page.close();
        }
      });
    }

    // Regression (a review): before the wasm was ready, a relative URL was resolved
    // against `document.baseURI` whenever a `document` existed, a polyfill's bare
    // object too, where the core takes the worker's location: it threw a SyntaxError.
    await runner.check('a relative URL in a worker with a bare self.document, before the wasm is ready, resolves against the worker', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${unique('unused')}`);
        await waitUntil(page, 'the app', () => typeof window.startOffline === 'function');
        await page.evaluate(() => window.startOffline('fetch', { name: 'relative', online: true, workerName: 'relative-url', options: {} }));
        await waitUntil(page, 'its URL, or a failure', () => window.offline.relative.relative !== undefined || window.failures.length > 0);
        const failed = await page.evaluate(() => window.failures);
        if (failed.length) throw new Error(failed.join('\n'));
        const url = await page.evaluate(() => window.offline.relative.relative);
        if (url !== `${site.origin}/never?relative`) throw new Error(`its URL: ${url}`);
        await page.evaluate(() => window.offline.relative.send('close'));
        return url;
      } finally {
        await page.close();
      }
    });

    // What it guards: the poll of `navigator.onLine` during a backoff (a timer each
    // second, in a worker) is for sources that asked to wait for the network; one
    // without `reconnectOnOnline` waits its backoff out with no timer but its own.
    await runner.check('fetch in a worker without reconnectOnOnline: a backoff reads navigator.onLine no more (one with it, every second)', async () => {
      const page = await browser.newPage();
      try {
        const pageErrors = watchPageErrors(page);
        await page.goto(`${site.origin}/index.html?server=${encodeURIComponent(base)}&channel=${unique('unused')}`);
        await waitUntil(page, 'the app', () => typeof window.startOffline === 'function');
        const retry = { baseMs: 60_000, maxMs: 60_000, jitter: false };
        const channels = { quiet: unique('no-poll'), polling: unique('poll') };
        for (const [name, channel] of Object.entries(channels)) {
          const options = { retry, reconnectOnOnline: name === 'polling' };
          await page.evaluate(([n, u, o]) => window.startOffline('fetch', { name: n, online: true, url: u, options: o }), [name, `${base}/events?channel=${channel}`, options]);
        }
        for (const [name, channel] of Object.entries(channels)) {
          await waitUntil(page, `the ${name} source to open`, (n) => window.offline[n]?.states.includes('open'), name);
          // The loss, then a 503: the retry after it waits a minute of backoff.
          await server.fail(channel, 503);
          await server.drop(channel);
        }
        for (const name of Object.keys(channels)) {
          await waitUntil(page, `the ${name} source's backoff`, (n) => window.offline[n].states.join().endsWith('open,reconnecting,connecting,reconnecting'), name);
        }
        // A poll of the one that asked, then three more: a second each.
        const first = await page.evaluate(() => window.offline.polling.reads);
        await waitUntil(page, 'a poll', (from) => window.offline.polling.reads > from, first);
        const quiet = await page.evaluate(() => window.offline.quiet.reads);
        const polls = await page.evaluate(() => window.offline.polling.reads);
        await waitUntil(page, 'three more polls', (from) => window.offline.polling.reads >= from + 3, polls);
        const after = await page.evaluate(() => window.offline.quiet.reads);
        if (after !== quiet) throw new Error(`the source without reconnectOnOnline read navigator.onLine ${after - quiet} more time(s) during its backoff`);
        for (const name of Object.keys(channels)) await page.evaluate((n) => window.offline[n].send('close'), name);
        const unexpected = pageErrors.unexpected();
        if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
        return `${quiet} reads before the backoff, none during it; the other polled`;
      } finally {
        await page.close();
      }
    });

    await runner.check('before the wasm is ready: a source registers, removes, listens, rejects a bad option, closes', async () => {
      const token = unique('early');
      const early = await browser.newPage();
      try {
        const pageErrors = watchPageErrors(early);
        await early.goto(`${site.origin}/loading.html?server=${encodeURIComponent(base)}&token=${token}`);
        const out = await waitUntil(early, 'the source to read its events', () => window.out && window.out.done && window.out.bad && window.out);
        const want = {
          before: { readyState: 0, state: 'connecting', url: `${base}/scenario/named`, lastEventId: '' },
          offBefore: true,
          removed: 0,
          events: ['1@chat', '3@chat'],
          listener: ['{"n":1}', '{"n":3}'],
          early: 'client',
          earlyRoles: ['alone 0'],
          earlyReadyState: 2,
          badErrorEvents: 1,
        };
        for (const [key, value] of Object.entries(want)) {
          if (JSON.stringify(out[key]) !== JSON.stringify(value)) throw new Error(`${key}: got ${JSON.stringify(out[key])}, expected ${JSON.stringify(value)}`);
        }
        // Given once: `connecting` is not repeated when the core takes over.
        const states = await waitUntil(early, 'the closed state', () => window.out.states.includes('closed') && window.out.states);
        if (JSON.stringify(states) !== JSON.stringify(['connecting', 'open', 'closed'])) throw new Error(`states ${JSON.stringify(states)}`);
        const roles = await early.evaluate(() => window.out.roles);
        if (JSON.stringify(roles) !== JSON.stringify(['alone 0'])) throw new Error(`share roles ${JSON.stringify(roles)}`);
        if (!/^invalid TypedEventSource options: unknown option `transprt` in `options`/.test(out.badOption)) throw new Error(`the bad option: ${out.badOption}`);
        if (!/^invalid-request: .*"ftp:" is not supported/.test(out.bad)) throw new Error(`the ftp: URL: ${out.bad}`);
        if (!/^invalid event source options: the fetch transport cannot send a URL with a user name or password in it/.test(out.credentials) || out.credentials.includes('secret')) {
          throw new Error(`the URL with a password: ${out.credentials}`);
        }
        // The wasm has been ready for a whole stream by now: a request built then would be in.
        const log = await server.log(token);
        if (log.length) throw new Error(`the source closed before the wasm was ready sent ${log.length} request(s)`);
        const unexpected = pageErrors.unexpected();
        if (unexpected.length) throw new Error(unexpected.map((e) => e.text).join('\n'));
        return states.join(' → ');
      } finally {
        await early.close();
      }
    });
  } finally {
    await site?.close();
    await browser.close();
  }
}
runner.finish();
