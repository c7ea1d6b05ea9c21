// Drop-in conformance: code written for the browser's EventSource, run unchanged with
// `globalThis.EventSource` replaced by TypedEventSource, once with transport "native"
// and once with "fetch", in headless Chromium against the test server. Each check
// runs first against the browser's own EventSource: the reference, which proves that
// the check asserts what EventSource does (these are our own checks of the behaviours
// the browsers' conformance tests, WPT `eventsource/`, look at).
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/dropin.test.mjs
// (after `npm run build`; `npm test` does both).
//
// A check's `needs` names the item of issue 16 that made it pass (in its title, for
// the record): item 14, every "native" check (the native transport keeps the
// browser's EventSource from before the global was replaced; DROPIN_KEEP_GLOBAL=1
// passes the class to the checks instead); item 3, retry: as a minimum; item 9,
// permanent failures; item 12, ids outside ISO-8859-1. (DROPIN_ONLY=REGEX runs only
// the checks whose titles match.)
// The documented differences are checked as such: events are never `isTrusted`
// (item 15). A check's `differs` names a difference docs/eventsource.md documents, printed and
// not run: a 5xx is retried (our policy, not checked here); native, a 204 the server
// would answer with a stream at the check; fetch, a same-origin window.stop().
// Item 13 (a rejected CORS preflight for Last-Event-ID) is checked where a page can
// meet it here: a same-origin URL that redirects to another origin whose server refuses
// the preflight (`preflight=refuse`); plain cross-origin is in tests/fetch.rs.

import { createRunner, launchBrowser } from './lib.mjs';
import { openPackagePage, servePackage } from '../package/page.mjs';

/** Each check's deadline in the page: it fails rather than hangs. */
const CHECK_MS = 20_000;
const KEEP_GLOBAL = process.env.DROPIN_KEEP_GLOBAL === '1';
/** DROPIN_SAME_ORIGIN=1 runs only the same-origin pass (every check without a page of
 *  its own on the page served from the test server's origin). */
const SAME_ORIGIN = process.env.DROPIN_SAME_ORIGIN === '1';
/** DROPIN_ONLY=REGEX runs only the checks whose title (with its "kind: ") matches. */
const ONLY = process.env.DROPIN_ONLY ? new RegExp(process.env.DROPIN_ONLY) : null;
/** The host the "foreign origin" page is served from: not loopback by name, so the
 *  test server sends it no CORS headers (Chromium maps it to 127.0.0.1). */
const FOREIGN_HOST = 'dropin.test';

/** The lead's fixes some checks wait for, by transport (see the list above). */
const NEEDS_GLOBAL = 'item 14 (native transport with globalThis.EventSource replaced)';

/**
 * The checks. `run(EventSource, t)` runs in the page, serialised: it may use only its
 * arguments and page globals. `EventSource` is the constructor under test (the
 * browser's, or TypedEventSource with a transport, as globalThis.EventSource). `t`:
 * see `helpers`. `needs`: by kind, the lead's item the check waits for. `page`:
 * "foreign" to run on a page whose origin the server does not allow, "same" on a page
 * served from the server's origin (through a proxy), as the browsers' own tests are,
 * "site" on the package's own origin, which the server allows (the default, unless
 * DROPIN_SAME_ORIGIN=1).
 */
/** A window.stop() while the request waits for its headers. */
async function stopBeforeOpen(EventSource, t) {
  // The first request of the token waits for its headers; any later one streams.
  const es = new EventSource(`scenario/stall-headers?count=1&token=${t.unique('dropin-stop')}`);
  const seen = [];
  for (const type of ['open', 'message', 'error']) es.addEventListener(type, (e) => seen.push(t.describe(es, e)));
  await t.server('wait-for-request', es.url);
  window.stop();
  await t.until('an event', () => seen.length);
  es.close();
  t.eq(seen, [{ type: 'error', message: false, data: null, id: null, readyState: 2 }], 'events');
}

