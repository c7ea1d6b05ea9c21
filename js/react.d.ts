// Types of `wasm-eventsource/react` (js/react.js).
import type { ConnectionState, MessageMeta, TypedEventSourceOptions } from "./index.js";
import type { EventSourceError, EventSourceMessage } from "./shared.js";

export type { ConnectionState, EventSourceError, EventSourceMessage, MessageMeta, TypedEventSourceOptions };

/** The controls every hook returns. Both act on the connection the hook shares, two
 *  microtasks after the call, in the order called. Called in a handler that also
 *  changes the URL or options (before or after the call; in a click's or a key's
 *  handler, which React renders at once), `reconnect()` leaves the old connection
 *  alone, as the hook has by then moved to the new one, opened fresh (after a change
 *  that React renders later, from a timer's callback say, or under React 18's legacy
 *  `ReactDOM.render`, it still acts on the old one); `close()` closes the connection
 *  the hook held when it was called. */
export interface EventSourceControls {
  /** Closes the connection (for every hook sharing it) until `reconnect()`. */
  readonly close: () => void;
  /** In request mode: closes the answer (also while it streams) and sends the request
   *  again, fresh; what the hook shows of the old answer goes, the new one starts over.
   *  Otherwise: drops the connection (or cuts a backoff short) and connects now; a
   *  closed feed is opened again, after its last event id. */
  readonly reconnect: () => void;
}

/** What `useEventSource` returns. */
export interface UseEventSourceResult<T> extends EventSourceControls {
  /** The connection's state: `connecting` until it opens (and on the server); `closed` with the reason `client` for a null URL. */
  state: ConnectionState;
  /** The latest event's data (its JSON parsed, typed `T`), undefined before the first. */
  data: T | undefined;
  /** The latest event's meta, undefined before the first. */
  meta: MessageMeta | undefined;
  /** The latest decode error of the type, or the failure that closed the connection. */
  error: EventSourceError | null;
}

/** What `useEventSourceEvents` returns. */
export interface UseEventSourceEventsResult<T> extends EventSourceControls {
  state: ConnectionState;
  /** The last `keep` events of the type, oldest first. */
  events: readonly EventSourceMessage<T>[];
  error: EventSourceError | null;
}

/** The list's options. */
export interface EventListOptions {
  /** How many events to keep, the oldest dropped first. A whole number, at least 1. Default 100. */
  keep?: number | undefined;
}

/**
 * The latest event of `type` from `url`, its data typed `T` (nothing checks the shape
 * at run time). One connection per URL and options (compared by value, so an inline
 * object is fine), shared by the hooks mounted with the same (one that closed and that
 * every hook left is not handed to a hook mounted later: a keyed remount opens its own;
 * one another hook still holds is shared as it is, a failure or a completed answer,
 * and `reconnect()` opens it again for all of them); closed on unmount,
 * replaced when the URL or options change. On the server: `connecting`, nothing opened.
 * No URL (null or undefined, as in `useEventSource(signedIn ? url : null, ...)`):
 * nothing is opened, and `state` is `closed` with the reason `client` until a URL comes.
 */
export function useEventSource<T = unknown>(
  url: string | URL | null | undefined,
  type: string,
  options?: TypedEventSourceOptions | null,
): UseEventSourceResult<T>;

/**
 * The last `keep` events of `type` from `url` (oldest first), since the hook connected.
 * Throws a RangeError for a `keep` that is not a whole number of at least 1.
 */
export function useEventSourceEvents<T = unknown>(
  url: string | URL | null | undefined,
  type: string,
  options?: TypedEventSourceOptions | null,
  list?: EventListOptions,
): UseEventSourceEventsResult<T>;
