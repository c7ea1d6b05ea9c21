// Request streams through the JavaScript API (issue 17): `stream()` and
// `TypedEventSource` with `mode: "request"`, against the test server's language-model
// scenarios (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages), in a page
// that imports the package unbundled (tests/package/page.html), cross-origin to the
// server as most apps are.
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/request.test.mjs
// (after `npm run build`; `npm test` does both).

import { createRunner, launchBrowser } from './lib.mjs';
import { openPackagePage, servePackage } from '../package/page.mjs';

const PROMPT = 'Hello, wide world';
const FORMATS = ['openai-chat', 'openai-responses', 'anthropic'];

/** Helpers defined in the page: each check's code calls them as `h.name(...)`. */
function pageHelpers(base, prompt) {
  const body = (format) =>
    JSON.stringify(
      format === 'openai-responses'
        ? { model: 'm', stream: true, input: prompt }
        : { model: 'm', stream: true, max_tokens: 64, messages: [{ role: 'user', content: prompt }] },
    );
  const h = {
    base,
    url: (format, query) => `${base}/scenario/llm/${format}?${query}`,
    init: (format, extra = {}) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body(format),
      ...extra,
    }),
    token: (what) => `${what}-${Math.random().toString(36).slice(2)}`,
    tokenOf: (format, data, meta) => {
      if (format === 'openai-chat' && meta.type === 'message') return data?.choices?.[0]?.delta?.content ?? '';
      if (format === 'openai-responses' && meta.type === 'response.output_text.delta') return data.delta;
      if (format === 'anthropic' && meta.type === 'content_block_delta') return data.delta.text;
      return '';
    },
    expected: async (tokens) => {
      const r = await fetch(`${base}/scenario/llm/expected?prompt=${encodeURIComponent(prompt)}&tokens=${tokens}`);
      return (await r.json()).text;
    },
    log: async (token) => (await (await fetch(`${base}/scenario/log/${token}`)).json()).filter((r) => r.method === 'POST'),
    /** When the server saw the token's first request end (epoch ms), waiting 5 s at
     *  most for its log to show it no longer open. */
    endedAt: async (token) => {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const [first] = await h.log(token);
        if (first && first.open === false) return first.endedAt;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`the server never saw the request of ${token} end`);
    },
    eq: (got, want, what) => {
      const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
      if (g !== w) throw new Error(`${what}: got ${g}, expected ${w}`);
    },
    ok: (cond, what) => {
      if (!cond) throw new Error(what);
    },
    until: async (what, cond, ms = 10000) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  return h;
}

