// Types of the npm package's entry (js/index.js). The option, state and callback
// types come from the wasm module's declarations (src/bindings/js/types.d.ts).
import type {
  AnyMessageHandler,
  AnyMessageMeta,
  ConnectionState,
  DecodeErrorHandler,
  GapHandler,
  MessageHandler,
  MessageMeta,
  RawMessageHandler,
  ShareRole,
  StateHandler,
  TypedEventSourceOptions,
} from "../pkg-web/wasm_eventsource.js";

export type {
  AnyMessageHandler,
  AnyMessageMeta,
  CloseReason,
  ConnectionState,
  DecodeErrorHandler,
  DecodeErrorInfo,
  GapHandler,
  GapInfo,
  MessageHandler,
  MessageMeta,
  RawMessageHandler,
  ReconnectCause,
  RetryOptions,
  ShareRole,
  StateHandler,
  TypedEventSourceOptions,
} from "../pkg-web/wasm_eventsource.js";

/**
 * Loads the wasm module. Started on import in a browser or worker (without a top-level
 * await, so the package loads in Service Workers and SharedWorkers too): there is no
 * need to call it. A source constructed before the wasm is ready works at once and
 * connects when it is (its options are checked at once all the same). Pass a URL, a
 * Request, a Response (or a promise of one, as `fetch` gives), bytes or a compiled
 * module to load the wasm from elsewhere.
 * Once it has loaded, later calls return the same promise; after a failure they try
 * again. A call with an input while the load on import is still going loads from that
 * input if the first load fails.
 */
export function init(
  input?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module | Promise<Response | BufferSource | WebAssembly.Module>,
): Promise<void>;

/** The options of `stream()`: those of `TypedEventSource` that request mode takes (it
 *  is implied, over the fetch transport; sharing and pausing while hidden would send
 *  the request again), and a `signal` that aborts the request. */
export interface StreamInit
  extends Omit<TypedEventSourceOptions, "mode" | "transport" | "share" | "pauseWhenHidden"> {
  transport?: "fetch" | undefined;
  share?: false | undefined;
  pauseWhenHidden?: false | undefined;
  signal?: AbortSignal | null | undefined;
}

/** One event of `stream()`: `data` is the event's JSON parsed, or its text when
 *  `meta.json` is false; `meta.text` is its text either way (read that for a server
 *  that streams plain-text tokens: `" 2024"` parses as a number). */
export interface StreamItem<T = unknown> {
  data: T;
  meta: AnyMessageMeta;
}

/** What a `stream()` loop throws when the answer does not complete. */
export interface StreamError extends Error {
  /** The closed state: `reason` says why (`"http-status"` or `"gave-up"` with `status`
   *  and `body`, `"interrupted"` with `received`, ...). */
  reason: Extract<ConnectionState, { kind: "closed" }>;
}

/** What `stream()` returns: an async iterator that also counts what it dropped. */
export interface StreamIterator<T> extends AsyncIterableIterator<StreamItem<T>> {
  /** Leaves the loop early: aborts the request (what `break` calls). */
  return(value?: unknown): Promise<IteratorReturnResult<undefined>>;
  /** Events dropped (oldest first) because 65,536 of them, or 64 Mi characters of their
   *  text (data, type and id), were already waiting to be read. */
  readonly dropped: number;
}

/**
 * Sends one request in request mode (a POSTed prompt, say) and yields its answer's
 * events, whatever their type (`meta.type` says which). The loop ends when the answer
 * completes (the server ends the response between two events, or sends `doneData`,
 * `"[DONE]"` by default); it throws a `StreamError` when it does not, and `signal.reason` (an `AbortError`
 * from a signal that has none) when the signal aborts before the answer is over (after, the loop yields the rest of what came).
 * Leaving the loop (`break`, `return`, a throw) aborts the request, and so does an
 * iterator dropped without leaving it, once garbage-collected (one dropped while a
 * `next()` waits is held until the answer ends: pass a `signal` to end it sooner).
 * An event over `maxEventSize` (1 MiB by default) is not yielded: it is reported as an
 * uncaught error is (`reportError`); raise the option for answers with larger events.
 * Invalid options throw at once, as the constructor's do, and so does a `signal`
 * already aborted (its reason), before any request goes.
 *
 * ```ts
 * for await (const { data } of stream<Chunk>("/v1/chat/completions", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ model, stream: true, messages }),
 *   signal: controller.signal,
 * })) {
 *   answer += data.choices[0]?.delta?.content ?? "";
 * }
 * ```
 */
