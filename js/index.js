// The npm package's entry: `import { TypedEventSource } from "wasm-eventsource"`.
//
// - Starts loading the wasm module on import in a browser or worker, with no top-level
//   await: Chromium refuses a Service Worker whose module graph has one (and a module
//   SharedWorker is reported to lose its `connect` event while one is pending). So there is no init()
//   to call: a source constructed before the wasm is ready works at once (its state is
//   `connecting`, its callbacks and listeners are kept) and builds its connection when
//   the wasm is ready. The wasm file is found with `new URL(..., import.meta.url)`,
//   which Vite and webpack 5 handle with no plugin and a CDN serves as is (Rollup and
//   esbuild leave it as it is: the file must be copied next to the bundle).
//   `init()` stays exported (to load the wasm from elsewhere). Bad options throw in the
//   constructor either way: before the wasm is ready, `checkOptions` checks them as the
//   core would.
// - Importing it in Node (server-side rendering) does not throw; constructing a source
//   there does, with an error that says it needs a browser.
// - Where there is no EventSource (a Service Worker), the default transport is fetch.
// - TypedEventSource extends EventTarget and speaks the EventSource interface
//   (addEventListener, onmessage/onopen/onerror, readyState, CONNECTING/OPEN/CLOSED,
//   url, withCredentials, MessageEvents with raw string data), so code written for the
//   browser's EventSource runs unchanged; the typed `on()` is the recommended API.
//   The one difference a script cannot remove: the events it dispatches are never
//   `isTrusted`.
// - Like an EventSource, an open or reconnecting source stays alive with no reference
//   held by the user; close() (or `using`/Symbol.dispose) releases it and its wasm
//   memory.

import wasmInit, { TypedEventSource as Core } from '../pkg-web/wasm_eventsource.js';
import { OPTION_KEYS, RETRY_KEYS, absolute } from './url.js';

// Whether the browser's own EventSource was there as the package loaded, as the core
// judges it (src/transport/browser.js): a drop-in class put in its place later
// (`self.EventSource = TypedEventSource` in a Service Worker) does not make native the
// default.
const hasEventSource = typeof globalThis.EventSource === 'function';

// A browser or a worker: an edge runtime that defines `window` (Deno 1) or
// `WorkerGlobalScope` (Cloudflare's workerd) has no `location` (Deno 1's throws when
// read, as `typeof` does).
const inBrowser =
  typeof globalThis.fetch === 'function' &&
  (typeof window !== 'undefined' || typeof WorkerGlobalScope !== 'undefined') &&
  hasLocation();

/** Whether there is a `location` (a browser's page or worker). */
function hasLocation() {
  try {
    return typeof location !== 'undefined';
  } catch {
    return false;
  }
}

/** The load in progress or done; null before the first and after a failed one. */
let initialised = null;
/** The wasm module is ready: constructors build their core at once. */
let ready = false;

/**
 * Loads the wasm module (started on import in a browser or worker). Pass a URL, a
 * Response or bytes to load it from elsewhere: while the load started on import is
 * still going, it loads from there if that one fails (sources constructed meanwhile
 * wait for it). Once loaded, later calls return the same promise; after a failure
 * they try again. Sources need not wait for it: one constructed before the wasm is
 * ready checks its options at once and connects when it is.
 */
export function init(input) {
  if (initialised && (ready || input === undefined)) return initialised;
  const load = () => (input === undefined ? wasmInit() : wasmInit({ module_or_path: input }));
  // One load at a time: a second instance of the module must never start beside one
  // that may still succeed.
  const loading = initialised ? initialised.then(undefined, load) : load();
  const promise = loading.then(
    () => {
      ready = true;
    },
    (e) => {
      if (initialised === promise) initialised = null;
      throw e;
    },
  );
  initialised = promise;
  return promise;
}

// Without awaiting (see the top): sources constructed meanwhile wait in `Deferred`;
// one that is waiting when the load fails closes and says why.
if (inBrowser) init().catch(() => {});

/** What to do when the wasm module did not load. */
function loadAdvice() {
  // A test DOM in Node (jsdom, happy-dom: a `window` and a `location`) loads the
  // package from a file, which Node's `fetch` cannot read. (Told by the runtime, not
  // by `import.meta.url`, which webpack turns into a file: URL in browser bundles.)
  if (typeof globalThis.process?.versions?.node === 'string') {
    return "in Node (a test DOM such as jsdom) fetch cannot read the .wasm file: pass its bytes to init() first, as in init(await readFile('node_modules/wasm-eventsource/pkg-web/wasm_eventsource_bg.wasm'))";
  }
  return `check that the package's .wasm file is served (with Vite's dev server: optimizeDeps: { exclude: ["wasm-eventsource"] }), or pass its URL to init()`;
}

/** Sources that are open or reconnecting: held here, as the browser holds an open
 *  EventSource, so nothing the user drops is collected mid-stream. */
const live = new Set();

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** What an `events()` iterator (and a `stream()` loop) holds for a reader that is
 *  behind: 65,536 events, and 16 Mi characters of their text (data, type and id);
 *  past either the oldest go first, counted in the iterator's `dropped`. A loop that
 *  waits is behind too within one read of a fetch stream, whose events are all handed
 *  over before it runs again: the count holds a read of 512 KiB of the shortest events
 *  (8 bytes each). */
const ITERATOR_CAPACITY = 65536;
const ITERATOR_CHARS = 1 << 24;

/**
 * The events an iterator holds for a reader that is behind, oldest first, bounded in
 * count and in the characters of their text (the `size` a callback gets third: the
 * parsed value no longer tells it). Past either bound the oldest go, counted in
 * `dropped`; the newest stays, however large (`maxEventSize` caps one event). Read at
 * a head index: `Array#shift` copies the array once it is long (0.1 ms an event at
 * 65,536 in V8). An event's type and id count too (one with no data can carry a long
 * one); an id counts once for the events in a row that carry it, which share its
 * string.
 */
class Backlog {
  constructor(count, chars) {
    this.count = count;
    this.chars = chars;
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.held = 0;
    this.dropped = 0;
    this.lastId = '';
  }

  get length() {
    return this.items.length - this.head;
  }

  push(value, size, meta) {
    size += meta.type.length;
    if (meta.lastEventId !== this.lastId) {
      size += meta.lastEventId.length;
      this.lastId = meta.lastEventId;
    }
    this.items.push(value);
    this.sizes.push(size);
    this.held += size;
    while (this.length > 1 && (this.length > this.count || this.held > this.chars)) {
      this.shift();
      this.dropped += 1;
    }
  }

  shift() {
    const value = this.items[this.head];
    this.items[this.head] = undefined;
    this.held -= this.sizes[this.head];
    this.head += 1;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
    return value;
  }

  clear() {
    this.items.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.held = 0;
  }
}

export class TypedEventSource extends EventTarget {
  // CONNECTING, OPEN and CLOSED are on the class and its prototype (below the class).

