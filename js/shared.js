// What the React hooks (js/react.js) and the Vue composable (js/vue.js) share: one
// TypedEventSource per URL and options, counted by its users and closed when the last
// one leaves. Internal: not an entry of the package.
//
// A module-level registry rather than a provider: two hooks anywhere in an app (one
// tree or several roots) that pass the same URL and options share a connection with no
// wrapper to mount, and the count makes React StrictMode's effect
// mount -> unmount -> mount cost nothing: the last user leaving closes the source only
// a task later, when no one took it again in between (a closed one, only the hook that
// left it: see `acquire`).

import { TypedEventSource } from './index.js';
import { OPTION_KEYS, RETRY_KEYS, absolute } from './url.js';

/** The state hooks show before they connect, and on the server (SSR). */
export const CONNECTING = Object.freeze({ kind: 'connecting', attempt: 0 });

/** The state of a hook given no URL (null or undefined): it opens nothing until it
 *  gets one, as `useEventSource(signedIn ? url : null, ...)` asks. */
export const NO_URL = Object.freeze({ kind: 'closed', reason: 'client', message: 'no URL: the hook opens nothing until it is given one' });

/** Events `useEventSourceEvents` keeps unless told otherwise (React and Vue). */
export const DEFAULT_KEEP = 100;

/** Whether `keep` is a count of events a list can keep. */
export const isKeep = (keep) => Number.isInteger(keep) && keep >= 1;

/** `keep`, or the RangeError `useEventSourceEvents` throws for anything else. */
export function checkKeep(keep) {
  if (!isKeep(keep)) {
    throw new RangeError(`useEventSourceEvents: \`keep\` must be a whole number of events, at least 1; got ${String(keep)}`);
  }
  return keep;
}

/** A new list: `list`'s last `keep - 1` entries and `entry`. */
export function kept(list, entry, keep) {
  const next = list.length >= keep ? list.slice(list.length - keep + 1) : list.slice();
  next.push(entry);
  return next;
}

/** The last `keep` of `list` (itself when it holds no more). */
export function lastOf(list, keep) {
  return list.length > keep ? list.slice(list.length - keep) : list;
}

/** Whether sources can be opened here: a browser or a worker, not a server rendering
 *  (Node; nor an edge runtime, which may define `window` or `WorkerGlobalScope` but has
 *  no `location`). */
export const canConnect =
  typeof globalThis.fetch === 'function' &&
  (typeof window !== 'undefined' || typeof WorkerGlobalScope !== 'undefined') &&
  (() => {
    // (Deno 1's `location` throws when read without --location, as `typeof` does.)
    try {
      return typeof location !== 'undefined';
    } catch {
      return false;
    }
  })();

/** The connections in use: key -> Shared. Entries go when their last user leaves. */
const entries = new Map();

/** The key a value JSON would not write as it is gets in its place (see `connectionKey`). */
const LOST = '\u0000';

/**
 * The hooks' `close()` and `reconnect()`: each call acts once `schedule(run)` runs it
 * (after the framework has rendered a change made in the same handler), in the order
 * called, on the connection `held()` gave at the call: `close()` always, `reconnect()`
 * only while `owns(connection)` (the hook still holds it, moved to no new URL or
 * options).
 */
export function deferredControls(held, owns, schedule) {
  let pending = null;
  const later = (act, always) => {
    const call = [act, held(), always];
    if (pending) return void pending.push(call);
    pending = [call];
    schedule(() => {
      const calls = pending;
      pending = null;
      for (const [act, shared, always] of calls) if (shared && (always || owns(shared))) act(shared);
    });
  };
  return {
    close: () => later((shared) => shared.close(), true),
    reconnect: () => later((shared) => shared.reconnect(), false),
  };
}

/**
 * The key of a connection (null for no URL, null or undefined: no connection): the
 * URL resolved and the options as JSON with sorted keys,
 * so equal options are one connection whatever the object (an inline `{...}` in a
 * render is a new object each time). A value JSON would drop or change (an object that
 * is not plain, such as a `Headers`, a `Map`, a `Date` or a class's instance; a
 * function, a BigInt, a number that is not finite, a header whose value is undefined)
 * is written with a mark, `"\u0000"`, and an object's fields (its own and inherited
 * enumerable ones; for the options and their `retry`, also each option the
 * constructor reads by name, a class's getter among them): it neither shares a
 * connection with plain options nor reaches the constructor changed, as a connection
 * whose key holds a mark opens with the caller's own options, which the constructor
 * judges. An object met again (a cycle) is marked the same way, so options with a
 * cycle still differ by what else they hold; options whose reading throws (a getter)
 * get one marked key per URL, which the constructor judges as it would.
 */
