// The npm package's entry: `import { TypedEventSource } from "wasm-eventsource"`.
//
// - Initialises the wasm module on import (top-level await) in a browser or worker, so
//   there is no init() to call; the wasm file is found with `new URL(...,
//   import.meta.url)`, which Vite, webpack 5 and Rollup handle with no plugin and a CDN
//   serves as is. `init()` stays exported and is a no-op once done.
// - Importing it in Node (server-side rendering) does not throw; constructing a source
//   there does, with an error that says it needs a browser.
// - TypedEventSource extends EventTarget and speaks the EventSource interface
//   (addEventListener, onmessage/onopen/onerror, readyState, CONNECTING/OPEN/CLOSED,
//   url, withCredentials, MessageEvents with raw string data), so code written for the
//   browser's EventSource runs unchanged; the typed `on()` is the recommended API.
// - Like an EventSource, an open or reconnecting source stays alive with no reference
//   held by the user; close() (or `using`/Symbol.dispose) releases it and its wasm
//   memory.

import wasmInit, { TypedEventSource as Core } from '../pkg-web/wasm_eventsource.js';

const inBrowser =
  typeof globalThis.fetch === 'function' &&
  (typeof window !== 'undefined' || typeof WorkerGlobalScope !== 'undefined');

let initialised = null;

/**
 * Loads the wasm module (done on import in a browser). Pass a URL, a Response or
 * bytes to load it from elsewhere; later calls return the first call's promise.
 */
export function init(input) {
  if (!initialised) {
    initialised = input === undefined ? wasmInit() : wasmInit({ module_or_path: input });
  }
  return initialised.then(() => undefined);
}

if (inBrowser) await init();

/** Sources that are open or reconnecting: held here, as the browser holds an open
 *  EventSource, so nothing the user drops is collected mid-stream. */
const live = new Set();

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** The queue bound of an `events()` iterator nobody reads (oldest dropped first). */
const ITERATOR_CAPACITY = 1024;