const CHECKS = [
  {
    // First: when it fails, the kind's other checks would only hang (see below).
    title: 'globalThis.EventSource is the constructor under test, and it reads a stream',
    first: true,
    run: async (EventSource, t) => {
      t.eq(globalThis.EventSource === EventSource, t.kind === 'browser' || t.replaced, 'globalThis.EventSource is the constructor under test');
      const es = new globalThis.EventSource('scenario/end-after/1');
      const seen = [];
      es.onopen = () => seen.push('open');
      es.onmessage = (e) => {
        seen.push(e.data);
        es.close();
      };
      await t.until('a message', () => seen.length >= 2);
      t.eq(seen, ['open', '{"n":1}'], 'events');
    },
  },
  {
    title: 'constructor: readyState CONNECTING at once, the constants, url resolved against the base URL, withCredentials, the prototype',
    run: async (EventSource, t) => {
      EventSource.prototype.dropinProbe = function () {
        return this.readyState;
      };
      const es = new EventSource('scenario/end-after/1');
      try {
        t.eq([es.readyState, es.dropinProbe()], [0, 0], 'readyState at once');
        t.eq([es.CONNECTING, es.OPEN, es.CLOSED, EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED], [0, 1, 2, 0, 1, 2], 'the constants');
        t.eq(es.url, `${t.base}/scenario/end-after/1`, 'url');
        t.eq(es.withCredentials, false, 'withCredentials by default');
        t.ok(es instanceof EventTarget, 'an EventTarget');
      } finally {
        es.close();
      }
      t.eq(es.readyState, 2, 'readyState after close()');
      const credentialed = new EventSource('scenario/end-after/1', { withCredentials: true });
      credentialed.close();
      t.eq(credentialed.withCredentials, true, 'withCredentials: true');
    },
  },
  {
    // Regression: the constructor's length was 2, the constants were fields of each
    // instance (none on the prototype, writable on the class), the interface's members
    // were not enumerable, and Object.prototype.toString said "[object EventTarget]".
    // Then (a review, from WPT's interfaces.html): the class was named "TypedEventSource".
    title: "the interface's shape as WebIDL gives it: name, length, constants, enumerable members, toString tag",
    run: async (EventSource, t) => {
      // The class itself (a subclass that picks a transport has a shape of its own).
      const Class = t.kind === 'browser' ? EventSource : window.TypedEventSource;
      const proto = Class.prototype;
      t.eq(Class.name, 'EventSource', "the interface object's name");
      t.eq(Class.length, 1, 'the constructor takes one required argument');
      const constants = [];
      for (const target of [Class, proto]) {
        for (const name of ['CONNECTING', 'OPEN', 'CLOSED']) {
          const d = Object.getOwnPropertyDescriptor(target, name);
          constants.push(d && [d.value, d.writable, d.enumerable, d.configurable]);
        }
      }
      const fixed = (value) => [value, false, true, false];
      t.eq(constants, [0, 1, 2, 0, 1, 2].map(fixed), 'the constants: own, read-only, enumerable, fixed');
      // [name, getter, setter, method], each on the prototype, enumerable and configurable.
      const want = [
        ...['url', 'withCredentials', 'readyState'].map((name) => [name, 'function', 'undefined', 'undefined']),
        ...['onopen', 'onmessage', 'onerror'].map((name) => [name, 'function', 'function', 'undefined']),
        ['close', 'undefined', 'undefined', 'function'],
      ];
      const members = want.map(([name]) => {
        const d = Object.getOwnPropertyDescriptor(proto, name);
        return d && [name, typeof d.get, typeof d.set, typeof d.value, d.enumerable, d.configurable];
      });
      t.eq(members, want.map((m) => [...m, true, true]), "the interface's members on the prototype, enumerable");
      let thrown = null;
      try {
        Object.getOwnPropertyDescriptor(proto, 'readyState').get.call({});
      } catch (e) {
        thrown = e.constructor.name;
      }
      t.eq(thrown, 'TypeError', 'a getter called on another object throws a TypeError');
      const es = new EventSource('scenario/end-after/1');
      es.close();
      t.eq([Object.prototype.toString.call(es), es.CLOSED, Object.keys(es).length], ['[object EventSource]', 2, 0], 'an instance');
    },
  },
  {
    title: 'constructor: the URL argument is stringified; "" is the base URL',
    run: async (EventSource, t) => {
      const urls = [{ toString: () => 'scenario/end-after/1' }, 1, null, undefined, ''].map((arg) => {
        const es = new EventSource(arg);
        es.close();
        return es.url;
      });
      t.eq(urls, [`${t.base}/scenario/end-after/1`, `${t.base}/1`, `${t.base}/null`, `${t.base}/undefined`, document.baseURI], 'url');
    },
  },
  {
    // Regression: TypedEventSource took no argument as the URL "undefined" and a Symbol
    // as its text, and its addEventListener and removeEventListener took too few
    // arguments quietly (found by a read of WPT's interfaces.html against the class).
    title: 'too few arguments, or a Symbol for the URL: the constructor, addEventListener and removeEventListener throw a TypeError',
    run: async (EventSource, t) => {
      // The class itself: the drop-in's subclass passes its two arguments on.
      const Class = t.kind === 'browser' ? EventSource : window.TypedEventSource;
      const thrown = (f) => {
        try {
          f();
          return 'nothing';
        } catch (e) {
          return e.constructor.name;
        }
      };
      const got = [thrown(() => new Class()), thrown(() => new Class(Symbol('url')))];
      const es = new EventSource('scenario/end-after/1');
      got.push(
        thrown(() => es.addEventListener()),
        thrown(() => es.addEventListener('message')),
        thrown(() => es.removeEventListener()),
        thrown(() => es.removeEventListener('message')),
      );
      es.close();
      t.eq(got, Array(6).fill('TypeError'), 'new (), new (Symbol), addEventListener (), (type), removeEventListener (), (type)');
    },
  },
  {
    title: 'constructor: a URL that does not parse throws a SyntaxError DOMException',
    run: async (EventSource, t) => {
      for (const url of ['http://[::1/', 'http://example.com:99999/', 'http://']) {
        let thrown = null;
        try {
          new EventSource(url).close();
        } catch (e) {
          thrown = e;
        }
        t.ok(thrown instanceof DOMException && thrown.name === 'SyntaxError', `${url}: threw ${thrown && `${thrown.name}: ${thrown.message}`}`);
      }
    },
  },
  {
    // Regression (issue 16, item 11): TypedEventSource threw in the constructor for
    // these, where EventSource constructs and then fails.
    title: 'constructor: a URL that is not http(s) constructs, then fails: one error Event, readyState CLOSED',
    run: async (EventSource, t) => {
      for (const url of ['ftp://example.not/', 'about:blank', 'mailto:whatwg@awesome.example', "javascript:alert('FAIL')"]) {
        const es = new EventSource(url);
        t.eq([es.url, es.readyState], [url, 0], `${url}: url and readyState at once`);
        const seen = [];
        for (const type of ['open', 'message', 'error']) es.addEventListener(type, (e) => seen.push(t.describe(es, e)));
        await t.until(`${url}: the error event`, () => seen.length);
        t.eq(seen, [{ type: 'error', message: false, data: null, id: null, readyState: 2 }], `${url}: events`);
        es.close();
      }
    },
  },
  {
    title: 'open, then messages: an open Event (no data) with readyState OPEN, then MessageEvents with data, origin and lastEventId',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/3');
      const seen = [];
      const details = [];
      es.onopen = function (e) {
        seen.push(t.describe(es, e));
        details.push([this === es, e.target === es, e.currentTarget === es, e.bubbles, e.cancelable, Object.prototype.hasOwnProperty.call(e, 'data'), 'data' in e]);
      };
      es.addEventListener('message', (e) => {
        seen.push(t.describe(es, e));
        details.push([e.target === es, e.bubbles, e.cancelable, e.origin === t.origin, e.source, e.ports.length]);
        if (e.lastEventId === '3') es.close();
      });
      es.onerror = (e) => seen.push(t.describe(es, e));
      await t.until('three messages', () => seen.length >= 4);
      t.eq(seen, [
        { type: 'open', message: false, data: null, id: null, readyState: 1 },
        { type: 'message', message: true, data: '{"n":1}', id: '1', readyState: 1 },
        { type: 'message', message: true, data: '{"n":2}', id: '2', readyState: 1 },
        { type: 'message', message: true, data: '{"n":3}', id: '3', readyState: 1 },
      ], 'events');
      t.eq(details, [
        [true, true, true, false, false, false, false],
        ...[1, 2, 3].map(() => [true, false, false, true, null, 0]),
      ], 'open: this, target, currentTarget, bubbles, cancelable, own data, data; message: target, bubbles, cancelable, origin, source, ports');
    },
  },
  {
    title: 'named events reach their own listeners, in stream order; onmessage gets the unnamed ones',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/named');
      const seen = [];
      es.addEventListener('chat', (e) => seen.push(`chat ${e.data}`));
      es.onmessage = (e) => seen.push(`message ${e.data}`);
      await t.until('three events', () => seen.length >= 3);
      es.close();
      t.eq(seen, ['chat {"n":1}', 'message {"n":2}', 'chat {"n":3}'], 'events');
    },
  },
  {
    // Regression: on fetch, a chunk's events of a type nobody listened to when it was
    // read were dropped, so listeners added by an earlier event of that chunk missed
    // them (EventSource dispatches each event in a task of its own).
    title: 'listeners added by an event get the later events of their type, though the server sent them together',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/named');
      const seen = [];
      es.addEventListener('chat', (e) => {
        seen.push(`chat ${e.data}`);
        if (e.data !== '{"n":1}') return;
        es.onmessage = (m) => seen.push(`onmessage ${m.data}`);
        es.addEventListener('chat', (c) => seen.push(`added ${c.data}`));
      });
      await t.until('four calls', () => seen.length >= 4);
      es.close();
      t.eq(seen, ['chat {"n":1}', 'onmessage {"n":2}', 'chat {"n":3}', 'added {"n":3}'], 'calls');
    },
  },
  {
    // Regression (issue 16, item 8): onmessage ran after every listener, whatever the
    // order they were registered in.
    title: 'listeners run in registration order, onmessage in the place where it was first set',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/3');
      const calls = [];
      const handler = (name) =>
        function (e) {
          calls.push(`${e.lastEventId}:${name}${this === es ? '' : '(wrong this)'}`);
        };
      const h1 = handler('h1');
      const h2 = handler('h2');
      const h3 = handler('h3');
      es.addEventListener('message', (e) => calls.push(`${e.lastEventId}:a`));
      es.onmessage = h1;
      es.addEventListener('message', (e) => {
        calls.push(`${e.lastEventId}:b`);
        if (e.lastEventId === '1') es.onmessage = h2; // another function keeps the place
        if (e.lastEventId === '2') {
          es.onmessage = null; // null removes it ...
          es.onmessage = h3; // ... and setting it again puts it last
        }
        if (e.lastEventId === '3') es.close();
      });
      await t.until('three events', () => calls.length >= 9);
      t.eq(calls, ['1:a', '1:h1', '1:b', '2:a', '2:h2', '2:b', '3:a', '3:b', '3:h3'], 'calls');
      t.ok(es.onmessage === h3, 'onmessage answers the function set');
      es.onmessage = 'not a function';
      t.eq(es.onmessage, null, 'onmessage after setting a string');
      const object = {};
      es.onerror = object;
      t.ok(es.onerror === object, 'onerror keeps an object');
    },
  },
  {
    // TypedEventSource wraps each listener to know when a type's last one goes (and
    // stop that type's feed): the wrappers must keep EventTarget's rules.
    title: "addEventListener's rules: one listener added twice, capture apart, once, a signal, an object's handleEvent, a removal during a dispatch",
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/3');
      const calls = [];
      const f = function (e) {
        calls.push(`${e.lastEventId}:f${this === es ? '' : '(wrong this)'}`);
      };
      es.addEventListener('message', f);
      es.addEventListener('message', f); // the same: one
      es.addEventListener('message', f, true); // another, with capture ...
      es.removeEventListener('message', f, { capture: true }); // ... removed alone
      es.addEventListener('message', null);
      es.addEventListener('message', (e) => calls.push(`${e.lastEventId}:once`), { once: true });
      const controller = new AbortController();
      const signal = controller.signal;
      es.addEventListener('message', (e) => calls.push(`${e.lastEventId}:signal`) && controller.abort(), { signal });
      es.addEventListener('message', (e) => calls.push(`${e.lastEventId}:aborted`), { signal: AbortSignal.abort() });
      const object = {
        handleEvent(e) {
          calls.push(`${e.lastEventId}:object${this === object ? '' : '(wrong this)'}`);
        },
      };
      es.addEventListener('message', object);
      const later = (e) => calls.push(`${e.lastEventId}:later`);
      es.addEventListener('message', (e) => e.lastEventId === '2' && es.removeEventListener('message', later));
      es.addEventListener('message', later);
      es.addEventListener('message', (e) => e.lastEventId === '3' && es.close());
      await t.until('three events', () => calls.includes('3:object'));
      t.eq(calls, ['1:f', '1:once', '1:signal', '1:object', '1:later', '2:f', '2:object', '3:f', '3:object'], 'calls');
    },
  },
  {
    // The same wrappers (a review): the arguments must be converted as WebIDL does,
    // and a listener its signal removed must count as gone before the abort event
    // reaches the class (it may never: another abort listener can stop it).
    title: "addEventListener's arguments as WebIDL converts them; a listener its signal removed may be added again, from the abort event or after",
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/3');
      const calls = [];
      const thrown = (f) => {
        try {
          f();
          return 'nothing';
        } catch (e) {
          return e instanceof TypeError ? 'TypeError' : String(e);
        }
      };
      const g = (e) => calls.push(`${e.lastEventId}:g`);
      es.addEventListener('message', g);
      t.eq(
        [
          thrown(() => es.addEventListener('message', g, { signal: {} })), // added already: still checked
          thrown(() => es.addEventListener('message', () => {}, { signal: {} })),
          thrown(() => es.addEventListener(Symbol('x'), () => {})),
          thrown(() => es.removeEventListener(Symbol('x'), () => {})),
          thrown(() => es.addEventListener('message', 'not an object')),
          thrown(() => es.addEventListener('message', undefined)),
        ],
        ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'nothing'],
        'what throws',
      );
      // Options given as a function are a dictionary too.
      es.addEventListener('message', (e) => calls.push(`${e.lastEventId}:fn-once`), Object.assign(() => {}, { once: true }));
      const h = (e) => calls.push(`${e.lastEventId}:h`);
      const first = new AbortController();
      first.signal.addEventListener('abort', () => es.addEventListener('message', h));
      es.addEventListener('message', h, { signal: first.signal });
      first.abort();
      const k = (e) => calls.push(`${e.lastEventId}:k`);
      const second = new AbortController();
      second.signal.addEventListener('abort', (e) => e.stopImmediatePropagation());
      es.addEventListener('message', k, { signal: second.signal });
      second.abort();
      es.addEventListener('message', k);
      // An abort event that a script dispatches does not abort the signal.
      const m = (e) => calls.push(`${e.lastEventId}:m`);
      const third = new AbortController();
      es.addEventListener('message', m, { signal: third.signal });
      third.signal.dispatchEvent(new Event('abort'));
      es.addEventListener('message', m); // added already
      es.addEventListener('message', (e) => e.lastEventId === '3' && es.close());
      await t.until('three events', () => calls.includes('3:m'));
      t.eq(calls, ['1:g', '1:fn-once', '1:h', '1:k', '1:m', '2:g', '2:h', '2:k', '2:m', '3:g', '3:h', '3:k', '3:m'], 'calls');
    },
  },
  {
    // Regression (issue 16, item 8): a server event named "open" never reached
    // TypedEventSource's "open" listeners.
    title: 'a server event named "open" reaches onopen and the open listeners as a MessageEvent, after the connection\'s open Event',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/2?event=open');
      const handler = [];
      const listener = [];
      es.onopen = (e) => handler.push(t.describe(es, e));
      es.addEventListener('open', (e) => listener.push(t.describe(es, e)));
      await t.until('the open Event and two "open" messages', () => listener.length >= 3);
      es.close();
      const want = [
        { type: 'open', message: false, data: null, id: null, readyState: 1 },
        { type: 'open', message: true, data: '{"n":1}', id: '1', readyState: 1 },
        { type: 'open', message: true, data: '{"n":2}', id: '2', readyState: 1 },
      ];
      t.eq(handler, want, 'onopen');
      t.eq(listener, want, 'the open listener');
    },
  },
  {
    // Regression (issue 16, item 8): a server event named "error" never reached
    // TypedEventSource's "error" listeners.
    title: 'a server event named "error" reaches onerror and the error listeners as a MessageEvent, then the lost connection\'s error Event',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/2?event=error');
      const handler = [];
      const listener = [];
      es.onerror = (e) => handler.push(t.describe(es, e));
      es.addEventListener('error', (e) => {
        listener.push(t.describe(es, e));
        if (!(e instanceof MessageEvent)) es.close();
      });
      await t.until('two "error" messages and the error Event', () => listener.length >= 3);
      const want = [
        { type: 'error', message: true, data: '{"n":1}', id: '1', readyState: 1 },
        { type: 'error', message: true, data: '{"n":2}', id: '2', readyState: 1 },
        { type: 'error', message: false, data: null, id: null, readyState: 0 },
      ];
      t.eq(handler, want, 'onerror');
      t.eq(listener, want, 'the error listener');
    },
  },
  {
    // A server event named "sharerole", the name of TypedEventSource's own role
    // event, is not fed to its listeners (issue 18 reserves the name; the package
    // checks say what does get it).
    title: 'a server event named "sharerole" reaches the sharerole listeners as a MessageEvent',
    differs: {
      native: 'the name sharerole is the class\'s own event (docs/eventsource.md)',
      fetch: 'the name sharerole is the class\'s own event (docs/eventsource.md)',
    },
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/2?event=sharerole');
      const seen = [];
      es.addEventListener('sharerole', (e) => seen.push(t.describe(es, e)));
      await t.until('two "sharerole" messages', () => seen.length >= 2);
      es.close();
      t.eq(seen, [
        { type: 'sharerole', message: true, data: '{"n":1}', id: '1', readyState: 1 },
        { type: 'sharerole', message: true, data: '{"n":2}', id: '2', readyState: 1 },
      ], 'the sharerole listener');
    },
  },
  {
    title: 'MessageEvent.lastEventId: each event\'s own, kept by events without an id; data lines joined by LF',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/line-endings/lf');
      const seen = [];
      es.onmessage = (e) => seen.push([e.type, e.lastEventId, e.data]);
      es.addEventListener('chat', (e) => seen.push([e.type, e.lastEventId, e.data]));
      await t.until('three events', () => seen.length >= 3);
      es.close();
      t.eq(seen, [['message', '1', '{"n":1}'], ['chat', '1', '{"n":2}'], ['message', '3', '{"n":3,\n"text":"two lines"}']], 'events');
    },
  },
  {
    title: 'close(): readyState CLOSED at once, and no event after it, from a listener in the middle of a stream or before open',
    run: async (EventSource, t) => {
      const seen = [];
      const es = new EventSource('scenario/end-after/50');
      for (const type of ['open', 'message', 'error']) {
        es.addEventListener(type, (e) => {
          seen.push(e.type);
          if (e.type === 'message') {
            es.close();
            seen.push(`readyState ${es.readyState}`);
            es.close(); // twice is harmless
          }
        });
      }
      const early = [];
      const unopened = new EventSource('scenario/end-after/50');
      for (const type of ['open', 'message', 'error']) unopened.addEventListener(type, (e) => early.push(e.type));
      unopened.close();
      await t.until('the first message', () => seen.includes('message'));
      // By the time another source, opened now, has read the same 50 events and the
      // end of the stream, the closed ones would have seen theirs.
      let read = 0;
      let ended = false;
      const other = new EventSource('scenario/end-after/50');
      other.onmessage = () => read++;
      other.onerror = () => {
        ended = true;
        other.close();
      };
      await t.until('the other source to read 50 events and the end', () => read === 50 && ended);
      t.eq(seen, ['open', 'message', 'readyState 2'], 'the source closed in its first message');
      t.eq(early, [], 'the source closed before it opened');
      t.eq([es.readyState, unopened.readyState], [2, 2], 'readyState');
    },
  },
  {
    title: 'a lost connection: error with readyState CONNECTING, then open again, resuming after the last id',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/drop-every/2?total=4&retry=300');
      const seen = [];
      es.onopen = () => seen.push(`open ${es.readyState}`);
      es.onerror = () => seen.push(`error ${es.readyState}`);
      es.onmessage = (e) => {
        seen.push(`message ${e.lastEventId}`);
        if (e.lastEventId === '4') es.close();
      };
      await t.until('event 4', () => seen.includes('message 4'));
      t.eq(seen, ['open 1', 'message 1', 'message 2', 'error 0', 'open 1', 'message 3', 'message 4'], 'events');
    },
  },
  {
    // Regression (fetch): the first retry added the whole jittered backoff (up to 1 s)
    // to the server's retry:, where EventSource waits it (WPT format-field-retry: open
    // to open within 10%).
    title: "the server's retry: is the wait before reconnecting: at least it, open to open at most 25% more",
    needs: { fetch: 'item 3 (retry: as a minimum, no backoff on the first retry)' },
    run: async (EventSource, t) => {
      const retry = 2000; // as WPT format-field-retry
      const es = new EventSource(`scenario/end-after/1?retry=${retry}`);
      const times = [];
      es.onerror = () => times.push(['error', performance.now()]);
      es.onopen = () => times.push(['open', performance.now()]);
      await t.until('the second open', () => times.filter(([kind]) => kind === 'open').length >= 2);
      es.close();
      const lost = times.find(([kind]) => kind === 'error')[1];
      const [opened, reopened] = times.filter(([kind]) => kind === 'open').map(([, at]) => at);
      const waited = Math.round(reopened - lost);
      t.ok(waited >= retry * 0.95, `reconnected ${waited} ms after the error, with retry: ${retry}`);
      // Not WPT's 10% (200 ms, for the connection made again too, which a loaded
      // machine overran): 500 ms. The backoff the bug added, 100 ms to 1 s at random,
      // still shows in most runs; no wait, or a capped one, fails the bound above.
      const cycle = Math.round(reopened - opened);
      t.ok(cycle < retry * 1.25, `opened again ${cycle} ms after the first open, with retry: ${retry}`);
    },
  },
  {
    title: 'a status that is not 200, 204 or a wrong content type fails: one error with readyState CLOSED, nothing before',
    run: async (EventSource, t) => {
      for (const path of ['scenario/status/404', 'scenario/no-content', 'scenario/content-type?type=text/plain']) {
        const es = new EventSource(path);
        const seen = [];
        for (const type of ['open', 'message', 'error']) es.addEventListener(type, (e) => seen.push(t.describe(es, e)));
        await t.until(`${path}: an event`, () => seen.length);
        es.close();
        t.eq(seen, [{ type: 'error', message: false, data: null, id: null, readyState: 2 }], `${path}: events`);
      }
    },
  },
  {
    title: 'a 204 closes for good, though the server would answer again',
    // Chromium shows no status of an answer EventSource refuses (and may not have read
    // its body), so native cannot tell this 204 from a 502 with an error page when the
    // check finds a stream: it retries (docs/reconnecting.md).
    differs: { native: 'a 204 the server would answer again with a stream is retried (docs/reconnecting.md)' },
    run: async (EventSource, t) => {
      const channel = t.unique('dropin-204');
      await t.server('POST', `/control/fail?channel=${channel}&count=1&status=204`);
      const es = new EventSource(`events?channel=${channel}`);
      const seen = [];
      for (const type of ['open', 'message', 'error']) es.addEventListener(type, (e) => seen.push(t.describe(es, e)));
      await t.until('an event', () => seen.length);
      es.close();
      t.eq(seen, [{ type: 'error', message: false, data: null, id: null, readyState: 2 }], 'events');
    },
  },
  {
    title: 'a CORS rejection closes for good: one error with readyState CLOSED',
    page: 'foreign',
    needs: { native: 'item 9 (permanent failures)', fetch: 'item 9 (permanent failures)' },
    run: async (EventSource, t) => {
      // This page's origin is not loopback by name: the server sends it no CORS headers.
      const es = new EventSource(`${t.base}/scenario/end-after/3`);
      const seen = [];
      for (const type of ['open', 'message', 'error']) es.addEventListener(type, (e) => seen.push(t.describe(es, e)));
      await t.until('an event', () => seen.length);
      es.close();
      t.eq(seen, [{ type: 'error', message: false, data: null, id: null, readyState: 2 }], 'events');
    },
  },
  {
    title: 'window.stop() closes for good: one error with readyState CLOSED',
    needs: { native: 'item 9 (permanent failures)' },
    // Same-origin, as the browsers' own tests run it: there native sees in the request's
    // Resource Timing entry that no answer came.
    page: 'same',
    // Fetch: Chromium rejects a fetch the page stopped with the TypeError of a lost
    // network; same-origin there is no CORS check to tell them apart (docs/reconnecting.md).
    differs: { fetch: 'a window.stop() same-origin reads as a lost network and is retried (docs/reconnecting.md)' },
    run: stopBeforeOpen,
  },
  {
    title: 'window.stop() cross-origin closes for good: one error with readyState CLOSED',
    page: 'site',
    needs: { fetch: 'item 9 (permanent failures)' },
    // Native: cross-origin the entry hides whether an answer came (docs/reconnecting.md).
    differs: { native: 'a window.stop() cross-origin before the stream opened is retried (docs/reconnecting.md)' },
    run: stopBeforeOpen,
  },
  {
    title: 'a same-origin URL that redirects to another origin resumes after a drop',
    // What broke (fetch): the transport judged CORS by the URL it was given, so when a
    // same-origin URL redirected to another origin whose server refuses the preflight
    // that the Last-Event-ID header costs, every reconnect failed and was retried with
    // the header for good; now the redirect's origin counts, and it resumes through
    // the query as it does cross-origin (the redirect keeps the query).
    page: 'same',
    run: async (EventSource, t) => {
      const token = t.unique('dropin-redirect');
      // Four connections: each ends after three events (the fourth idles after 12).
      const target = `/scenario/drop-every/3?total=12&retry=10&preflight=refuse&token=${token}`;
      const es = new EventSource(`scenario/redirect?to=${encodeURIComponent(target)}`);
      const seen = [];
      es.onmessage = (e) => seen.push(`${e.lastEventId} ${e.data}`);
      es.onerror = () => seen.push(`error ${es.readyState}`);
      await t.until('event 12', () => seen.includes('12 {"n":12}'));
      es.close();
      // EventSource's requests cost no preflight: they resume with the header. Fetch's
      // first two resumes with the header fail (one more error event each; the refused
      // preflight is not logged), then go through the query, which is kept once it
      // connected twice so: the third resumes through it at once. Its error events
      // tell a refused header apart.
      const fetch = t.kind === 'fetch';
      const events = (from) => [from, from + 1, from + 2].map((n) => `${n} {"n":${n}}`);
      const lost = fetch ? ['error 0', 'error 0'] : ['error 0'];
      t.eq(seen, [...events(1), ...lost, ...events(4), ...lost, ...events(7), 'error 0', ...events(10)], 'events');
      const log = JSON.parse(await t.server('GET', `/scenario/log/${token}`));
      const resumedFrom = log.map((r) => [r.lastEventId, r.lastEventIdQuery]);
      const want = fetch ? [[null, null], [null, '3'], [null, '6'], [null, '9']] : [[null, null], ['3', null], ['6', null], ['9', null]];
      t.eq(resumedFrom, want, 'each request resumed from ([header, query])');
    },
  },
  {
    title: 'an id outside ISO-8859-1 resumes (Last-Event-ID in UTF-8)',
    needs: { fetch: 'item 12 (Last-Event-ID outside ISO-8859-1)' },
    run: async (EventSource, t) => {
      const channel = t.unique('dropin-utf8');
      const es = new EventSource(`events?channel=${channel}&retry=300`);
      const seen = [];
      es.onopen = () => seen.push('open');
      es.onerror = () => seen.push(`error ${es.readyState}`);
      es.onmessage = (e) => seen.push(`${e.lastEventId} ${e.data}`);
      es.addEventListener('reset', (e) => seen.push(`reset ${e.data}`));
      await t.until('open', () => seen.includes('open'));
      await t.server('POST', '/publish', { channel, id: 'é€1', data: { n: 1 } });
      await t.until('event é€1', () => seen.length >= 2);
      await t.server('POST', `/control/drop?channel=${channel}`);
      await t.until('the lost connection', () => seen.length >= 3);
      await t.server('POST', '/publish', { channel, id: 'é€2', data: { n: 2 } });
      await t.until('event é€2', () => seen.length >= 5);
      es.close();
      t.eq(seen, ['open', 'é€1 {"n":1}', 'error 0', 'open', 'é€2 {"n":2}'], 'events');
    },
  },
  {
    // Regression: the drop-in called the attribute's value with .call(), so an object
    // that is not a function threw a TypeError, reported at every event.
    title: 'an event handler attribute set to an object that is not callable is kept and does nothing: no error is reported',
    run: async (EventSource, t) => {
      const reported = [];
      const onError = (e) => {
        reported.push(String(e.error && e.error.message));
        e.preventDefault();
      };
      window.addEventListener('error', onError);
      try {
        const es = new EventSource('scenario/end-after/2');
        const object = { handleEvent: () => reported.push('handleEvent called') };
        es.onmessage = object;
        const seen = [];
        es.addEventListener('message', (e) => {
          seen.push(e.lastEventId);
          if (e.lastEventId === '2') es.close();
        });
        await t.until('two events', () => seen.length >= 2);
        t.ok(es.onmessage === object, 'onmessage keeps the object');
        t.eq(reported, [], 'nothing called, nothing reported');
      } finally {
        window.removeEventListener('error', onError);
      }
    },
  },
  {
    // Regression (a review): the drop-in's handler attributes dropped what the handler
    // returned, so `false` did not cancel a cancelable event a script dispatched.
    title: 'an event handler attribute that returns false cancels a cancelable event (and only that one)',
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/1');
      es.close();
      es.onerror = () => false;
      const cancelable = new Event('error', { cancelable: true });
      t.eq([es.dispatchEvent(cancelable), cancelable.defaultPrevented], [false, true], 'a cancelable event');
      const plain = new Event('error');
      t.eq([es.dispatchEvent(plain), plain.defaultPrevented], [true, false], 'an event that is not cancelable');
      es.onerror = () => 0;
      const other = new Event('error', { cancelable: true });
      t.eq([es.dispatchEvent(other), other.defaultPrevented], [true, false], 'a return value other than false');
    },
  },
  {
    title: 'an exception in a listener is reported (window error event) and the stream goes on',
    run: async (EventSource, t) => {
      const reported = [];
      const onError = (e) => {
        reported.push(e.error && e.error.message);
        e.preventDefault();
      };
      window.addEventListener('error', onError);
      try {
        const es = new EventSource('scenario/end-after/3');
        const seen = [];
        es.onmessage = (e) => {
          seen.push(e.lastEventId);
          throw new Error(`thrown at ${e.lastEventId}`);
        };
        es.addEventListener('message', (e) => {
          seen.push(`after ${e.lastEventId}`);
          if (e.lastEventId === '3') es.close();
        });
        await t.until('three events', () => seen.length >= 6);
        t.eq(seen, ['1', 'after 1', '2', 'after 2', '3', 'after 3'], 'listeners');
        t.eq(reported, ['thrown at 1', 'thrown at 2', 'thrown at 3'], 'reported');
      } finally {
        window.removeEventListener('error', onError);
      }
    },
  },
  {
    // Issue 16, item 15: the one documented difference.
    title: "isTrusted: true for the browser's events, false for TypedEventSource's (documented: script-dispatched events never are)",
    run: async (EventSource, t) => {
      const es = new EventSource('scenario/end-after/1');
      const trusted = [];
      es.onopen = (e) => trusted.push(e.isTrusted);
      es.onmessage = (e) => {
        trusted.push(e.isTrusted);
        es.close();
      };
      await t.until('open and a message', () => trusted.length >= 2);
      const want = t.kind === 'browser';
      t.eq(trusted, [want, want], 'isTrusted of open and message');
    },
  },
];

