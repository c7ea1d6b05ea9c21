// `wasm-eventsource/vue`: a Vue composable over TypedEventSource (Vue 3.3 or later, an
// optional peer dependency). Thin: the connection, its states, reconnection, typed
// decoding and errors are the core's; this keeps the latest value in refs.
//
// - `url` (and `options`) may be a value, a ref or a getter: a new URL, or options
//   that differ by value, close the connection and open one for the new ones; the
//   refs start over, so nothing of the old connection shows.
// - The connection is shared with every other user of the same URL and options
//   (js/shared.js), and released in `onScopeDispose` (a component's unmount).
// - On the server (SSR) it opens nothing and `state` stays `connecting`.
// - Call it in `setup()` or an `effectScope()`: the scope's end releases it.

import { getCurrentScope, onScopeDispose, shallowRef, toValue, watch } from 'vue';
import { CONNECTING, acquire, canConnect, connectionKey } from './shared.js';

/**
 * The latest event of `type` from `url`, typed `T`: refs `{ state, data, meta, error }`
 * and `close()`, `reconnect()`.
 */
export function useEventSource(url, type, options) {
  const state = shallowRef(CONNECTING);
  const data = shallowRef(undefined);
  const meta = shallowRef(undefined);
  const error = shallowRef(null);
  let current = null;
  let stop = null;

  const leave = () => {
    stop?.();
    current?.release();
    stop = null;
    current = null;
  };

  if (canConnect) {
    watch(
      // Two sources, each compared by value: an equal key is the same connection.
      [() => connectionKey(toValue(url), toValue(options)), () => String(toValue(type))],
      ([key, eventType]) => {
        leave();
        const shared = acquire(key, toValue(options));
        current = shared;
        const latest = shared.latest(eventType);
        state.value = shared.state;
        data.value = latest?.data;
        meta.value = latest?.meta;
        error.value = shared.failure;
        stop = shared.watch(eventType, {
          state: (s) => {
            state.value = s;
          },
          event: (d, m) => {
            data.value = d;
            meta.value = m;
          },
          error: (e) => {
            error.value = e;
          },
        });
      },
      // Before the render (Vue's default), not at each change: props or options
      // changed together in one update open one connection, for their new values
      // (with 'sync', each value in between opened one, its request sent).
      { immediate: true },
    );
    if (getCurrentScope()) onScopeDispose(leave);
  }

  return {
    state,
    data,
    meta,
    error,
    close: () => current?.close(),
    reconnect: () => current?.reconnect(),
  };
}
