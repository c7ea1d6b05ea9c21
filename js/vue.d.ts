// Types of `wasm-eventsource/vue` (js/vue.js).
import type { MaybeRefOrGetter, Ref, ShallowRef } from "vue";
import type { ConnectionState, MessageMeta, TypedEventSourceOptions } from "./index.js";
import type { EventSourceError, EventSourceMessage } from "./shared.js";

export type { ConnectionState, EventSourceError, EventSourceMessage, MessageMeta, TypedEventSourceOptions };

/** What `useEventSource` returns: read-only refs and the controls. */
export interface UseEventSourceReturn<T> {
  /** The connection's state: `connecting` until it opens (and on the server); `closed` with the reason `client` for a null URL. */
  state: Readonly<ShallowRef<ConnectionState>>;
  /** The latest event's data (its JSON parsed, typed `T`), undefined before the first. */
  data: Readonly<ShallowRef<T | undefined>>;
  /** The latest event's meta, undefined before the first. */
  meta: Readonly<ShallowRef<MessageMeta | undefined>>;
  /** The latest decode error of the type, or the failure that closed the connection. */
  error: Readonly<ShallowRef<EventSourceError | null>>;
  /** Closes the connection (for every user sharing it) until `reconnect()`. */
  readonly close: () => void;
  /** In request mode: closes the answer (also while it streams) and sends the request
   *  again, fresh; what the hook shows of the old answer goes, the new one starts over.
   *  Otherwise: drops the connection (or cuts a backoff short) and connects now; a
   *  closed feed is opened again, after its last event id. It acts after Vue's next
   *  flush, as `close()` does: with a change of the URL or options in the same handler
   *  (before or after the call, a parent's prop too), it leaves the old connection, and
   *  the new one is opened fresh. */
  readonly reconnect: () => void;
}

/**
 * The latest event of `type` from `url`, its data typed `T` (nothing checks the shape
 * at run time). `url`, `type` and `options` may be values, refs or getters: a change
 * of `url` or `options` (compared by value) replaces the connection, one of `type`
 * follows the new type on the same connection. Shared with the other users of
 * the same URL and options mounted meanwhile (one that closed and that every user
 * left is not handed to a later one, which opens its own; one another user still
 * holds is shared as it is, and `reconnect()` opens it again for all); released when
 * the calling scope (the component) ends.
 * On the server: `connecting`, nothing opened. Hydrating, it renders the same first and
 * shows the connection's state once mounted. No URL (null or undefined, as a getter
 * `() => signedIn.value ? url : null` gives): nothing is opened, and `state` is
 * `closed` with the reason `client` until a URL comes.
 */
export function useEventSource<T = unknown>(
  url: MaybeRefOrGetter<string | URL | null | undefined>,
  type: MaybeRefOrGetter<string>,
  options?: MaybeRefOrGetter<TypedEventSourceOptions | null | undefined>,
): UseEventSourceReturn<T>;

/** The list's options (`useEventSourceEvents`). */
export interface EventListOptions {
  /** How many events to keep, the oldest dropped first: a whole number, at least 1
   *  (default 100), or a ref or getter of one, which the list follows. */
  keep?: MaybeRefOrGetter<number> | undefined;
}

/** What `useEventSourceEvents` returns: read-only refs and the controls. */
export interface UseEventSourceEventsReturn<T> {
  /** The connection's state: `connecting` until it opens (and on the server); `closed` with the reason `client` for a null URL. */
  state: Readonly<ShallowRef<ConnectionState>>;
  /** The last `keep` events of the type, oldest first (a new array for each event). */
  events: Readonly<Ref<readonly EventSourceMessage<T>[]>>;
  /** The latest decode error of the type, or the failure that closed the connection. */
  error: Readonly<ShallowRef<EventSourceError | null>>;
  /** Closes the connection (for every user sharing it) until `reconnect()`. */
  readonly close: () => void;
  /** As `useEventSource`'s; a request sent again starts a new list. */
  readonly reconnect: () => void;
}

/**
 * The last `keep` events of `type` from `url` (oldest first), each `{ data, meta }`,
 * since it connected: every event, also several that arrive together (a chunk, a
 * replay after a reconnect), which a watcher of `useEventSource`'s `data` sees only the
 * last of. Connects, shares and releases as `useEventSource` does. Throws a RangeError
 * for a `keep` that is not a whole number of at least 1.
 */
export function useEventSourceEvents<T = unknown>(
  url: MaybeRefOrGetter<string | URL | null | undefined>,
  type: MaybeRefOrGetter<string>,
  options?: MaybeRefOrGetter<TypedEventSourceOptions | null | undefined>,
  list?: EventListOptions,
): UseEventSourceEventsReturn<T>;