  #core;
  #url;
  #withCredentials;
  /** What the getters answer once the core is freed. */
  #final = null;
  /** Types with an `onRaw` subscription feeding MessageEvents to listeners: type -> its
   *  registration id. A type's feed goes with its last listener (on native, with it
   *  the browser's listener for that type). */
  #feeds = new Map();
  /** The listeners of `addEventListener`, by type: { listener, capture, wrapper }, the
   *  wrapper being what EventTarget holds. (EventTarget cannot say how many listeners a
   *  type has, nor when `once` or a signal removed one: the wrapper and the signal
   *  tell.) */
  #listeners = new Map();
  /** The event handler attributes (onopen, onmessage, onerror) set: type -> { value,
   *  listener }. Each is one listener, added where the attribute was first set (since
   *  it was last null), as HTML's event handlers are: so it runs in that place among
   *  the listeners of its type. */
  #handlers = new Map();
  /** The share role last seen: a `sharerole` event fires when it changes. */
  #role = 'alone';
  /** The ids of this wrapper's own registrations (its state and share-role observers,
   *  the feeds of listeners): `off()` leaves them alone. */
  #internal = new Set();

  /**
   * Opens a connection. Throws a TypeError that says what is wrong for invalid options,
   * an Error when there is no browser (server-side rendering), and a `SyntaxError`
   * DOMException for a URL that does not parse, as EventSource does. A URL that is not
   * http(s) (`ftp:`, `about:blank`...) fails after construction, as with EventSource:
   * an `error` event, readyState 2, the state `closed`.
   */
  // `options = undefined`: the constructor's `length` is 1, as EventSource's.
  constructor(url, options = undefined) {
    super();
    if (!inBrowser) {
      throw new Error(
        'TypedEventSource needs a browser (fetch and EventSource): it was constructed ' +
          'outside one, as in server-side rendering; construct it on the client, in an ' +
          'effect or mount hook.',
      );
    }
    // Converted as WebIDL does: a Symbol throws, and so does no argument at all.
    if (arguments.length < 1) throw new TypeError("Failed to construct 'TypedEventSource': 1 argument required, but only 0 present.");
    const text = `${url}`;
    const href = absolute(text);
    // Each option read once, as WebIDL converts a dictionary: the check, the core and
    // this class read the copy.
    options = snapshot(options);
    if (!ready) {
      // The options first, as the core checks them.
      const every = checkOptions(options);
      if (every && credentialed(href)) {
        throw new TypeError(
          'invalid event source options: the fetch transport cannot send a URL with a user name or password in it ' +
            "(fetch refuses one, as Chromium's EventSource does): send the credentials in a header (Authorization) or a cookie instead",
        );
      }
      if (href === undefined) {
        // As EventSource (and the core, once ready) does, at once.
        throw new DOMException(
          `invalid event source url "${withoutCredentials(text)}": it does not parse as a URL; pass an absolute ` +
            'http(s) url or a path relative to the page',
          'SyntaxError',
        );
      }
      this.#core = new Deferred(href, options, every);
    } else {
      this.#core = build(href ?? text, href, options);
    }
    this.#url = this.#core.url;
    this.#withCredentials = Boolean(options?.withCredentials);
    live.add(this);
    // Weakly: the wasm side holds its callbacks as roots, so a strong `this` here would
    // keep every source alive for ever; `live` alone keeps an open one.
    const self = new WeakRef(this);
    this.#internal.add(this.#core.onState((state) => self.deref()?.#state(state)));
    this.#internal.add(this.#core.onShareRole((role) => self.deref()?.#shareRole(role)));
  }

