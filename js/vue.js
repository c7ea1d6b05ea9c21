// `wasm-eventsource/vue`: a Vue composable over TypedEventSource (Vue 3.3 or later, an
// optional peer dependency). Thin: the connection, its states, reconnection, typed
// decoding and errors are the core's; these keep the latest value (or the last `keep`
// events) in refs.
//
// - `url` (and `options`) may be a value, a ref or a getter: a new URL, or options
//   that differ by value, close the connection and open one for the new ones; the
//   refs start over, so nothing of the old connection shows.
// - The connection is shared with the other users of the same URL and options
//   (js/shared.js; a closed one that every user left is not handed to a later user,
//   one still held is shared, failure and all), and released in
//   `onScopeDispose` (a component's unmount).
// - On the server (SSR) it opens nothing and `state` stays `connecting` (with no URL,
//   `closed`, as on the client), also where the
//   server looks like a browser (a test DOM): Vue's server renderer provides its context. A component
//   that hydrates renders the same first, and shows the connection's state once
//   mounted, so a component hydrated late (lazy hydration) matches the server's HTML.
// - Call them in `setup()` or an `effectScope()`: the scope's end releases them.

import { computed, getCurrentInstance, getCurrentScope, inject, nextTick, onMounted, onScopeDispose, shallowRef, ssrContextKey, toValue, watch, watchEffect, watchSyncEffect } from 'vue';
import { CONNECTING, DEFAULT_KEEP, NO_URL, acquire, canConnect, checkKeep, connectionKey, deferredControls, isKeep, kept, lastOf } from './shared.js';

/** `keep` as given, or the default for undefined (null is refused, as React's). */
const orDefault = (keep) => (keep === undefined ? DEFAULT_KEEP : keep);

/**
 * The latest event of `type` from `url`, typed `T`: refs `{ state, data, meta, error }`
 * and `close()`, `reconnect()`.
 */
export function useEventSource(url, type, options) {
  const data = shallowRef(undefined);
  const meta = shallowRef(undefined);
  const { state, error, controls } = useConnection(url, type, options, {
    // The meta before the data: a sync watcher of `data` reads the meta that goes with
    // it.
    start: (shared, eventType) => {
      const latest = shared.latest(eventType);
      meta.value = latest?.meta;
      data.value = latest?.data;
    },
    clear: () => {
      meta.value = undefined;
      data.value = undefined;
    },
    event: (d, m) => {
      meta.value = m;
      data.value = d;
    },
  });
  return { state, data, meta, error, ...controls };
}

/**
 * The last `keep` (default 100) events of `type` from `url`, oldest first, each
 * `{ data, meta }`: refs `{ state, events, error }` and `close()`, `reconnect()`. Every
 * event is kept, also several that arrive together (a chunk, a replay), which a
 * watcher of `useEventSource`'s `data` would see only the last of. Counts from the
 * moment it connected (a new URL or options start a new list, and so does a request
 * sent again by `reconnect()`: a new answer).
 */
export function useEventSourceEvents(url, type, options, { keep = DEFAULT_KEEP } = {}) {
  // `keep` may be a value, a ref or a getter: the list shows the last `keep` as it is.
  const keepNow = () => checkKeep(orDefault(toValue(keep)));
  let last = keepNow();
  const stored = shallowRef([]);
  const { state, error, controls } = useConnection(url, type, options, {
    start: () => {
      stored.value = [];
    },
    clear: () => {
      stored.value = [];
    },
    event: (data, meta) => {
      // (A `keep` made invalid since, or a getter that throws: the last good one, not a
      // throw into the source, whose other users would miss the event.)
      let n;
      try {
        n = orDefault(toValue(keep));
      } catch {}
      if (isKeep(n)) last = n;
      stored.value = kept(stored.value, { data, meta }, last);
    },
  });
  // A `keep` lowered shows the last ones at once (read where it is shown: an invalid
  // one throws there, as at the call).
  const events = computed(() => lastOf(stored.value, keepNow()));
  return { state, events, error, ...controls };
}

/** Holds the shared connection for `url` and `options` while the scope lives, keeps
 *  `state` and `error` in refs, and hands `view` what it shows: `start(shared, type)`
 *  on joining a connection, `clear()` when there is none or a new answer starts, and
 *  `event(data, meta)` for each event of the type. */