export function stream<T = unknown>(url: string | URL, init?: StreamInit | null): StreamIterator<T>;

/** One event of `events(type)`. */
export interface TypedMessage<T> {
  data: T;
  meta: MessageMeta;
}

/**
 * What `events(type)` returns: an async iterator that also counts what it dropped. It
 * holds at most 65,536 events its reader has not taken yet, and 16 Mi characters of
 * their text (data, type and id); past that the oldest go first, and `dropped` counts them
 * (a loop that waits takes the events of one read of a fetch stream only after the
 * whole read is handed over: they wait here meanwhile). Leaving a `for await` loop removes its callback;
 * an iterator dropped without `return()` has it removed once garbage-collected (one
 * whose `next()` waits is held until that settles: an event of its type, or the
 * close).
 */
export interface TypedMessageIterator<T> extends AsyncIterableIterator<TypedMessage<T>> {
  /** Stops early: removes its callback (what `break` calls). */
  return(value?: unknown): Promise<IteratorReturnResult<undefined>>;
  /** Events dropped (oldest first) because 65,536 of them, or 16 Mi characters of their
   *  text (data, type and id), were already waiting to be read. */
  readonly dropped: number;
}

/**
 * The events of `TypedEventSource`'s EventTarget side, as EventSource has them: `open`
 * and `error` are plain Events for the connection, or MessageEvents when the server
 * names an event so. None is `isTrusted` (they are dispatched by script).
 */
export interface TypedEventSourceEventMap {
  open: Event;
  error: Event;
  /** `shareRole` changed (the `share` option). Never a server event type: the one
   *  name `addEventListener` does not take from the server. */
  sharerole: Event;
  message: MessageEvent<string>;
}

/**
 * A typed, observable, resumable Server-Sent Events connection: the browser's
 * EventSource interface (so EventSource code runs unchanged), plus typed `on()`, a
 * truthful `onState`, a fetch transport and a reconnection engine.
 *
 * The one difference from EventSource that a JavaScript class cannot remove: the
 * events it dispatches (`open`, `error`, each `MessageEvent`) are dispatched by script,
 * so their `isTrusted` is `false`.
 */
export class TypedEventSource extends EventTarget {
  /**
   * Opens a connection. Throws a `TypeError` for invalid options (as WebIDL and `fetch`
   * do), an `Error` outside a browser, and
   * a `SyntaxError` `DOMException` for a URL that does not parse (as EventSource does),
   * whether the wasm is ready or not. Where there is no EventSource
   * (a Service Worker), the default transport is `"fetch"`.
   * A relative URL is resolved against the document's base URL (in a worker, its location). A URL that parses but
   * is not http(s) (`ftp:`, `about:blank`, ...) fails after construction, as with
   * EventSource: an `error` event, `readyState` 2, the state `closed` with the reason
   * `"invalid-request"`.
   */
  constructor(url: string | URL, options?: TypedEventSourceOptions | null);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;

  /** 0 connecting or reconnecting, 1 open, 2 closed. */
  readonly readyState: 0 | 1 | 2;
  /** The absolute URL of the stream. */
  readonly url: string;
  readonly withCredentials: boolean;
  /**
   * The id the source would resume after. Read in an event's callback or listener,
   * that event's id (as `meta.lastEventId` and `MessageEvent.lastEventId` give it).
   */
  readonly lastEventId: string;
  /** The current state, as `onState` gives it. */
  readonly state: ConnectionState;
  /**
   * The part this source plays in a connection shared across tabs (the `share`
   * option): `"alone"` when not shared, and once closed; a `sharerole` event fires
   * when it changes while the source is open.
   */
  readonly shareRole: ShareRole;