export class TypedEventSource extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSED = CLOSED;
  CONNECTING = CONNECTING;
  OPEN = OPEN;
  CLOSED = CLOSED;

  #core;
  #url;
  #withCredentials;
  /** What the getters answer once the core is freed. */
  #final = null;
  /** Types with an `onRaw` subscription feeding MessageEvents to listeners. */
  #dispatching = new Set();
  #onmessage = null;
  #onopen = null;
  #onerror = null;

  /**
   * Opens a connection. Throws an Error that says what is wrong for an invalid URL or
   * options, or when there is no browser (server-side rendering).
   */
  constructor(url, options) {
    super();
    if (!inBrowser) {
      throw new Error(
        'TypedEventSource needs a browser (fetch and EventSource): it was constructed ' +
          'outside one, as in server-side rendering; construct it on the client, in an ' +
          'effect or mount hook.',
      );
    }
    this.#core = new Core(String(url), options);
    this.#url = this.#core.url;
    this.#withCredentials = Boolean(options && options.withCredentials);
    live.add(this);
    // Weakly: the wasm side holds its callbacks as roots, so a strong `this` here would
    // keep every source alive for ever; `live` alone keeps an open one.
    const self = new WeakRef(this);
    this.#core.onState((state) => self.deref()?.#state(state));
  }

  /** The typed API: `callback(data, meta)` with the event's JSON parsed. */
  on(type, callback) {
    return this.#alive().on(type, callback);
  }
  /** `callback(data, meta)` with the data as text. */
  onRaw(type, callback) {
    return this.#alive().onRaw(type, callback);
  }
  onDecodeError(callback) {
    return this.#alive().onDecodeError(callback);
  }
  onState(callback) {
    if (this.#final) {
      callback(this.#final.state);
      return 0;
    }
    return this.#core.onState(callback);
  }
  onGap(callback) {
    return this.#alive().onGap(callback);
  }
  off(id) {
    return this.#final ? false : this.#core.off(id);
  }
  reconnect() {
    if (!this.#final) this.#core.reconnect();
  }

  /** Closes the connection for good and frees its wasm memory. */
  close() {
    if (this.#final) return;
    this.#core.close();
  }
  [Symbol.dispose]() {
    this.close();
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
  get lastEventId() {
    return this.#final ? this.#final.lastEventId : this.#core.lastEventId;
  }
  get state() {
    return this.#final ? this.#final.state : this.#core.state;
  }

  get onmessage() {
    return this.#onmessage;
  }
  set onmessage(f) {
    this.#onmessage = typeof f === 'function' ? f : null;
    if (this.#onmessage) this.#dispatch('message');
  }
  get onopen() {
    return this.#onopen;
  }
  set onopen(f) {
    this.#onopen = typeof f === 'function' ? f : null;
  }
  get onerror() {
    return this.#onerror;
  }
  set onerror(f) {
    this.#onerror = typeof f === 'function' ? f : null;
  }

  addEventListener(type, listener, options) {
    super.addEventListener(type, listener, options);
    if (listener && type !== 'open' && type !== 'error') this.#dispatch(String(type));
  }

  /**
   * The events of `type` as an async iterator of `{ data, meta }` (data parsed as
   * JSON; decode errors go to onDecodeError). It ends when the source closes;
   * leaving the loop removes its callback.
   */
  events(type) {
    const queue = [];
    let wake = null;
    let done = false;
    const finish = () => {
      done = true;
      if (wake) wake();
    };
    const id = this.on(type, (data, meta) => {
      if (queue.length >= ITERATOR_CAPACITY) queue.shift();
      queue.push({ data, meta });
      if (wake) wake();
    });
    const stateId = this.onState((state) => {
      if (state.kind === 'closed') finish();
    });
    const stop = () => {
      this.off(id);
      this.off(stateId);
      finish();
    };
    return {
      next: async () => {
        for (;;) {
          if (queue.length) return { value: queue.shift(), done: false };
          if (done) return { value: undefined, done: true };
          await new Promise((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      },
      return: async () => {
        stop();
        queue.length = 0;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #alive() {
    if (this.#final) throw new Error('this TypedEventSource is closed; open a new one');
    return this.#core;
  }

  /** Feeds events of `type` to EventTarget listeners as MessageEvents, once per type. */
  #dispatch(type) {
    if (this.#final || this.#dispatching.has(type)) return;
    this.#dispatching.add(type);
    const self = new WeakRef(this);
    this.#core.onRaw(type, (data, meta) => self.deref()?.#message(type, data, meta));
  }

  #message(type, data, meta) {
    const event = new MessageEvent(type, { data, lastEventId: meta.lastEventId, origin: meta.origin });
    this.dispatchEvent(event);
    if (type === 'message' && this.#onmessage) this.#call(this.#onmessage, event);
  }

  #state(state) {
    if (state.kind === 'open') {
      const event = new Event('open');
      this.dispatchEvent(event);
      if (this.#onopen) this.#call(this.#onopen, event);
    } else if (state.kind === 'reconnecting' || (state.kind === 'closed' && state.reason !== 'client')) {
      // As EventSource fires `error` when the connection is lost or fails.
      const event = new Event('error');
      this.dispatchEvent(event);
      if (this.#onerror) this.#call(this.#onerror, event);
    }
    if (state.kind === 'closed') this.#release(state);
  }

  #call(f, event) {
    try {
      f.call(this, event);
    } catch (e) {
      if (typeof reportError === 'function') reportError(e);
      else console.error(e);
    }
  }

  /** Closed: keep what the getters answer, free the core after this turn (its
   *  callbacks may still be running), and let go of the source. */
  #release(state) {
    if (this.#final) return;
    this.#final = { state, lastEventId: this.#core.lastEventId };
    live.delete(this);
    const core = this.#core;
    queueMicrotask(() => core.free());
  }
}