function useConnection(url, type, options, view) {
  // No URL (null or undefined): nothing opened until there is one (see `NO_URL`); the
  // same on the server, so a hydrating component renders what it rendered.
  const noUrl = () => toValue(url) == null;
  const state = shallowRef(noUrl() ? NO_URL : CONNECTING);
  const error = shallowRef(null);
  let current = null;
  // The key `current` was acquired for, and whether the URL or options have changed
  // from it since (before the watcher, which runs before the next render, acts on it).
  let currentKey = null;
  let stale = false;
  let stop = null;
  // This composable, as the registry's owner (see js/shared.js `acquire`).
  const owner = {};

  const leave = () => {
    stop?.();
    current?.release(owner);
    stop = null;
    current = null;
  };

  // Hydrating: Vue gives the component the server's element before `setup()` runs (a
  // component mounted on the client has none yet). Its first render must be the
  // server's, so an open connection's state waits for the mount. (A mounted component
  // has an element too: called from its hooks, there is no mount to wait for.)
  const instance = canConnect ? getCurrentInstance() : null;
  let hydrating = instance != null && !instance.isMounted && instance.vnode.el != null;
  // The state last: a sync watcher of it reads the rest as it goes with it.
  const show = (shared, eventType) => {
    error.value = shared.failure;
    view.start(shared, eventType);
    state.value = shared.state;
  };
  const none = () => {
    error.value = null;
    view.clear();
    state.value = NO_URL;
  };

  // Server rendering where the server looks like a browser (a test DOM such as jsdom,
  // Deno with --location): Vue runs an immediate watcher during the server's setup
  // too, and nothing unmounts there, so a connection opened would never be released.
  const onServer = getCurrentInstance() != null && inject(ssrContextKey, null) != null;
  // A scope already stopped: a component unmounted while its async `setup()` awaited
  // (Vue before 3.5.34 puts its stopped scope back after the `await`, and would never
  // run the release filed on it): it opens nothing.
  const stopped = getCurrentScope()?.active === false;
  // The URL first: without one the options are not read (a getter of them may need what
  // is gone with it, a signed-out user's token).
  const keyNow = () => {
    const u = toValue(url);
    return u == null ? null : connectionKey(u, toValue(options));
  };
  if (canConnect && !onServer && !stopped) {
    watch(
      // Two sources, each compared by value: an equal key is the same connection.
      [keyNow, () => String(toValue(type))],
      ([key, eventType]) => {
        leave();
        currentKey = key;
        stale = false;
        // (Undefined: a getter threw, which Vue reported; nothing is connected.)
        if (key == null) {
          if (!hydrating) none();
          return;
        }
        const shared = acquire(key, toValue(options), owner);
        current = shared;
        if (!hydrating) show(shared, eventType);
        stop = shared.watch(eventType, {
          state: (s) => {
            if (!hydrating) state.value = s;
          },
          event: (d, m) => {
            if (!hydrating) view.event(d, m);
          },
          error: (e) => {
            if (!hydrating) error.value = e;
          },
          // A request sent again: its new answer starts over.
          reset: () => {
            view.clear();
            error.value = null;
          },
        });
      },
      // Before the render (Vue's default), not at each change: props or options
      // changed together in one update open one connection, for their new values
      // (with 'sync', each value in between opened one, its request sent).
      { immediate: true },
    );
    // Marks `current` stale as soon as the values change (only a tracked change: a key
    // that moves without one, a relative URL after `pushState`, is not a change here),
    // and fresh again if they come back before the watcher runs; and, after the watcher
    // in each flush, as the values then are (the watcher may have had nothing to do).
    // (A getter that throws on a value in between, a prop assigned before another, is
    // stale here: the watcher reports it, if it still throws when it runs.)
    const staleNow = () => {
      try {
        return keyNow() !== currentKey;
      } catch {
        return true;
      }
    };
    const mark = () => {
      stale = staleNow();
    };
    watchSyncEffect(mark);
    watchEffect(mark);
    if (hydrating) {
      onMounted(() => {
        hydrating = false;
        if (current) show(current, String(toValue(type)));
        // (No URL, or a getter that threw: nothing is connected.)
        else none();
      });
    }
    if (getCurrentScope()) onScopeDispose(leave);
  }

  // `close()` and `reconnect()` act after Vue's next flush, in the order they were
  // called, on the connection held when called (`reconnect()` only if it still holds it
  // and the values are its own), as the React hooks' do: a handler that changes the URL
  // or options, before or after the call, gets the watcher's run first (a parent's prop
  // changes only as the parent renders, in that flush), which moves the composable to
  // the new connection, opened fresh; the old one is not asked again (in request mode,
  // its request would go out once more). A `close()` holds through an unmount in the
  // same handler: closing sends nothing.
  const controls = deferredControls(
    () => current,
    (shared) => shared === current && !stale,
    // (The microtask first: a change later in the handler has queued its flush then,
    // which `nextTick` waits for.)
    (run) => queueMicrotask(() => nextTick(run)),
  );
  return {
    state,
    error,
    controls,
  };
}