  /** The typed API: `callback(data, meta)` with the event's JSON parsed. */
  on(type, callback) {
    return this.#alive('on').on(`${type}`, callable('on', callback));
  }
  /** `callback(data, meta)` with the data as text. */
  onRaw(type, callback) {
    return this.#alive('onRaw').onRaw(`${type}`, callable('onRaw', callback));
  }
  onDecodeError(callback) {
    return this.#alive('onDecodeError').onDecodeError(callable('onDecodeError', callback));
  }
  onState(callback) {
    callable('onState', callback);
    if (this.#ended()) {
      observe(callback, this.#final.state);
      return 0;
    }
    return this.#core.onState(callback);
  }
  /** `callback(role, followers)` at once, then on every change of the share role or
   *  of the leader's follower count (the `share` option). */
  onShareRole(callback) {
    callable('onShareRole', callback);
    if (this.#ended()) {
      observe((role) => callback(role, 0), 'alone');
      return 0;
    }
    return this.#core.onShareRole(callback);
  }
  onGap(callback) {
    return this.#alive('onGap').onGap(callable('onGap', callback));
  }
  /** Every event, whatever its type: `callback(data, meta)`, data parsed as JSON or,
   *  when it is not JSON, the text with `meta.json` false. Fetch transport only. */
  onAny(callback) {
    return this.#alive('onAny').onAny(callable('onAny', callback));
  }
  off(id) {
    // Only an id `on` gave: the core takes a u32, which another value would wrap to.
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff || this.#internal.has(id)) return false;
    if (this.#ended()) {
      // Closed, nothing is left to remove (false, as on every path). But closed while
      // the core still delivered a state (a close from a callback), its closed state
      // is still on its way: a callback removed then must not get it.
      this.#core?.off(id);
      return false;
    }
    return this.#core.off(id);
  }
  reconnect() {
    if (!this.#ended()) this.#core.reconnect();
  }

  /** Closes the connection for good and frees its wasm memory. */
  close() {
    if (this.#ended()) return;
    this.#core.close();
  }

  get readyState() {
    return this.#final ? CLOSED : this.#core.readyState;
  }
  get url() {
    return this.#url;
  }
  get withCredentials() {
    return this.#withCredentials;
  }
  /** The resume point; in an event's callback or listener, that event's id. */
  get lastEventId() {
    return this.#final ? this.#final.lastEventId : this.#core.lastEventId;
  }
  get state() {
    return this.#final ? this.#final.state : this.#core.state;
  }
  /** "alone", "leader" or "follower" (the `share` option); `sharerole` fires on change. */
  get shareRole() {
    return this.#ended() ? 'alone' : this.#role;
  }

  get onmessage() {
    return this.#handler('message');
  }
  set onmessage(value) {
    this.#setHandler('message', value);
  }
  get onopen() {
    return this.#handler('open');
  }
  set onopen(value) {
    this.#setHandler('open', value);
  }
  get onerror() {
    return this.#handler('error');
  }
  set onerror(value) {
    this.#setHandler('error', value);
  }

  /** As EventTarget's; events of `type` from the server reach it as MessageEvents,
   *  whatever the type, `open` and `error` included (as with EventSource), but for
   *  `sharerole`, this class's own. */
  addEventListener(type, listener, options) {
    // Fewer than two arguments: EventTarget's own TypeError.
    if (arguments.length < 2) return super.addEventListener(...arguments);
    // Converted as WebIDL does (a Symbol throws), each option read once.
    type = `${type}`;
    // `sharerole` is this class's own event, never a server event type: the one name
    // the drop-in keeps from the server. (A listener that is not an object:
    // EventTarget ignores null and throws for the rest.)
    if (!isObject(listener) || type === 'sharerole') return super.addEventListener(type, listener, options);
    const flat = flatten(options);
    this.#prune(type);
    const same = this.#listeners.get(type)?.find((l) => l.listener === listener && l.capture === flat.capture);
    // Added already: EventTarget keeps one, and checks the options all the same.
    if (same) return super.addEventListener(type, same.wrapper, flat);
    const self = new WeakRef(this);
    const entry = { listener, capture: flat.capture, signal: flat.signal };
    // Called as EventTarget calls a listener: a function with `this` the source, an
    // object through its `handleEvent`; what it throws is reported by dispatchEvent.
    entry.wrapper = function (event) {
      if (flat.once) self.deref()?.#forget(type, entry);
      return typeof listener === 'function' ? Reflect.apply(listener, this, [event]) : listener.handleEvent(event);
    };
    // (EventTarget checks the options, and adds nothing for an aborted signal.)
    super.addEventListener(type, entry.wrapper, flat);
    if (flat.signal?.aborted) return;
    // (Closed, nothing feeds a type: EventTarget drops the listener when the signal
    // aborts, and this class forgets it at the type's next call.)
    if (flat.signal && !this.#ended()) {
      // (An `abort` event a script dispatches does not abort the signal.)
      entry.onAbort = () => entry.signal.aborted && self.deref()?.#forget(type, entry);
      flat.signal.addEventListener('abort', entry.onAbort);
    }
    const list = this.#listeners.get(type) ?? [];
    list.push(entry);
    this.#listeners.set(type, list);
    this.#dispatch(type);
  }

  /** As EventTarget's; the last listener of a type stops its feed. */
  removeEventListener(type, listener, options) {
    if (arguments.length < 2) return super.removeEventListener(...arguments);
    type = `${type}`;
    if (!isObject(listener)) return super.removeEventListener(type, listener, options);
    const capture = captures(options);
    this.#prune(type);
    const entry = this.#listeners.get(type)?.find((l) => l.listener === listener && l.capture === capture);
    super.removeEventListener(type, entry ? entry.wrapper : listener, capture);
    if (entry) this.#forget(type, entry);
  }

  /**
   * The events of `type` as an async iterator of `{ data, meta }` (data parsed as
   * JSON; decode errors go to onDecodeError). It ends when the source closes;
   * leaving the loop removes its callback. It holds at most 65,536 events a reader has
   * not taken yet, and 16 Mi characters of their text (data, type and id): past that the oldest go,
   * counted in the iterator's `dropped`.
   */
  events(type) {
    // What the callbacks feed: made outside this method (`feed`, `ender`), so that they
    // hold this and not the iterator, which can then be collected (see `abandoned`).
    const feeding = { queue: new Backlog(ITERATOR_CAPACITY, ITERATOR_CHARS), waiting: [], done: false, pin: null };
    const { queue, waiting } = feeding;
    const iterator = {
      /** Events dropped, oldest first, because 65,536 (or 16 Mi characters) were
       *  already waiting. */
      get dropped() {
        return queue.dropped;
      },
      next: () => {
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        if (feeding.done) return Promise.resolve({ value: undefined, done: true });
        // Held while a `next()` waits (`await es.events(t).next()` holds no iterator
        // of its own): collected then, it would take the callback that settles it.
        feeding.pin = iterator;
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        abandoned?.unregister(iterator);
        this.off(id);
        this.off(stateId);
        end(feeding);
        queue.clear();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    let id = null;
    let stateId = null;
    if (this.#ended()) {
      // Closed already: the loop ends at once, as it would have a moment later (the
      // type still converted as `on` converts it).
      type = `${type}`;
      end(feeding);
      return iterator;
    }
    id = this.on(type, feed(feeding));
    stateId = this.onState(ender(feeding));
    // An iterator left without `return()` (one `next()` taken, then dropped) goes with
    // its callbacks once collected, rather than holding 65,536 events for the source's life.
    abandoned?.register(iterator, { source: this, ids: [id, stateId] }, iterator);
    return iterator;
  }


  /** The core, for `method`; on a closed source, an Error that says why it closed
   *  (a 401 and `close()` call for different fixes). */
  #alive(method) {
    if (this.#ended()) {
      const { reason, message } = this.#final.state ?? {};
      throw new Error(`TypedEventSource.${method}: this source is closed (${message || reason || 'closed'}); open a new one to listen again`);
    }
    return this.#core;
  }

  #handler(type) {
    const slot = this.#handlers.get(type);
    return slot ? slot.value : null;
  }

  #setHandler(type, value) {
    // As WebIDL's [LegacyTreatNonObjectAsNull] callbacks: what is not an object is null.
    const handler = typeof value === 'function' || (typeof value === 'object' && value !== null) ? value : null;
    const slot = this.#handlers.get(type);
    if (handler === null) {
      if (slot) {
        this.#handlers.delete(type);
        super.removeEventListener(type, slot.listener);
        this.#unfeed(type);
      }
    } else if (slot) {
      slot.value = handler; // keeps its place
    } else {
      // Exceptions are reported by dispatchEvent, as for any listener. An object that
      // is not callable is kept but does nothing, as WebIDL's callback functions do.
      const entry = {
        value: handler,
        // A handler that returns `false` cancels the event, as HTML's event handler
        // processing does (only a cancelable one: a script's own `dispatchEvent`).
        listener: (event) => {
          if (typeof entry.value === 'function' && Reflect.apply(entry.value, this, [event]) === false) event.preventDefault();
        },
      };
      this.#handlers.set(type, entry);
      super.addEventListener(type, entry.listener);
      this.#dispatch(type);
    }
  }

  /** Feeds events of `type` to EventTarget listeners as MessageEvents, once per type. */
  #dispatch(type) {
    if (this.#ended() || this.#feeds.has(type)) return;
    const self = new WeakRef(this);
    const id = this.#core.onRaw(type, (data, meta) => self.deref()?.#message(type, data, meta));
    this.#feeds.set(type, id);
    this.#internal.add(id);
  }

  /** Forgets the listeners of `type` whose signal aborted: EventTarget removed them
   *  before the abort event, which this class's abort listener may not have heard yet,
   *  or at all (another abort listener may stop it). */
  #prune(type) {
    const list = this.#listeners.get(type);
    // (Copied only when one went: this runs for each event of the drop-in's listeners.)
    if (list?.some((l) => l.signal?.aborted)) for (const l of [...list]) if (l.signal?.aborted) this.#forget(type, l);
  }

  /** A listener removed (by `removeEventListener`, `once` or its signal). */
  #forget(type, entry) {
    const list = this.#listeners.get(type);
    const at = list ? list.indexOf(entry) : -1;
    if (at < 0) return;
    list.splice(at, 1);
    if (entry.onAbort) entry.signal.removeEventListener('abort', entry.onAbort);
    if (list.length) return;
    this.#listeners.delete(type);
    this.#unfeed(type);
  }