export function connectionKey(url, options) {
  // No URL, no connection (see `NO_URL`).
  if (url === null || url === undefined) return null;
  const href = resolved(url);
  const seen = new WeakSet();
  // (No options and `{}` are one connection: they mean the same.)
  const top = [href, options ?? {}];
  /** The options' key object, once made: the holder of their `retry`. */
  let keyed;
  try {
    return JSON.stringify(top, function (name, value) {
      // The value before `toJSON` (a Date's) made it a string.
      const raw = this[name];
      const kind = typeof raw;
      if (kind === 'function' || kind === 'symbol' || kind === 'bigint' || (kind === 'number' && !Number.isFinite(raw))) {
        return { [LOST]: `${kind} ${String(raw)}` };
      }
      if (raw !== null && kind === 'object') {
        // Met before (a cycle, or one object in two places): marked, not followed.
        if (seen.has(raw)) return { [LOST]: 'again' };
        seen.add(raw);
      }
      if (raw === null || kind !== 'object' || Array.isArray(raw)) return value;
      const proto = Object.getPrototypeOf(raw);
      const plain = proto === Object.prototype || proto === null;
      // The fields the constructor reads: an object that is not plain may inherit them
      // (Object.create(base)). An option that is undefined is absent, as the
      // constructor reads it; a header is not.
      const names = plain ? Object.keys(raw) : [];
      if (!plain) for (const k in raw) names.push(k);
      // The options and their `retry` as the constructor reads them, by name: a class's
      // getter (`get headers()`) or a field that is not enumerable counts too.
      const known = this === top ? OPTION_KEYS : name === 'retry' && this === keyed ? RETRY_KEYS : [];
      for (const k of known) if (!names.includes(k)) names.push(k);
      const keys = names.filter((k) => name === 'headers' || raw[k] !== undefined);
      const fields = keys.sort().map((k) => [k, raw[k] === undefined ? { [LOST]: 'undefined' } : raw[k]]);
      const made = Object.fromEntries(plain ? fields : [[LOST, Object.prototype.toString.call(raw)], ...fields]);
      if (this === top) keyed = made;
      return made;
    });
  } catch {
    // (Not a new key each time: a hook's key must stay the same across renders.)
    return JSON.stringify([href, { [LOST]: 'unreadable' }]);
  }
}

/** `url` as a source resolves it, where sources can be opened: a relative URL means
 *  another stream after a `pushState` to another path, and `/events` and its absolute
 *  form are one. As given on the server, or where it does not parse (the constructor
 *  says why). */
function resolved(url) {
  const text = String(url);
  return (canConnect && absolute(text)) || text;
}

/**
 * Takes (or opens) the connection for `key`, the key of `options`, for `owner` (an
 * object that stands for one hook while it lives); the caller must `release(owner)` it
 * once. A connection every user left (closed a task later, unless taken back) goes on
 * to a hook that comes meanwhile while it streams (a route's next page takes over its
 * stream, or a request's answer, which is not sent again); once closed (`close()`, an
 * answer completed, a failure), only to one that left it (React StrictMode's second
 * mount, a Vue watcher's new event type): another hook (a keyed remount such as
 * "regenerate") opens its own, and sends its request again. One that a hook still
 * holds is one connection for all its users, closed or not: a hook that comes gets it
 * as it is (a failure shows in its `error`), and `reconnect()` opens it again for all.
 */
export function acquire(key, options, owner) {
  let shared = entries.get(key);
  if (shared && shared.users === 0 && !shared.left.has(owner) && shared.state.kind === 'closed') {
    shared.drop();
    shared = null;
  }
  // The connection this owner let go and the registry closed, taken back (React runs
  // a hidden `<Activity>`'s cleanups, and its effects again when it is shown): an
  // answer as it is, not sent again; a feed goes on after the last event it had when
  // its last user left.
  const kept = owner.kept;
  owner.kept = null;
  if (!shared && kept?.key === key) {
    shared = kept;
    entries.set(key, shared);
    if (shared.cut && !shared.request) shared.resume();
    shared.cut = false;
  }
  if (!shared) {
    shared = new Shared(key, options);
    entries.set(key, shared);
  }
  shared.users += 1;
  return shared;
}

