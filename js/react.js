// `wasm-eventsource/react`: React hooks over TypedEventSource (React 18 or later, an
// optional peer dependency). Thin: the connection, its states, reconnection, typed
// decoding and errors are the core's; these keep the latest value (or the last `keep`
// events) in React state.
//
// - One connection per URL and options, shared by the hooks mounted with equal ones
//   (js/shared.js: a module-level registry with reference counts, so no provider to
//   mount; a closed one that every hook left is not handed to a hook mounted later,
//   which opens its own; one still held is shared, failure and all, and `reconnect()`
//   opens it again for all). Options are compared by value, so an inline options
//   object does not reconnect on every render.
// - Opened in an effect and released in its cleanup: closed on unmount, and a new
//   connection when the URL or the options change. StrictMode's double effects leave
//   one stream: the source is closed a task after its last user leaves, and the
//   second mount takes it back before then.
// - On the server (SSR) effects do not run: the hooks render `connecting` and open
//   nothing.

import { useEffect, useMemo, useRef, useState } from 'react';
import { CONNECTING, DEFAULT_KEEP, NO_URL, acquire, canConnect, checkKeep, connectionKey, deferredControls, kept, lastOf } from './shared.js';

/**
 * The latest event of `type` from `url`, typed `T`: `{ state, data, meta, error, close,
 * reconnect }`. `data` and `meta` are undefined until an event arrives; `error` is the
 * latest decode error of `type` or the closed state of a failure, else null.
 */
export function useEventSource(url, type, options) {
  const key = connectionKey(url, options);
  const id = viewId(key, type);
  const [view, setView] = useState(() => initial(id, key));
  const controls = useConnection(key, options, type, setView, {
    start: (shared) => {
      const latest = shared.latest(type);
      return { ...initial(id, key), state: shared.state, data: latest?.data, meta: latest?.meta, error: shared.failure };
    },
    event: (data, meta) => (v) => ({ ...v, data, meta }),
  });
  // Until the effect runs for a new URL, options or type, nothing of the old connection shows.
  const shown = view.id === id ? view : initial(id, key);
  return { state: shown.state, data: shown.data, meta: shown.meta, error: shown.error, ...controls };
}

/**
 * The last `keep` (default 100) events of `type` from `url`, oldest first, each
 * `{ data, meta }`: `{ state, events, error, close, reconnect }`. Counts from the
 * moment the hook connected (a new URL or options start a new list, and so does a
 * request sent again by `reconnect()`: a new answer).
 */
export function useEventSourceEvents(url, type, options, { keep = DEFAULT_KEEP } = {}) {
  checkKeep(keep);
  const key = connectionKey(url, options);
  const id = viewId(key, type);
  const [view, setView] = useState(() => initial(id, key));
  // What the updates trim to: the committed `keep` (a render that never commits, such
  // as an abandoned transition, must not trim the list under the `keep` shown).
  const keepRef = useRef(keep);
  useEffect(() => {
    keepRef.current = keep;
  }, [keep]);
  const controls = useConnection(key, options, type, setView, {
    start: (shared) => ({ ...initial(id, key), state: shared.state, error: shared.failure }),
    event: (data, meta) => (v) => ({ ...v, events: kept(v.events, { data, meta }, keepRef.current) }),
  });
  const shown = view.id === id ? view : initial(id, key);
  // A `keep` lowered shows the last `keep` at once, as one array until the list changes.
  const events = useMemo(() => lastOf(shown.events, keep), [shown.events, keep]);
  return { state: shown.state, events, error: shown.error, ...controls };
}

/** What a view belongs to: its connection and event type. */
function viewId(key, type) {
  return `${String(type)}\n${key}`;
}

/** What a view shows before its connection's first state: `connecting`, or for no
 *  URL (a null key) the closed state that says so. */
function initial(id, key) {
  return { id, state: key === null ? NO_URL : CONNECTING, data: undefined, meta: undefined, events: [], error: null };
}

/** Holds the shared connection for `key` (of `options`) while mounted and feeds `setView`. */
function useConnection(key, options, type, setView, { start, event }) {
  const current = useRef(null);
  // This hook, as the registry's owner: the same object across StrictMode's double
  // effects, another one in a remounted (keyed) component.
  const owner = useRef(null);
  owner.current ??= {};
  // The connection it held last, and how much of it the hook had been given then.
  const last = useRef(null);
  const seen = useRef(0);
  const id = viewId(key, type);
  useEffect(() => {
    // (No URL: nothing to open; the view shows `NO_URL`, one object until the key
    // changes, and nothing of a connection before it.)
    if (!canConnect || key === null) {
      // (What it let go is not taken back when a URL comes again: a new request.)
      owner.current.kept = null;
      setView((v) => (v.id === id ? v : initial(id, key)));
      return undefined;
    }
    const shared = acquire(key, options, owner.current);
    // The connection this hook held last, taken back with nothing given to others
    // meanwhile (StrictMode's second mount, an `<Activity>` shown again): the view
    // keeps what it showed of it.
    const back = last.current === shared && seen.current === shared.delivered;
    last.current = shared;
    current.current = shared;
    // (A failure that came while no hook watched it, after the cleanup, shows too.)
    setView((v) => (back && v.id === id ? { ...v, state: shared.state, error: shared.failure ?? v.error } : start(shared)));
    const stop = shared.watch(type, {
      state: (state) => setView((v) => (v.id === id ? { ...v, state } : v)),
      event: (data, meta) => {
        const update = event(data, meta);
        setView((v) => (v.id === id ? update(v) : v));
      },
      error: (error) => setView((v) => (v.id === id ? { ...v, error } : v)),
      // A request sent again: its new answer starts over.
      reset: () => setView((v) => (v.id === id ? { ...v, data: undefined, meta: undefined, events: [], error: null } : v)),
    });
    return () => {
      stop();
      seen.current = shared.delivered;
      shared.release(owner.current, true);
      if (current.current === shared) current.current = null;
    };
    // `options`, `start` and `event` are read when the key or the type change, as intended.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, type]);
  // `close()` and `reconnect()` act two microtasks later, in the order they were called,
  // on the connection the hook held when called (`reconnect()` only if it still holds
  // it). A handler that changes the URL or options gets React's render first, before or
  // after the call (a click's is a microtask queued at its first `setState`), whose
  // effect moves the hook to the new connection, opened fresh; the old one is not
  // opened again (a `reconnect()` on it sent its request once more). A `close()` is
  // kept through an unmount in the same handler: closing sends nothing.
  return useMemo(
    () =>
      deferredControls(
        () => current.current,
        (shared) => current.current === shared,
        (run) => queueMicrotask(() => queueMicrotask(run)),
      ),
    [],
  );
}