  /**
   * Calls `callback(data, meta)` for each event of `type`, `data` being the event's
   * JSON parsed (typed as `T`; nothing checks the shape at run time). Data that is not
   * JSON goes to `onDecodeError`. Returns an id for `off`. They run after the event's
   * text callbacks (`onRaw`, listeners, `on<type>`), whatever the registration order.
   * Throws once the source is closed (by `close()` or a failure): nothing would call
   * the callback; open a new source. So do `onRaw`, `onDecodeError`, `onGap` and
   * `onAny` (`addEventListener`, `onState` and `events()` do not, as EventSource's).
   */
  on<T = unknown>(type: string, callback: MessageHandler<T>): number;
  /** Calls `callback(data, meta)` for each event of `type` with its data as text
   *  (before the `on` callbacks, as listeners and `on<type>` handlers are). */
  onRaw(type: string, callback: RawMessageHandler): number;
  /** Events whose data is not JSON (or was over `maxEventSize`). */
  onDecodeError(callback: DecodeErrorHandler): number;
  /** The current state at once, then every change. */
  onState(callback: StateHandler): number;
  /**
   * The share role (the `share` option) at once, then every change, with the number
   * of sources the leader's events reach (0 unless this one leads).
   */
  onShareRole(callback: (role: ShareRole, followers: number) => void): number;
  /**
   * Numeric ids that skipped: events were lost. Called after the callbacks of the
   * events before the gap and before those of the event after it. Only events with an
   * `id:` field of their own count; an empty `id:` (or an id-only block that clears
   * the id) starts the numbering over. Fetch transport only: native sees only the event
   * types listened for, so it reports no gap rather than a false one.
   */
  onGap(callback: GapHandler): number;
  /**
   * Calls `callback(data, meta)` for every event, whatever its type, after the
   * callbacks of its type: `data` parsed as JSON, or the text with `meta.json` false.
   * An event over `maxEventSize` goes to `onDecodeError` (reported as an uncaught error
   * when there is none). Fetch transport only (throws with native). Returns an id for `off`.
   */
  onAny(callback: AnyMessageHandler): number;
  /**
   * Removes the registration `id` (and only it: the same function registered twice
   * is two registrations). Returns whether there was one. A callback removed while
   * an event is being delivered is not called for it, as with `removeEventListener`.
   */
  off(id: number): boolean;
  /**
   * Drops the connection, or cuts a backoff short, and connects now. In request mode
   * it cuts the answer: with server ids it resumes it (`Last-Event-ID`); without them
   * it closes as `"interrupted"` (with `retryRequest`, it sends the request again from
   * the start, the new events after the old ones); once closed it does nothing. For a
   * new answer open a new source (the hooks' `reconnect()` does that).
   */
  reconnect(): void;
  /** Closes for good and frees the connection's memory. */
  close(): void;
  /** `close()`, for `using`. Defined only where the runtime has `Symbol.dispose` when the
   *  package loads (a polyfill of it must load first). */
  [Symbol.dispose](): void;

  /**
   * The events of `type` as `{ data, meta }`, data parsed as JSON. Ends when the
   * source closes; leaving the loop removes its callback. At most 65,536 events (and 16
   * Mi characters of their text) wait for a reader that is behind: past that the
   * oldest are dropped, counted in the iterator's `dropped`.
   */
  events<T = unknown>(type: string): TypedMessageIterator<T>;

  /**
   * The event handler attributes, as EventSource's: each is a listener of its type,
   * called in the place where it was first set among that type's listeners (setting
   * another function keeps the place; `null` removes it). `onopen` and `onerror` also
   * receive the server's events named `open` and `error` (as MessageEvents). `this`
   * is typed as lib.dom types it, `EventSource`, so that a TypedEventSource can be
   * passed to code typed for EventSource, and so is `onmessage`'s event (`MessageEvent`,
   * whose data lib.dom leaves `any`: a handler that annotates it `MessageEvent<Chat>`
   * compiles as it does against EventSource, though the data is a string).
   */
  onmessage: ((this: EventSource, event: MessageEvent) => unknown) | null;
  onopen: ((this: EventSource, event: Event) => unknown) | null;
  onerror: ((this: EventSource, event: Event) => unknown) | null;

  addEventListener<K extends keyof TypedEventSourceEventMap>(
    type: K,
    listener: (this: TypedEventSource, event: TypedEventSourceEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: ((this: TypedEventSource, event: MessageEvent<string>) => unknown) | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** As lib.dom's EventSource takes it: a listener that annotates its event with
   *  another data type (`MessageEvent<Chat>`) compiles, though the data is a string. */
  addEventListener(
    type: string,
    listener: (this: TypedEventSource, event: MessageEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof TypedEventSourceEventMap>(
    type: K,
    listener: (this: TypedEventSource, event: TypedEventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: ((this: TypedEventSource, event: MessageEvent<string>) => unknown) | EventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** As lib.dom's EventSource takes it: a listener that annotates its event with
   *  another data type (`MessageEvent<Chat>`) compiles, though the data is a string. */
  removeEventListener(
    type: string,
    listener: (this: TypedEventSource, event: MessageEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** `TypedEventSource` under the interface's name, for code that swaps only the import. */
export { TypedEventSource as EventSource };