/**
 * One connection and its watchers. The source's typed `on(type)` is registered once
 * per type watched and fans out to the watchers of that type; the latest event of
 * each type is kept for a watcher that comes later.
 */
class Shared {
  users = 0;
  state = CONNECTING;
  /** The owners that released it within the last task (see `acquire`). */
  left = new Set();
  /** Whether the registry closed it while it was not closed (see `drop`). */
  cut = false;
  /** How many events, states and resets its watchers were given: a hook that comes
   *  back to it sees whether it missed any. */
  delivered = 0;
  /** The last event id when its last user left (see `release`). */
  #leftAt;
  #key;
  #url;
  #options;
  #source = null;
  /** Watchers: { type, handlers: { state, event, error } }. */
  #watchers = new Set();
  /** type -> { watchers: count, id: the source's registration, latest: { data, meta } } */
  #types = new Map();

  /** The key it was opened for. */
  get key() {
    return this.#key;
  }

  /** Whether it answers a request (`mode: "request"`). */
  get request() {
    return this.#options?.mode === 'request';
  }

  constructor(key, options) {
    this.#key = key;
    // The options as the key has them (a copy the caller cannot change later), unless
    // the key holds a value JSON could not: then the caller's own, as given.
    [this.#url, this.#options] = JSON.parse(key);
    if (key.includes(JSON.stringify(LOST))) this.#options = options;
    this.#open();
  }

  /** The closed state when a failure closed the connection (what a watcher's `error`
   *  shows), else null: a watcher that comes later sees it too. */
  get failure() {
    return failed(this.state) ? this.state : null;
  }

  /** The latest `{ data, meta }` of `type` while it is watched, or undefined. */
  latest(type) {
    return this.#types.get(type)?.latest;
  }

  /** Calls `handlers.state(state)`, `handlers.event(data, meta)` for each event of
   *  `type` and `handlers.error(error)` for a decode error of `type` or a failure that
   *  closed the source, `handlers.error(null)` when a source that failed is opened
   *  again (`reconnect()`), and `handlers.reset()` when a request is sent again for a
   *  new answer (`reconnect()` in request mode: what the hook shows of the old answer,
   *  its events and its decode error, goes). Returns the function that stops it. */
  watch(type, handlers) {
    const watcher = { type, handlers };
    this.#watchers.add(watcher);
    let slot = this.#types.get(type);
    if (!slot) {
      slot = { watchers: 0, id: null, latest: undefined };
      this.#types.set(type, slot);
      this.#subscribe(type, slot);
    }
    slot.watchers += 1;
    return () => {
      if (!this.#watchers.delete(watcher)) return;
      slot.watchers -= 1;
      if (slot.watchers > 0) return;
      // A task later, as the connection's release: a watcher that comes in between (a
      // route's next component, mounted as the last one unmounts) keeps the type's
      // latest event, which it shows at once.
      setTimeout(() => {
        if (slot.watchers > 0 || this.#types.get(type) !== slot) return;
        this.#types.delete(type);
        if (slot.id !== null) this.#source?.off(slot.id);
      }, 0);
    };
  }

  /** One user fewer; the last one closes the source a task later unless a user took
   *  it by then. With `keep`, it is kept for `owner`, which may take it back later, as
   *  it is then (see `acquire`). */
  release(owner, keep = false) {
    this.users -= 1;
    this.left.add(owner);
    if (keep) owner.kept = this;
    // Where a feed taken back goes on from: the events after it reach no user.
    if (this.users === 0) this.#leftAt = this.#source ? this.#source.lastEventId : undefined;
    setTimeout(() => {
      this.left.delete(owner);
      if (this.users > 0 || entries.get(this.#key) !== this) return;
      this.drop();
    }, 0);
  }

  /** Out of the registry, and closed: no user holds it. */
  drop() {
    if (entries.get(this.#key) === this) entries.delete(this.#key);
    this.#watchers.clear();
    // Cut here rather than ended: a feed its owner takes back goes on (`acquire`).
    this.cut = this.state.kind !== 'closed';
    this.#source?.close();
  }

  /** Closes the connection for every user; `reconnect()` opens it again. */
  close() {
    this.#source?.close();
  }

  /** Opens a feed the registry cut again, after the last event it had when its last
   *  user left. */
  resume() {
    this.#open(this.#leftAt);
  }

  /** Reconnects now; a closed connection is opened again. In request mode that sends
   *  the request again, for a new answer, also while the old one streams (which ends):
   *  what the old one delivered goes first (each watcher's `reset()`, and the types'
   *  latest events), so no hook shows the new answer after the old one. A feed opened
   *  again goes on where it was (from its last event id). */
  reconnect() {
    if (this.request) {
      // (A request's reconnect would cut the answer: closed as interrupted where it
      // cannot resume, or resumed where it can, and no new answer either way.)
      const old = this.#source;
      this.#source = null; // its closed state is not this connection's
      old?.close();
      for (const slot of this.#types.values()) slot.latest = undefined;
      if (this.#watchers.size) this.delivered += 1;
      for (const { handlers } of [...this.#watchers]) handlers.reset?.();
      this.#open();
      return;
    }
    if (this.state.kind !== 'closed') {
      this.#source.reconnect();
      return;
    }
    // (The old source's id as it is: an `id:` with no value set it to none, which the
    // options' own `lastEventId` must not replace.)
    this.#open(this.#source ? this.#source.lastEventId : undefined);
  }

  /** Opens the source, resuming after `lastEventId` when given (a feed opened again). */
  #open(lastEventId) {
    let source = null;
    try {
      source = this.#construct(lastEventId);
    } catch (e) {
      // Options the constructor refuses, or a URL that does not parse: shown as a
      // source that closed at once on a request it could not build (as one whose URL
      // is not http(s) does), in `state` and `error`, rather than thrown from an effect
      // (React unmounts the tree) or a watcher (Vue reports it, and showed `connecting`).
      this.#source = null;
      this.#state(Object.freeze({ kind: 'closed', reason: 'invalid-request', message: e instanceof Error ? e.message : String(e) }));
      return;
    }
    this.#source = source;
    source.onState((state) => {
      if (this.#source === source) this.#state(state);
    });
    source.onDecodeError((info) => {
      const error = { kind: 'decode', ...info };
      for (const { type, handlers } of [...this.#watchers]) {
        // (A handler that sent a request again, `reconnect()`: the rest is the old answer's.)
        if (this.#source !== source) break;
        if (type === info.type) handlers.error(error);
      }
    });
    for (const [type, slot] of this.#types) this.#subscribe(type, slot);
  }

  #construct(lastEventId) {
    const options = this.#options ?? undefined;
    if (lastEventId === undefined) return new TypedEventSource(this.#url, options);
    // (Over the options, not a copy of their own fields: the caller's own object, which
    // the key keeps where JSON could not, may inherit them.)
    const resumed = Object.create(options ?? Object.prototype);
    resumed.lastEventId = lastEventId;
    try {
      return new TypedEventSource(this.#url, resumed);
    } catch {
      // Refused with an id (native with `resumeParam: null` cannot send one): as before.
      return new TypedEventSource(this.#url, options);
    }
  }

  #state(state) {
    const recovered = failed(this.state) && state.kind !== 'closed';
    this.state = state;
    const failure = failed(state);
    if (this.#watchers.size) this.delivered += 1;
    for (const { handlers } of [...this.#watchers]) {
      // A handler that moved it on (`reconnect()` from a sync watcher of `closed`)
      // had the newer state delivered to every watcher: this one is stale.
      if (this.state !== state) return;
      // The error first: a sync watcher of the state (Vue) reads the error that goes
      // with it.
      if (failure) handlers.error(state);
      else if (recovered) handlers.error(null);
      if (this.state !== state) return;
      handlers.state(state);
    }
  }

  #subscribe(type, slot) {
    slot.id = null;
    if (this.state.kind === 'closed') return; // a closed source takes no callbacks
    const source = this.#source;
    slot.id = source.on(type, (data, meta) => {
      slot.latest = { data, meta };
      let given = false;
      for (const { type: watched, handlers } of [...this.#watchers]) {
        // (A handler that sent a request again, `reconnect()`: the rest is the old answer's.)
        if (this.#source !== source) break;
        if (watched !== type) continue;
        if (!given) this.delivered += 1;
        given = true;
        handlers.event(data, meta);
      }
    });
  }
}

/** Whether `state` is a connection closed by a failure (not by `close()`, nor by a
 *  request stream's end). */
function failed(state) {
  return state.kind === 'closed' && state.reason !== 'client' && state.reason !== 'completed';
}