  /** Stops the feed of `type` when nothing listens to it any more. */
  #unfeed(type) {
    const id = this.#feeds.get(type);
    if (id === undefined || this.#listeners.has(type) || this.#handlers.has(type)) return;
    this.#feeds.delete(type);
    this.#internal.delete(id);
    if (!this.#ended()) this.#core.off(id);
  }

  #shareRole(role) {
    if (role === this.#role) return;
    this.#role = role;
    this.dispatchEvent(new Event('sharerole'));
  }

  #message(type, data, meta) {
    this.#prune(type);
    this.dispatchEvent(new MessageEvent(type, { data, lastEventId: meta.lastEventId, origin: meta.origin }));
  }

  #state(state) {
    // Closed first: the final `error` listener sees a closed source, whose `on()`
    // throws as the types say.
    if (state.kind === 'closed') this.#release(state);
    if (state.kind === 'open') {
      this.dispatchEvent(new Event('open'));
    } else if (
      state.kind === 'reconnecting' ||
      (state.kind === 'closed' && state.reason !== 'client' && state.reason !== 'completed')
    ) {
      // As EventSource fires `error` when the connection is lost or fails (a request's
      // complete answer is neither).
      this.dispatchEvent(new Event('error'));
    }
  }

  /** Whether the source is closed: once its closed state reached `#state`, or as soon
   *  as the core says so. A close made while the core delivers an earlier state (from
   *  an `error` listener, or a state observer) reaches `#state` only after that
   *  delivery: meanwhile the source counts as closed already, as it does at once when
   *  nothing is being delivered (before the wasm is ready, or for a URL that is not
   *  http(s), too), and a callback given then is refused or told at once, not
   *  dropped. */
  #ended() {
    if (!this.#final && this.#core.readyState === CLOSED) this.#release(this.#core.state);
    return this.#final !== null;
  }

  /** Closed: keep what the getters answer, free the core after this turn (its
   *  callbacks may still be running; `#core` is null from then on), and let go of the
   *  source. */
  #release(state) {
    if (this.#final) return;
    this.#final = { state, lastEventId: this.#core.lastEventId };
    live.delete(this);
    // The signals the listeners came with may outlive the source: each drops the
    // listener it holds through this class (EventTarget keeps its own).
    for (const list of this.#listeners.values()) {
      for (const l of list) {
        if (l.onAbort) l.signal.removeEventListener('abort', l.onAbort);
        l.onAbort = undefined;
      }
    }
    const core = this.#core;
    queueMicrotask(() => {
      this.#core = null;
      core.free();
    });
  }
}

/** The `on` callback of an `events()` iterator's `feeding` (see `events`). */
function feed(feeding) {
  return sized((data, meta, size) => {
    const value = { data, meta };
    if (feeding.waiting.length) {
      feeding.waiting.shift()({ value, done: false });
      if (!feeding.waiting.length) feeding.pin = null;
      return;
    }
    feeding.queue.push(value, size, meta);
  });
}

/** `callback`, marked to get the length of each event's text third (see `SIZED` in
 *  src/bindings/js/dispatch.js: a user's callbacks do not). */
function sized(callback) {
  callback[Symbol.for('wasm-eventsource.sized')] = true;
  return callback;
}

/** The `onState` callback that ends an `events()` iterator's `feeding` once closed. */
function ender(feeding) {
  return (state) => {
    if (state.kind === 'closed') end(feeding);
  };
}

/** Ends `feeding`: its waiting `next()` calls resolve as done. */
function end(feeding) {
  feeding.done = true;
  feeding.pin = null;
  for (const resolve of feeding.waiting.splice(0)) resolve({ value: undefined, done: true });
}

/** Removes the callbacks of an `events()` iterator nobody holds any more. */
const abandoned =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry(({ source, ids }) => {
        for (const id of ids) source.off(id);
      })
    : null;

/** What a `stream()` loop holds for a reader that is behind: as many events as an
 *  `events()` iterator (`ITERATOR_CAPACITY`), and 64 Mi characters of their text; past
 *  either the oldest go first, counted in the iterator's `dropped`. (Each item keeps
 *  its text, `meta.text`, beside the value parsed from it: the values are not counted,
 *  and weigh about as much again.) */
const STREAM_CHARS = 1 << 26;

/** What an aborted `signal` throws: its reason, or, from a signal without one (older
 *  Safari, polyfills), the `AbortError` fetch throws then. */
function aborted(signal) {
  return signal.reason === undefined ? new DOMException('signal is aborted without reason', 'AbortError') : signal.reason;
}

/**
 * Sends one request in request mode and yields its answer's events, whatever their
 * type, as `{ data, meta }`: `data` parsed as JSON, or the text with `meta.json` false.
 * The loop ends when the answer completes; it throws an Error whose `reason` is the
 * closed state when it does not (an HTTP error with its `status` and `body`, an
 * interrupted answer, the retries running out), and the signal's reason when `signal`
 * aborts before the answer is over (after, the loop yields the rest of what came).
 * Leaving the loop (`break`, `return`, a throw) aborts the request, and so does
 * dropping an iterator without leaving it, once it is collected.
 */