/** The `t` of each check, made in the page (serialised, like the checks). */
function helpers() {
  const show = (value) => JSON.stringify(value);
  return {
    /** Throws unless `actual` and `expected` are the same as JSON. */
    eq(actual, expected, what) {
      if (show(actual) !== show(expected)) throw new Error(`${what}: got ${show(actual)}, expected ${show(expected)}`);
    },
    ok(condition, what) {
      if (!condition) throw new Error(what);
    },
    /** Resolves with `predicate()` once it is truthy (checked every 20 ms); rejects
     *  after `ms` saying what was awaited. */
    until(what, predicate, ms = 10_000) {
      const start = performance.now();
      return new Promise((resolve, reject) => {
        const poll = () => {
          let value;
          try {
            value = predicate();
          } catch (e) {
            reject(e);
            return;
          }
          if (value) resolve(value);
          else if (performance.now() - start > ms) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
          else setTimeout(poll, 20);
        };
        poll();
      });
    },
    /** An event as a comparable record, with the source's readyState as dispatched. */
    describe(es, e) {
      const message = e instanceof MessageEvent;
      return { type: e.type, message, data: message ? e.data : null, id: message ? e.lastEventId : null, readyState: es.readyState };
    },
    unique(prefix) {
      return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    },
    /** A request to the test server, made by the test process (not the page). */
    server(method, path, body) {
      return window.dropinServer(method, path, body === undefined ? null : JSON.stringify(body));
    },
  };
}