const CHECKS = [
  {
    title: 'stream(): meta.text is each event\'s data as sent, so plain-text tokens keep their spaces',
    run: async (h) => {
      // Regression (a review): stream() and onAny gave only JSON.parse's value when
      // the text parsed, so the plain-text token " 2024" came as the number 2024, its
      // space lost for good; meta.text was undefined.
      const real = window.fetch;
      const body = 'data: Hello,\n\ndata:  2024\n\ndata:  "quoted"\n\ndata: [DONE]\n\n';
      window.fetch = () => {
        window.fetch = real;
        return Promise.resolve(new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
      };
      let text = '';
      const seen = [];
      for await (const { data, meta } of window.stream(`${h.base}/plain-tokens`, { method: 'POST', body: '{}' })) {
        text += meta.text;
        seen.push([data, meta.json]);
      }
      h.eq(seen, [['Hello,', false], [2024, true], ['quoted', true]], 'the values and whether each parsed');
      h.eq(text, 'Hello, 2024 "quoted"', 'the answer from meta.text');
    },
  },
  {
    title: 'stream(): each format arrives whole, in order, from one POST; [DONE] is no event',
    run: async (h, FORMATS) => {
      const want = await h.expected(8);
      for (const format of FORMATS) {
        const token = h.token('js-whole');
        let text = '';
        const types = [];
        for await (const { data, meta } of window.stream(h.url(format, `tokens=8&pace_ms=2&token=${token}`), h.init(format))) {
          h.ok(meta.json === true, `${format}: every event is JSON (${JSON.stringify(data)})`);
          h.ok(data !== '[DONE]', `${format}: [DONE] was yielded`);
          text += h.tokenOf(format, data, meta);
          types.push(meta.type);
        }
        h.eq(text, want, `${format}: the answer`);
        const last = { 'openai-chat': 'message', 'openai-responses': 'response.completed', anthropic: 'message_stop' }[format];
        h.eq(types.at(-1), last, `${format}: the last event's type`);
        h.eq((await h.log(token)).length, 1, `${format}: POSTs`);
      }
    },
  },
  {
    // Regression: stream() copied only the init's own fields (object rest), where the
    // constructor, like fetch's RequestInit, reads inherited ones too: an init made on
    // a prototype lost its method, headers and body (a GET with a body, refused).
    title: 'stream() reads an init\'s inherited fields, as the constructor and fetch do',
    run: async (h) => {
      const want = await h.expected(4);
      const token = h.token('js-inherited');
      const init = Object.create(h.init('openai-chat'));
      let text = '';
      for await (const { data, meta } of window.stream(h.url('openai-chat', `tokens=4&pace_ms=0&token=${token}`), init)) {
        text += h.tokenOf('openai-chat', data, meta);
      }
      h.eq(text, want, 'the answer');
      h.eq((await h.log(token)).length, 1, 'POSTs');
      // Only the init's own `signal` is stream()'s: one inside `retry` is refused, as the
      // constructor refuses it (regression of the fix: it was dropped there too).
      let message = '';
      try {
        window.stream(h.url('openai-chat', ''), h.init('openai-chat', { retry: { signal: 1 } }));
      } catch (e) {
        message = e.message;
      }
      h.ok(/unknown option `signal` in `options.retry`/.test(message), `retry.signal: "${message}"`);
    },
  },
  {
    title: 'TypedEventSource with mode "request": typed callbacks, closed "completed", no error event, no decode error',
    run: async (h, FORMATS) => {
      const want = await h.expected(5);
      for (const format of FORMATS) {
        const token = h.token('js-source');
        const es = new window.TypedEventSource(h.url(format, `tokens=5&pace_ms=2&token=${token}`), { ...h.init(format), mode: 'request' });
        let text = '';
        const seen = { errors: 0, decode: 0 };
        es.onAny((data, meta) => {
          text += h.tokenOf(format, data, meta);
        });
        es.on('message', (data) => h.ok(data !== '[DONE]', 'on() got [DONE]'));
        es.onDecodeError(() => (seen.decode += 1));
        es.addEventListener('error', () => (seen.errors += 1));
        let closed = null;
        es.onState((s) => {
          if (s.kind === 'closed') closed = s;
        });
        await h.until(`${format}: closed`, () => closed);
        h.eq([closed.reason, text, seen], ['completed', want, { errors: 0, decode: 0 }], format);
        h.eq(es.readyState, 2, `${format}: readyState`);
        h.eq((await h.log(token)).length, 1, `${format}: POSTs`);
      }
    },
  },
  {
    title: 'a cut with ids resumes: every token once, two POSTs, the second with Last-Event-ID',
    run: async (h, FORMATS) => {
      const want = await h.expected(10);
      for (const format of FORMATS) {
        const token = h.token('js-resume');
        let text = '';
        const ids = [];
        const init = h.init(format, { retry: { baseMs: 5, floorMs: 5, jitter: false } });
        for await (const { data, meta } of window.stream(h.url(format, `ids=1&cut_after=5&cut_mid=1&tokens=10&pace_ms=2&token=${token}`), init)) {
          text += h.tokenOf(format, data, meta);
          ids.push(Number(meta.lastEventId));
        }
        h.eq(text, want, `${format}: the answer`);
        h.eq(ids, ids.map((_, i) => i + 1), `${format}: ids`);
        const posts = await h.log(token);
        h.eq(posts.map((p) => p.lastEventId), [null, '5'], `${format}: Last-Event-ID of the POSTs`);
      }
    },
  },
  {
    title: 'a cut without ids throws reason "interrupted" with received, keeps the events, sends nothing again',
    run: async (h, FORMATS) => {
      for (const format of FORMATS) {
        const token = h.token('js-cut');
        let events = 0;
        let thrown = null;
        try {
          for await (const item of window.stream(h.url(format, `cut_after=4&tokens=10&pace_ms=2&token=${token}`), h.init(format))) {
            if (item) events += 1;
          }
        } catch (e) {
          thrown = e;
        }
        h.ok(thrown instanceof Error, `${format}: the loop throws an Error`);
        h.eq([thrown.reason.kind, thrown.reason.reason, thrown.reason.received, events], ['closed', 'interrupted', 4, 4], format);
        h.eq((await h.log(token)).length, 1, `${format}: POSTs`);
      }
    },
  },
  {
    title: 'an API error: the thrown reason holds the status and the JSON body (400; 429 that gives up)',
    run: async (h) => {
      const reasonOf = async (url, init) => {
        try {
          for await (const item of window.stream(url, init)) h.ok(!item, 'no event');
        } catch (e) {
          return e.reason;
        }
        throw new Error('the loop did not throw');
      };
      const bad = await reasonOf(h.url('openai-chat', 'refuse=400'), h.init('openai-chat'));
      h.eq([bad.reason, bad.status, JSON.parse(bad.body).error.type], ['http-status', 400, 'invalid_request_error'], '400');
      const limited = await reasonOf(h.url('openai-chat', 'refuse=429'), h.init('openai-chat', { retry: { maxAttempts: 0 } }));
      h.eq([limited.reason, limited.status, JSON.parse(limited.body).error.code], ['gave-up', 429, 'rate_limit_exceeded'], '429');
    },
  },
  {
    title: 'a 429 with Retry-After is sent again after at least that delay, then completes',
    run: async (h) => {
      const token = h.token('js-429');
      const es = new window.TypedEventSource(h.url('openai-chat', `refuse=429&retry_after=1&times=1&tokens=3&pace_ms=2&token=${token}`), {
        ...h.init('openai-chat'),
        mode: 'request',
        retry: { baseMs: 5, floorMs: 5, jitter: false },
      });
      const states = [];
      es.onState((s) => states.push(s));
      await h.until('closed', () => states.at(-1).kind === 'closed', 15000);
      const reconnecting = states.find((s) => s.kind === 'reconnecting');
      h.eq([reconnecting.cause, reconnecting.status, JSON.parse(reconnecting.body).error.code], ['http-status', 429, 'rate_limit_exceeded'], 'reconnecting');
      h.ok(reconnecting.delayMs >= 1000, `delay ${reconnecting.delayMs} ms`);
      h.eq(states.at(-1).reason, 'completed', 'the end');
      const posts = await h.log(token);
      h.eq(posts.length, 2, 'POSTs');
      h.ok(posts[1].startedAt - posts[0].startedAt >= 1000, `sent again after ${posts[1].startedAt - posts[0].startedAt} ms`);
    },
  },
  {
    title: 'break, return, a throw, an AbortSignal and close() each abort the request at once',
    run: async (h) => {
      // Run to its end, an answer takes 10 s (200 tokens, 50 ms apart): 2 s leaves a
      // loaded machine time to pass the abort on.
      const slow = (token) => h.url('openai-chat', `tokens=200&pace_ms=50&token=${token}`);
      const results = {};
      const within = async (what, token, left) => {
        const ended = await h.endedAt(token);
        results[what] = ended - left;
        h.ok(ended - left < 2000, `${what}: the server saw the end after ${ended - left} ms`);
      };
      // break
      let token = h.token('js-break');
      let n = 0;
      let left = 0;
      for await (const item of window.stream(slow(token), h.init('openai-chat'))) {
        if (item && ++n === 3) {
          left = Date.now();
          break;
        }
      }
      await within('break', token, left);
      // return from a function that loops
      token = h.token('js-return');
      const first = async (url) => {
        for await (const item of window.stream(url, h.init('openai-chat'))) {
          if (item.meta.type === 'message' && h.tokenOf('openai-chat', item.data, item.meta)) {
            left = Date.now();
            return item;
          }
        }
        return null;
      };
      h.ok(await first(slow(token)), 'a token');
      await within('return', token, left);
      // a throw inside the loop
      token = h.token('js-throw');
      try {
        for await (const item of window.stream(slow(token), h.init('openai-chat'))) {
          if (item) {
            left = Date.now();
            throw new Error('out');
          }
        }
      } catch (e) {
        h.eq(e.message, 'out', 'the loop rethrows');
      }
      await within('throw', token, left);
      // an AbortSignal, fired while the loop waits for the next event
      token = h.token('js-signal');
      const controller = new AbortController();
      let thrown = null;
      let scheduled = false;
      try {
        for await (const item of window.stream(slow(token), h.init('openai-chat', { signal: controller.signal }))) {
          if (item && !scheduled) {
            scheduled = true;
            setTimeout(() => {
              left = Date.now();
              controller.abort();
            }, 10);
          }
        }
      } catch (e) {
        thrown = e;
      }
      h.eq(thrown && thrown.name, 'AbortError', 'the loop throws the signal reason');
      await within('signal', token, left);
      // close() on a TypedEventSource in request mode
      token = h.token('js-close');
      const es = new window.TypedEventSource(slow(token), { ...h.init('openai-chat'), mode: 'request' });
      let got = 0;
      es.on('message', () => (got += 1));
      await h.until('3 events', () => got >= 3);
      left = Date.now();
      es.close();
      await within('close', token, left);
      return Object.entries(results).map(([k, v]) => `${k} ${v} ms`).join(', ');
    },
  },
  {
    // Regression: one wake slot: a second `next()` while the first waited replaced its
    // resolver, so the first never settled (`Promise.all`, a helper that reads ahead).
    title: 'stream(): next() calls made at once each settle, in order, and the loop still ends',
    run: async (h) => {
      const token = h.token('js-next');
      const it = window.stream(h.url('openai-chat', `tokens=3&pace_ms=20&token=${token}`), h.init('openai-chat'));
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('a next() never settled')), 10000));
      const calls = [];
      for (let i = 0; i < 10; i++) calls.push(it.next());
      const results = await Promise.race([Promise.all(calls), timeout]);
      const done = results.findIndex((r) => r.done);
      h.ok(done > 0, `the answer's events, then done: ${JSON.stringify(results.map((r) => r.done))}`);
      h.ok(results.slice(done).every((r) => r.done), 'done stays done');
      const text = results.slice(0, done).map((r) => h.tokenOf('openai-chat', r.value.data, r.value.meta)).join('');
      h.eq(text, await h.expected(3), 'the answer, in order');
      return `${done} events, then done`;
    },
  },
  {
    // Regression: the abort listener stayed on the signal until the loop called next()
    // or return() again: a loop left after the answer ended (a Promise.race with a
    // timeout) kept its queue alive on an app-wide signal, and an abort after the
    // answer had completed threw away the events still queued.
    title: 'stream(): once the answer is over the signal lets go, and a late abort loses nothing queued',
    run: async (h) => {
      const token = h.token('js-late-abort');
      const controller = new AbortController();
      const { signal } = controller;
      let removed = 0;
      const remove = signal.removeEventListener.bind(signal);
      signal.removeEventListener = (...args) => {
        removed += 1;
        return remove(...args);
      };
      const it = window.stream(h.url('openai-chat', `tokens=3&pace_ms=0&token=${token}`), h.init('openai-chat', { signal }));
      await h.until('the abort listener removed once the answer is over', () => removed > 0);
      controller.abort();
      const items = [];
      for await (const item of it) items.push(item);
      const text = items.map(({ data, meta }) => h.tokenOf('openai-chat', data, meta)).join('');
      h.eq(text, await h.expected(3), 'the whole answer, after the late abort');
      return `${items.length} events`;
    },
  },
  {
    title: 'request mode with transport "native" throws, saying it needs fetch; a pre-aborted signal throws',
    run: async (h) => {
      // (Whether the wasm is ready yet or not: the options are checked at once.)
      let message = '';
      try {
        new window.TypedEventSource(h.url('openai-chat', ''), { ...h.init('openai-chat'), mode: 'request', transport: 'native' });
      } catch (e) {
        message = e.message;
      }
      h.ok(/request mode needs the fetch transport/.test(message), `the error: "${message}"`);
      let name = '';
      try {
        window.stream(h.url('openai-chat', ''), h.init('openai-chat', { signal: AbortSignal.abort() }));
      } catch (e) {
        name = e.name;
      }
      h.eq(name, 'AbortError', 'a signal aborted before');
    },
  },
  {
    title: 'a method fetch cannot send throws at once, before the request goes',
    run: async (h) => {
      // Broke (a review): fetch rejected it as it rejects a lost network, and the source
      // reconnected for good, saying "network".
      for (const method of ['POST ', 'CONNECT']) {
        let message = '';
        try {
          window.stream(h.url('openai-chat', ''), h.init('openai-chat', { method }));
        } catch (e) {
          message = e.message;
        }
        h.ok(/the method/.test(message), `${JSON.stringify(method)}: the error "${message}"`);
      }
    },
  },
  {
    title: 'stream() with a signal that is not an AbortSignal throws a TypeError before the request goes',
    run: async (h) => {
      // Broke: the source was made (and the POST sent) before `signal.addEventListener`
      // threw, so the answer was read and dropped, and a caller that tried again sent
      // the question twice.
      const token = h.token('js-bad-signal');
      const controller = new AbortController();
      let thrown = null;
      try {
        window.stream(h.url('openai-chat', `tokens=3&token=${token}`), h.init('openai-chat', { signal: controller }));
      } catch (e) {
        thrown = e;
      }
      h.ok(thrown instanceof TypeError && /`signal` must be an AbortSignal/.test(thrown.message), `thrown: ${thrown}`);
      // A request that does go, after it: the server's log is in order, so once it has
      // this one, it would have had the one before.
      const after = h.token('js-bad-signal-after');
      for await (const _ of window.stream(h.url('openai-chat', `tokens=1&token=${after}`), h.init('openai-chat'))) { /* drain */ }
      h.eq((await h.log(after)).length, 1, 'the request after it reached the server');
      h.eq((await h.log(token)).length, 0, 'requests with the bad signal');
      return thrown.message;
    },
  },
];

const runner = createRunner();
const base = await runner.startup({ paths: ['/scenario/log/request-test'] });
if (base) {
  const site = await servePackage();
  const browser = await launchBrowser();
  try {
    for (const check of CHECKS) {
      await runner.check(check.title, async () => {
        const page = await openPackagePage(browser, site, { base });
        try {
          return await page.evaluate(
            async ({ source, helpers, base, prompt, formats }) => {
              // eslint-disable-next-line no-eval
              const h = (0, eval)(`(${helpers})`)(base, prompt);
              // eslint-disable-next-line no-eval
              return (0, eval)(`(${source})`)(h, formats);
            },
            { source: check.run.toString(), helpers: pageHelpers.toString(), base, prompt: PROMPT, formats: FORMATS },
          );
        } finally {
          await page.close();
        }
      });
    }
  } finally {
    await browser.close();
    site.close();
  }
}
runner.finish();