export function stream(url, init) {
  // Each field read once, own or inherited, as the constructor (and fetch's
  // RequestInit) reads them; `signal` is this function's.
  const given = init ?? {};
  const signal = isObject(given) ? read(given, 'signal') : undefined;
  const options = isObject(given) ? snapshot(given, 'signal') : given;
  // Before the request goes: after it, a throw would leave it sent and its answer unread.
  if (signal != null && (typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    throw new TypeError(`stream(): \`signal\` must be an AbortSignal (a controller's \`signal\`, not the controller), got ${Object.prototype.toString.call(signal)}`);
  }
  if (signal?.aborted) throw aborted(signal);
  // (Not an object: the constructor refuses it, as it would.)
  const source = new TypedEventSource(url, isObject(options) ? { ...options, mode: 'request' } : options);
  // What the callbacks and the signal's listener hold: not the iterator, which can then
  // be collected when dropped (see `unread`).
  const answer = {
    source,
    signal,
    queue: new Backlog(ITERATOR_CAPACITY, STREAM_CHARS),
    /** The `next()` calls waiting, each woken by any change (the first takes an event;
     *  the others wait again). */
    waiting: [],
    closed: null,
    aborted: false,
    /** The iterator, while a `next()` waits (see `events()`). */
    pin: null,
    onAbort: null,
  };
  const { queue, waiting } = answer;
  answer.onAbort = aborter(answer);
  const iterator = {
    /** Events dropped (oldest first) because 65,536 (or 64 Mi characters) were
     *  already waiting. */
    get dropped() {
      return queue.dropped;
    },
    next: async () => {
      for (;;) {
        if (answer.aborted) {
          finish(answer);
          queue.clear();
          answer.aborted = false;
          answer.closed = { reason: 'completed' }; // thrown once; then the iterator is done
          throw aborted(signal);
        }
        if (queue.length) return { value: queue.shift(), done: false };
        if (answer.closed) {
          finish(answer);
          const { closed } = answer;
          if (closed.reason === 'completed') return { value: undefined, done: true };
          const error = new Error(closed.message);
          error.reason = closed;
          answer.closed = { reason: 'completed' }; // thrown once; then the iterator is done
          throw error;
        }
        answer.pin = iterator;
        await new Promise((resolve) => waiting.push(resolve));
      }
    },
    return: async () => {
      finish(answer);
      queue.clear();
      answer.closed = { reason: 'completed' };
      wake(answer);
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  source.onAny(answered(answer));
  source.onState(over(answer));
  signal?.addEventListener('abort', answer.onAbort, { once: true });
  unread?.register(iterator, answer, iterator);
  return iterator;
}

/** Wakes the `next()` calls of a `stream()`'s `answer` waiting for a change. */
function wake(answer) {
  answer.pin = null;
  for (const resolve of answer.waiting.splice(0)) resolve();
}

/** The `onAny` callback of a `stream()`'s `answer`. */
function answered(answer) {
  return sized((data, meta, size) => {
    answer.queue.push({ data, meta }, size, meta);
    wake(answer);
  });
}

/** The `onState` callback of a `stream()`'s `answer`. */
function over(answer) {
  return (state) => {
    if (state.kind !== 'closed') return;
    answer.closed ??= state;
    // The answer is over: an abort now has nothing to stop and must lose nothing queued,
    // and the signal (an app's own, that outlives the loop) must not keep the queue
    // alive.
    answer.signal?.removeEventListener('abort', answer.onAbort);
    wake(answer);
  };
}

/** The `abort` listener of a `stream()`'s `answer`. */
function aborter(answer) {
  return () => {
    answer.aborted = true;
    answer.source.close();
    wake(answer);
  };
}

/** Ends a `stream()`'s `answer`: its request aborted, the signal let go. */
function finish(answer) {
  answer.signal?.removeEventListener('abort', answer.onAbort);
  answer.source.close();
}

/** Aborts the request of a `stream()` iterator nobody holds any more. */
const unread = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry(finish) : null;

// The shape of the EventSource interface, as WebIDL gives it to the browser's class
// (code written for EventSource, and the browsers' conformance tests, look at it): the
// constants on the class and its prototype, read-only and fixed; the interface's
// attributes and `close` enumerable, as a platform object's are; the class's `name`
// "EventSource" (WebIDL's interface object name, which WPT's idlharness checks); and
// `Object.prototype.toString` saying "[object EventSource]".
for (const target of [TypedEventSource, TypedEventSource.prototype]) {
  for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSED', CLOSED]]) {
    Object.defineProperty(target, name, { value, writable: false, enumerable: true, configurable: false });
  }
}
for (const name of ['url', 'withCredentials', 'readyState', 'onopen', 'onmessage', 'onerror', 'close']) {
  Object.defineProperty(TypedEventSource.prototype, name, { enumerable: true });
}
Object.defineProperty(TypedEventSource, 'name', { value: 'EventSource', configurable: true });
Object.defineProperty(TypedEventSource.prototype, Symbol.toStringTag, { value: 'EventSource', configurable: true });

// Under the interface's name too, for code that swaps the import and nothing else
// (`import { EventSource } from 'wasm-eventsource'`).
export { TypedEventSource as EventSource };

// `using es = new TypedEventSource(...)` closes it. Only where the runtime has the
// symbol: a `[Symbol.dispose]()` method in the class body would be named "undefined"
// elsewhere.
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(TypedEventSource.prototype, Symbol.dispose, {
    value: function dispose() {
      this.close();
    },
    writable: true,
    configurable: true,
  });
}

/** Whether WebIDL reads `value` as an object: a listener (else null, or a TypeError),
 *  listener options as a dictionary (else as a boolean). */
function isObject(value) {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** The `capture` of event listener options, as WebIDL reads it. */
function captures(options) {
  if (options === null || options === undefined) return false;
  return isObject(options) ? Boolean(options.capture) : Boolean(options);
}

/** addEventListener's options as WebIDL converts them, each member read once, in its
 *  order; the signal is left for EventTarget to check. */
function flatten(options) {
  const flat = { capture: captures(options), once: false };
  if (!isObject(options)) return flat;
  flat.once = Boolean(options.once);
  const passive = options.passive;
  if (passive !== undefined) flat.passive = Boolean(passive);
  const signal = options.signal;
  if (signal !== undefined) flat.signal = signal;
  return flat;
}

/**
 * Stands in for the core when the URL is not http(s): EventSource constructs such a
 * source and fails it a task later, as a network error, and so does this (the state
 * `closed` with the reason "invalid-request" and the core's message). Callbacks can be
 * registered and removed (`onAny` only on the fetch transport, as the core takes it);
 * no event ever arrives, and once closed it keeps no observer.
 */
class Unfetchable {
  #ids = new Set();
  #observers = new Map();
  #calls = new StateCalls();
  #next = 1;
  #timer;
  /** The transport is fetch (`onAny` is taken, as the core takes it). */
  #every;

  constructor(url, message, options, every) {
    this.url = url;
    this.#every = every;
    this.lastEventId = firstLastEventId(options, every);
    this.state = { kind: 'connecting', attempt: 0 };
    this.#timer = setTimeout(() => this.#end({ kind: 'closed', reason: 'invalid-request', message }), 0);
  }

  get readyState() {
    return this.state.kind === 'closed' ? CLOSED : CONNECTING;
  }
  on() {
    return this.#id();
  }
  onRaw() {
    return this.#id();
  }
  onDecodeError() {
    return this.#id();
  }
  onGap() {
    return this.#id();
  }
  onAny() {
    if (!this.#every) throw noAny();
    return this.#id();
  }
  onState(callback) {
    const id = this.#id();
    // (Closed, it calls no observer again, and keeps none.)
    if (this.state.kind !== 'closed') this.#observers.set(id, callback);
    this.#calls.call(callback, this.state, () => this.#ids.has(id));
    return id;
  }
  onShareRole(callback) {
    observe((role) => callback(role, 0), 'alone');
    return this.#id();
  }
  off(id) {
    this.#observers.delete(id);
    return this.#ids.delete(id);
  }
  reconnect() {}
  close() {
    this.#end({ kind: 'closed', reason: 'client', message: 'closed by the client' });
  }
  free() {}

  #id() {
    const id = this.#next++;
    this.#ids.add(id);
    return id;
  }

  #end(state) {
    if (this.state.kind === 'closed') return;
    clearTimeout(this.#timer);
    this.state = state;
    const observers = [...this.#observers];
    this.#observers.clear();
    for (const [id, callback] of observers) this.#calls.call(callback, state, () => this.#ids.has(id));
  }
}

/** Calls an `onState` callback as the core does: what it throws is reported, not
 *  thrown. */
function observe(callback, state) {
  try {
    callback(state);
  } catch (e) {
    report(e);
  }
}

/** A stand-in's state calls, in order, as the core's state cell makes them: one asked
 *  for while another runs (a callback that closes the source, or adds an observer)
 *  waits for it to return, so the last call an observer gets is the latest state. A
 *  call whose observer was removed while it waited is not made. */
class StateCalls {
  #queue = [];
  #running = false;

  /** `callback(state)` now, or after the calls running and waiting, if `wanted()`
   *  (whether the observer is still registered) says so by then. */
  call(callback, state, wanted) {
    this.#queue.push([callback, state, wanted]);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next; (next = this.#queue.shift()); ) if (next[2]()) observe(next[0], next[1]);
    } finally {
      this.#running = false;
    }
  }
}

/** Reports an error a callback threw: through the core's one copy of that code, or,
 *  before the wasm is ready, as the browser reports an uncaught error. */
function report(e) {
  if (ready) Core.reportError(e);
  else if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else console.error(e);
}

/** The core for `text` (`href` resolved, undefined when it does not parse), once the
 *  wasm is ready. Throws as the constructor does. */
function build(text, href, options) {
  try {
    return new Core(text, options);
  } catch (e) {
    // The core checks the options first: a SyntaxError for a URL that parses is its
    // scheme. (One that does not parse is rethrown: EventSource throws too.)
    if (href === undefined || !(e instanceof DOMException) || e.name !== 'SyntaxError') throw e;
    return new Unfetchable(href, e.message, options, fetchesEvery(options));
  }
}

/** Whether `options`, which the core took, choose the fetch transport (`checkOptions`'
 *  answer; true if it refuses them, as the core did not). */
function fetchesEvery(options) {
  try {
    return checkOptions(options);
  } catch {
    return true;
  }
}

/** The error of `onAny` on the native transport, as the core throws it. */
function noAny() {
  return new Error(
    'onAny needs the fetch transport (transport: "fetch", or mode: "request"): ' +
      "the browser's EventSource hands over only the event types listened for",
  );
}

/** `url` with a user name and password in it as `***` (as the core shows a URL in an
 *  error: src/source.rs). */
function withoutCredentials(url) {
  return url.replace(/^([\0- ]*[A-Za-z0-9+.-]+:[/\\]*)[^/\\?#]*@/, '$1***@');
}

/** Whether `href` is an http(s) URL with a user name or password in it, which fetch
 *  refuses (the core says so once ready: src/source.rs). */
function credentialed(href) {
  if (href === undefined) return false;
  const url = new URL(href);
  return /^https?:$/.test(url.protocol) && (url.username !== '' || url.password !== '');
}

/** The id a source of `options` (the constructor's checked copy) resumes after first,
 *  as the core reads it (`Options::first_last_event_id`): `lastEventId` if given,
 *  else on fetch (`every`) the last `Last-Event-ID` among the headers. */
function firstLastEventId(options, every) {
  if (typeof options?.lastEventId === 'string') return options.lastEventId;
  let id = '';
  if (every && options?.headers && typeof options.headers === 'object') {
    for (const [name, value] of Object.entries(options.headers)) {
      if (name.toLowerCase() === 'last-event-id' && typeof value === 'string') id = value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    }
  }
  return id;
}

/** `callback`, when it is a function; else a TypeError that names `method`. (The
 *  type beside it is converted as WebIDL converts a string: `${type}`.) */
function callable(method, callback) {
  if (typeof callback === 'function') return callback;
  throw new TypeError(`TypedEventSource.${method}: the callback must be a function, got ${callback === null ? 'null' : typeof callback}`);
}

/**
 * Checks a constructor's options before the wasm is ready, as the core will once it
 * is (src/bindings/js/options.rs and `Options::validate`), throwing the core's error
 * with the core's words: so bad options throw whenever the source is constructed
 * (tests/e2e/package.test.mjs holds the two to the same messages). Returns whether
 * the transport is fetch, which sees every event type.
 */
function checkOptions(options) {
  // (Its first 80 characters, as the core shows a value.)
  const cut = (s) => ([...s].length > 80 ? `${[...s].slice(0, 80).join('')}…` : s);
  const shown = (v) => {
    if (v === undefined) return 'undefined';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'string') return `the string "${cut(v)}"`;
    try {
      v = JSON.stringify(v);
    } catch {}
    return typeof v === 'string' ? cut(v) : 'a value that is not JSON';
  };
  // TypeErrors, as WebIDL throws for a dictionary member it cannot convert (and fetch
  // for an init it refuses); the core throws the same (src/bindings/js/options.rs).
  const fail = (message) => {
    throw new TypeError(`invalid TypedEventSource options: ${message}`);
  };
  const invalid = (message) => {
    throw new TypeError(`invalid event source options: ${message}`);
  };
  /** `value` as an options object of `known` keys at `path`, or null for none. */
  const object = (value, path, known) => {
    if (value === undefined || value === null) return null;
    if (!isObject(value)) fail(`\`${path}\` must be an object, got ${shown(value)}`);
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) fail(`unknown option \`${key}\` in \`${path}\`; the options are ${known.join(', ')}`);
    }
    const get = (key, check, what) => {
      const v = read(value, key);
      // (A body given as an object: the hint the core gives, or its kind.)
      const kind = key === 'body' && typeof v === 'object' && v !== null ? kindOf(v) : '';
      const plain = kind === 'an array' || kind.startsWith('an object whose');
      const hint = plain ? '; send JSON as JSON.stringify(body)' : kind ? ' (a body is sent as text only)' : '';
      if (v !== undefined && !check(v)) fail(`\`${path}.${key}\` must be ${what}, got ${kind && !plain ? kind : shown(v)}${hint}`);
      return v;
    };
    return {
      get,
      string: (key) => get(key, (v) => typeof v === 'string', 'a string'),
      flag: (key) => get(key, (v) => typeof v === 'boolean', 'true or false') ?? false,
      count: (key) =>
        get(key, (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295, 'a whole number from 0 to 4294967295'),
    };
  };
  const o = object(options, 'options', OPTION_KEYS);
  if (!o) return !hasEventSource;
  const transport = o.string('transport');
  if (transport !== undefined && transport !== 'native' && transport !== 'fetch') {
    fail(`unknown transport "${transport}"; use "native" or "fetch"`);
  }
  const mode = o.string('mode');
  if (mode !== undefined && mode !== 'subscription' && mode !== 'request') {
    fail(`unknown mode "${mode}"; use "subscription" (a feed, the default) or "request" (one answer)`);
  }
  const request = mode === 'request';
  const doneData = read(options, 'doneData') === null ? null : o.string('doneData');
  o.flag('withCredentials');
  const retryRequest = o.flag('retryRequest');
  o.flag('reconnectOnOnline');
  const pause = o.flag('pauseWhenHidden');
  o.flag('dedupe');
  const share = o.get('share', (v) => typeof v === 'boolean' || (typeof v === 'string' && v !== ''), 'true, false or a non-empty key string');
  const method = o.string('method') ?? 'GET';
  const body = o.string('body');
  const headers = read(options, 'headers');
  if (headers !== undefined) {
    const proto = headers !== null && typeof headers === 'object' ? Object.getPrototypeOf(headers) : undefined;
    if (proto !== null && proto !== Object.prototype) {
      fail(`\`options.headers\` must be a plain object of strings ({ name: value }), got ${kindOf(headers)} (not shown: headers may hold a secret); for a Headers, a Map or an array of pairs, pass Object.fromEntries(headers)`);
    }
    for (const [name, value] of Object.entries(headers)) {
      // (Not shown: a header may hold a secret.)
      const got = value === undefined || value === null ? String(value) : 'a value that is not a string (not shown: a header may hold a secret)';
      if (typeof value !== 'string') fail(`the header ${headerNameShown(name)} must be a string, got ${got}`);
    }
  }
  const lastEventId = o.string('lastEventId') ?? '';
  const resumeParam = read(options, 'resumeParam') === null ? null : o.string('resumeParam');
  const heartbeat = o.count('heartbeatMs');
  o.string('heartbeatEvent');
  o.count('retryMs');
  const retry = object(read(options, 'retry'), 'options.retry', RETRY_KEYS);
  if (retry) {
    for (const key of RETRY_KEYS.slice(0, 5)) retry.count(key);
    retry.flag('jitter');
  }
  const maxEventSize = o.count('maxEventSize');
  // Options::validate, on the transport the core would choose.
  const native = transport === undefined ? hasEventSource && !request : transport === 'native';
  if (share !== undefined && share !== false && request) {
    invalid('sharing across tabs (share_across_tabs, JS share) cannot be used with request mode: a request stream is the answer to one request, which other tabs did not make');
  }
  if (pause && request) {
    invalid('pausing while hidden (pause_when_hidden, JS pauseWhenHidden) cannot be used with request mode: the pause would end the request, and the server would get it again on the way back');
  }
  if (retryRequest && !request) {
    invalid('sending the request again (retry_request, JS retryRequest) is for request mode only: a feed reconnects by itself; use request mode (request(), JS mode: "request") or drop it');
  }
  if (/[\r\n\0]/.test(lastEventId)) invalid("the last event id (last_event_id, JS lastEventId) must not contain CR, LF or NUL: no server's id can");
  if (maxEventSize === 0) invalid('the event size cap (max_event_size, JS maxEventSize) must be at least 1 byte');
  if (heartbeat === 0) invalid('the heartbeat timeout (heartbeat_timeout, JS heartbeatMs) must be at least 1 ms; leave it unset for none');
  if (heartbeat > 2147483647) invalid("the heartbeat timeout (heartbeat_timeout, JS heartbeatMs) must be at most 2147483647 ms (a browser timer's limit)");
  if (resumeParam === '') invalid('the resume parameter must not be empty; for none, leave it unset (None, JS null)');
  if (!HTTP_TOKEN.test(method)) {
    invalid(`the method "${method}" is not an HTTP method name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
  }
  if (/^(CONNECT|TRACE|TRACK)$/i.test(method)) invalid(`the method ${method} is one that browsers refuse to send; use GET or POST`);
  if (/^HEAD$/i.test(method)) invalid('the method HEAD gets an answer without a body, so no events; use GET or POST');
  if (body !== undefined && /^(GET|HEAD)$/i.test(method)) {
    invalid(`a ${method} request cannot have a body; make the method POST or drop the body`);
  }
  if (native) {
    if (request) {
      invalid("request mode needs the fetch transport: the browser's EventSource cannot tell a completed answer from a lost connection; leave the transport unset");
    }
    const fetchOnly = [
      (doneData ?? (doneData === undefined && request ? '[DONE]' : null)) !== null && 'done data',
      !/^GET$/i.test(method) && 'a method other than GET',
      body !== undefined && 'a body',
      headers !== undefined && Object.keys(headers).length > 0 && 'custom headers',
      lastEventId !== '' && resumeParam === null && 'a last event id without a resume parameter',
    ].filter(Boolean);
    if (fetchOnly.length) invalid(`the fetch transport is needed for ${fetchOnly.join(', ')}: the browser's EventSource cannot do that`);
  }
  // What a request's Headers refuses (fetch trims the whitespace around a value first).
  for (const [name, value] of headers ? Object.entries(headers) : []) {
    if (!HTTP_TOKEN.test(name)) {
      invalid(`the header name ${headerNameShown(name)} is not an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
    }
    if (FORBIDDEN_HEADER.test(name)) {
      invalid(`the header "${name}" is one browsers do not let a page send (fetch would drop it without a word): cookies go with credentials (with_credentials, JS withCredentials), and the browser sets the others itself`);
    }
    if (/[\r\n\0]|[^\0-\xff]/.test(value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''))) {
      invalid(`the value of the header "${name}" cannot be sent: it holds a line break, a NUL or a character beyond U+00FF (percent-encode it, or send it in the body)`);
    }
  }
  return !native;
}

/** Fetch's forbidden request-header names (as the core's list: src/options.rs). */
const FORBIDDEN_HEADER =
  /^(accept-(charset|encoding)|access-control-request-(headers|method)|connection|content-length|cookie2?|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|(sec|proxy)-.*)$/i;

/** A header name as an error shows it (as the core's `header_name_shown`): whole when
 *  it is one; else not at all (a value given as the name must not be shown, in part
 *  either), only its length and its first character a name cannot hold. */
function headerNameShown(name) {
  const chars = [...name];
  const at = chars.findIndex((c) => !/^[-!#$%&'*+.^_`|~0-9A-Za-z]$/.test(c));
  if (at < 0) return `"${name}"`;
  const code = chars[at].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `of ${chars.length} characters (not shown: it may hold a secret; character ${at + 1}, U+${code}, cannot be in a name)`;
}

/** What a value is, not what it holds (it may hold a secret): "an array", "a Map"... */
function kindOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  // (Its constructor's name, as the core's `kind_of` reads it.)
  let tag;
  try {
    tag = value.constructor?.name;
  } catch {}
  if (typeof tag !== 'string' || tag === '' || tag === 'Object') return "an object whose prototype is not Object.prototype (another window's, or Object.create's)";
  // (Not before U: a Uint8Array, a URLSearchParams.)
  return `${/^[AEIO]/.test(tag) ? 'an' : 'a'} ${tag}`;
}

/** An HTTP token (RFC 9110): what a method or a header name must be. */
const HTTP_TOKEN = /^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/;

/** `object[key]`, or undefined where reading it throws (as the core reads it). */
function read(object, key) {
  try {
    return object[key];
  } catch {}
}

/** The options as they are now, each read once (own or inherited), for the check, the
 *  core and the class: the caller may change or reuse the object before the wasm is
 *  ready, and a getter runs once. Values stay as they are, for the check to refuse;
 *  unknown keys stay, as undefined (but `skip`, a key the caller takes); `headers`
 *  that are a plain object and `retry` are copied too. */
function snapshot(options, skip) {
  const pick = (from, keys, except) => {
    if (!isObject(from)) return from;
    const copy = {};
    // (Defined, not set: an own `__proto__` key stays a key, for the check to refuse.)
    for (const key of Object.keys(from)) if (!keys.includes(key) && key !== except) Object.defineProperty(copy, key, { enumerable: true });
    for (const key of keys) {
      const value = read(from, key);
      if (value !== undefined) copy[key] = value;
    }
    return copy;
  };
  const copy = pick(options, OPTION_KEYS, skip);
  if (copy?.retry !== undefined) copy.retry = pick(copy.retry, RETRY_KEYS);
  const headers = copy?.headers;
  if (isObject(headers) && [null, Object.prototype].includes(Object.getPrototypeOf(headers))) {
    copy.headers = Object.fromEntries(Object.entries(headers));
  }
  return copy;
}

/** The state of a source that has not connected yet. */
const CONNECTING_STATE = Object.freeze({ kind: 'connecting', attempt: 0 });

/** What `Deferred` gives an `onState` or `onShareRole` callback at once, by method:
 *  the core's first call repeats it, and is skipped. */
const REPEATS = {
  onState: (state) => state.kind === 'connecting' && state.attempt === 0,
  onShareRole: (role, followers) => role === 'alone' && followers === 0,
};

/**
 * Stands in for the core of a source constructed before the wasm was ready: keeps its
 * registrations (in order), answers the getters as a connecting source, and builds
 * the core when the wasm is ready, replaying them; from then on it forwards to it,
 * mapping its own ids to the core's. Closed before that, it never builds one. Bad
 * options throw at construction (`checkOptions`), and `onAny` with native when it is
 * called. What the core throws later goes where a callback's errors go: a URL that is
 * not http(s) closes the source with the reason "invalid-request" and the core's
 * message (and so would options the check let through and the core refused); a
 * registration the core refuses is reported.
 */
class Deferred {
  /** The core, once built. */
  #core = null;
  /** The closed state, when closed before the core was built. */
  #closed = null;
  /** Registrations made before the core: local id -> [method, callback, type?]. */
  #pending = new Map();
  /** Local ids -> the core's, for registrations replayed or made since. */
  #ids = new Map();
  #next = 1;
  #lastEventId;
  /** The transport is fetch, which sees every event type (`onAny`). */
  #every;
  #calls = new StateCalls();

  /** `every`: what `checkOptions` answered for `options`. */
  constructor(href, options, every) {
    this.url = href;
    this.#every = every;
    // `options` is the constructor's copy (`snapshot`), which `checkOptions` took: an
    // object or none, its `lastEventId` a string if there is one.
    this.#lastEventId = firstLastEventId(options, every);
    const wait = (loading) =>
      loading.then(
        () => this.#build(href, options),
        (e) => {
          // An `init(url)` called while this load was going loads from there next.
          if (initialised && initialised !== loading) return wait(initialised);
          const why = e && e.message ? e.message : String(e);
          this.#end({ kind: 'closed', reason: 'failed', message: `the wasm module did not load (${why}); ${loadAdvice()}` });
        },
      );
    wait(init());
  }

  get readyState() {
    if (this.#core) return this.#core.readyState;
    return this.#closed ? CLOSED : CONNECTING;
  }
  get lastEventId() {
    return this.#core ? this.#core.lastEventId : this.#lastEventId;
  }
  get state() {
    if (this.#core) return this.#core.state;
    return this.#closed ?? CONNECTING_STATE;
  }

  on(type, callback) {
    return this.#register('on', callback, type);
  }
  onRaw(type, callback) {
    return this.#register('onRaw', callback, type);
  }
  onDecodeError(callback) {
    return this.#register('onDecodeError', callback);
  }
  onGap(callback) {
    return this.#register('onGap', callback);
  }
  onAny(callback) {
    // As the core refuses it, in its words.
    if (!this.#every) throw noAny();
    return this.#register('onAny', callback);
  }
  onState(callback) {
    const id = this.#register('onState', callback);
    // (Once closed, nothing keeps it: it gets the closed state, and `off` finds nothing.)
    const wanted = this.#closed ? () => true : () => this.#pending.has(id);
    if (!this.#core) this.#calls.call(callback, this.state, wanted);
    return id;
  }
  onShareRole(callback) {
    const id = this.#register('onShareRole', callback);
    if (!this.#core) observe((role) => callback(role, 0), 'alone');
    return id;
  }
  off(id) {
    if (this.#pending.delete(id)) return true;
    const real = this.#ids.get(id);
    if (real === undefined) return false;
    this.#ids.delete(id);
    return this.#core.off(real);
  }
  reconnect() {
    this.#core?.reconnect();
  }
  close() {
    if (this.#core) this.#core.close();
    else this.#end({ kind: 'closed', reason: 'client', message: 'closed by the client' });
  }
  free() {
    this.#core?.free();
  }

  #register(method, callback, type) {
    const id = this.#next++;
    if (this.#core) {
      this.#ids.set(id, type === undefined ? this.#core[method](callback) : this.#core[method](type, callback));
    } else if (!this.#closed) {
      this.#pending.set(id, [method, callback, type]);
    }
    return id;
  }

  #build(href, options) {
    if (this.#closed) return;
    let core;
    try {
      core = build(href, href, options);
    } catch (e) {
      core = new Unfetchable(href, e && e.message ? e.message : String(e), options, this.#every);
    }
    const pending = [...this.#pending];
    this.#pending.clear();
    this.#core = core;
    for (const [id, [method, callback, type]] of pending) {
      try {
        const repeats = REPEATS[method];
        if (repeats) {
          // The core calls it at once with what this one already gave.
          let first = true;
          const skip = (...args) => {
            const repeat = first && repeats(...args);
            first = false;
            if (!repeat) callback(...args);
          };
          this.#ids.set(id, core[method](skip));
          first = false;
        } else {
          this.#ids.set(id, type === undefined ? core[method](callback) : core[method](type, callback));
        }
      } catch (e) {
        report(e);
      }
    }
  }

  #end(state) {
    if (this.#closed || this.#core) return;
    this.#closed = state;
    // Each observer stays registered until its call of the closed state (as the core's
    // do), which `off` before its turn cancels; the rest go at once.
    const observers = [];
    for (const [id, [method, callback]] of this.#pending) {
      if (method === 'onState') observers.push([id, callback]);
      else this.#pending.delete(id);
    }
    for (const [id, callback] of observers) this.#calls.call(callback, state, () => this.#pending.delete(id));
  }
}