/** Runs one check in the page: the constructor under test, `t`, a deadline. */
async function runInPage({ source, helpersSource, kind, base, keepGlobal, ms }) {
  let Constructor = window.EventSource;
  if (kind !== 'browser') {
    const transport = kind;
    // What a user writes to swap the class in, with a transport of their choice.
    Constructor = class EventSource extends window.TypedEventSource {
      constructor(url, init) {
        super(url, { transport, withCredentials: Boolean(init && init.withCredentials) });
      }
    };
    if (!keepGlobal) window.EventSource = Constructor;
  }
  // eslint-disable-next-line no-eval
  const make = (0, eval)(`(${helpersSource})`);
  const t = { ...make(), kind, base, origin: new URL(base).origin, replaced: kind !== 'browser' && !keepGlobal };
  // eslint-disable-next-line no-eval
  const check = (0, eval)(`(${source})`);
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the check took longer than ${ms} ms`)), ms);
  });
  try {
    await Promise.race([check(Constructor, t), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const runner = createRunner();
const base = await runner.startup({ paths: ['/scenario/log/dropin-test'] });
if (base) {
  const site = await servePackage();
  const foreign = site.origin.replace('127.0.0.1', FOREIGN_HOST);
  // The package and the test server on one origin, as the browsers' own tests run.
  const same = await servePackage({ proxy: base });
  const browser = await launchBrowser([`--host-resolver-rules=MAP ${FOREIGN_HOST} 127.0.0.1`]);
  /** Requests the page asks the test process to make. */
  const serverRequest = async (method, path, body) => {
    if (method === 'wait-for-request') return waitForRequest(path);
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === null ? {} : { 'content-type': 'application/json' },
      body: body === null ? undefined : body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text;
  };
  /** Waits until the server's request log of the URL's token holds a request. */
  const waitForRequest = async (url) => {
    const token = new URL(url).searchParams.get('token');
    for (let i = 0; i < 500; i++) {
      const log = await (await fetch(`${base}/scenario/log/${token}`)).json();
      if (log.length) return log.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no request with token ${token} reached the server`);
  };
  try {
    // Each check on the package's own origin, and again (the transports under test)
    // on the test server's origin, as the browsers' own tests run: what native can
    // see of a failed request differs between the two.
    const passes = SAME_ORIGIN ? [['same', '']] : [['site', ''], ['same', ' (same-origin)']];
    for (const [arrangement, suffix] of passes) {
      for (const kind of ['browser', 'native', 'fetch']) {
        if (suffix && kind === 'browser') continue;
        let broken = null;
        for (const check of CHECKS) {
          if (suffix && check.page) continue;
          const needs = [check.needs?.[kind], kind === 'native' && !KEEP_GLOBAL ? NEEDS_GLOBAL : null].filter(Boolean);
          const title = `${kind}: ${check.title}${suffix}${needs.length ? ` [issue 16: ${needs.join('; ')}]` : ''}`;
          if (ONLY && !ONLY.test(title)) continue;
          if (check.differs?.[kind]) {
            console.log(`known difference, not run: ${kind}: ${check.title}${suffix}: ${check.differs[kind]}`);
            continue;
          }
          const where = check.page || arrangement;
          const ok = await runner.check(title, async () => {
            // A constructor that cannot read a stream at all (the native transport
            // constructing the replaced global) hangs the page: fail fast instead.
            if (broken) throw new Error(`not run: ${broken}`);
            const origin = { foreign: { origin: foreign }, same }[where] || site;
            const pageBase = where === 'same' ? same.origin : base;
            const page = await openPackagePage(browser, origin, { base: pageBase });
            try {
              await page.exposeFunction('dropinServer', serverRequest);
              await page.evaluate(runInPage, {
                source: check.run.toString(),
                helpersSource: helpers.toString(),
                kind,
                base: pageBase,
                keepGlobal: KEEP_GLOBAL,
                ms: CHECK_MS,
              });
            } finally {
              await page.close();
            }
          }, { timeout: CHECK_MS + 15_000 });
          // false, not undefined: a first check E2E_ONLY filtered out did not fail.
          if (check.first && ok === false) broken = `the first check (${check.title}) failed for ${kind}`;
        }
      }
    }
  } finally {
    await browser.close();
    await site.close();
    await same.close();
  }
}
runner.finish();
