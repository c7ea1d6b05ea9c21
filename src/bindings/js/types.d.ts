// TypeScript declarations for the JavaScript API (src/bindings/js/), appended to the
// package's generated .d.ts by wasm-bindgen.
/** Options for `new TypedEventSource(url, options)`. Every field is optional, and one
 *  set to `undefined` counts as not set. */
export interface TypedEventSourceOptions {
  /** Send cookies and HTTP auth cross-origin. Default `false`. */
  withCredentials?: boolean | undefined;
  /**
   * Which browser API carries the stream. Default `"native"` (the browser's EventSource),
   * or `"fetch"` in request mode and where there is no EventSource (a Service Worker). `"fetch"` allows `method`, `body` and `headers`,
   * reports precise HTTP errors with the response body and is many times faster.
   */
  transport?: "native" | "fetch" | undefined;
  /**
   * `"subscription"` (default): a feed, followed across reconnects. `"request"`: the
   * answer to one request (a language model's to a POSTed prompt): the server ending
   * the response (between two events) closes the source with the reason
   * `"completed"`, and nothing is sent again; a cut mid-answer (a network error, or a
   * body that ends inside an event) resumes (the request is sent again with `Last-Event-ID`)
   * only when the server sent ids, and otherwise closes with `"interrupted"` unless
   * `retryRequest` is set. Failures before the response (network, 5xx, 408, 429) are
   * retried as `retry` says, which sends the request again (a gateway's 502 or 504
   * can come after the server got it):
   * `retry: { maxAttempts: 0 }` turns that off. Needs the fetch transport: with
   * `transport: "native"` the constructor throws.
   */
  mode?: "subscription" | "request" | undefined;
  /**
   * The data of the event that ends the answer: it closes the source with the reason
   * `"completed"` and reaches no callback. Default `"[DONE]"` in request mode, none
   * (`null`) otherwise. Fetch only.
   */
  doneData?: string | null | undefined;
  /**
   * Request mode: after a cut in an answer that carried no ids, send the request again
   * (the answer starts over, and may be billed twice). Each send counts as one attempt
   * of the `retry` policy, however much the cut answer delivered: `retry: {
   * maxAttempts: 2 }` sends it at most twice more. Default `false`. Without
   * `mode: "request"` the constructor throws (a feed reconnects by itself).
   */
  retryRequest?: boolean | undefined;
  /**
   * One connection for the tabs of this origin: `true` shares it with the sources of
   * the same URL and request options, a non-empty string with those of the same key (and
   * transport; tabs that run two versions of the package, as after a deploy, make
   * two groups). One tab (the leader, elected with Web Locks) holds the connection; the others receive its
   * events over a BroadcastChannel and run their callbacks as if on their own
   * connection. When the leader closes or its tab goes, another tab connects, resuming
   * after the group's last event: every tab sees a reconnection (`reconnecting`, an
   * `error` event), and a wait the group was in (a `Retry-After`) is waited out first. A shared source dedupes by id. `shareRole` and
   * the `sharerole` event say which part a source plays. Where Web Locks or
   * BroadcastChannel is missing the source connects on its own (one console warning).
   * Not with `mode: "request"`. Default `false`.
   */
  share?: boolean | string | undefined;
  /** HTTP method. Default `"GET"`. Fetch only. */
  method?: string | undefined;
  /** Request body, sent with every attempt. Fetch only. */
  body?: string | undefined;
  /** Extra request headers. Fetch only. A name browsers keep to themselves (`Cookie`,
   *  `Host`, `Origin`, `Sec-*`…) throws, as fetch would drop it: cookies go with
   *  `withCredentials`. A `Last-Event-ID` is the first last event id (as `lastEventId`,
   *  when that is not given): later requests resume after the stream's own. */
  headers?: Record<string, string> | undefined;
  /** Resume after this id on the first connection. */
  lastEventId?: string | undefined;
  /**
   * The query parameter that carries the last event id when a new EventSource resumes
   * (native), or when fetch resumes cross-origin after a request with the
   * `Last-Event-ID` header failed before any answer (a refused CORS preflight; not in
   * request mode, whose resume always sends the header). Default `"lastEventId"`;
   * `null` sends none (native then refuses a `lastEventId`, which it could not send,
   * and an EventSource opened in place of one, after a 5xx, a heartbeat timeout,
   * `reconnect()` or a hidden page, carries no id: what the server sent in between is
   * lost).
   */
  resumeParam?: string | null | undefined;
  /**
   * Replace a connection on which nothing arrives for this long (fetch: any bytes, the
   * wait for headers included; native: an event of a type listened for, or of
   * `heartbeatEvent`). No default.
   */
  heartbeatMs?: number | undefined;
  /** Native: an event type the server sends as a keep-alive; it resets the heartbeat. */
  heartbeatEvent?: string | undefined;
  /** The backoff base (same as `retry.baseMs`); from a failure streak's second retry on, added to the server's `retry:`. Default 1000. */
  retryMs?: number | undefined;
  /** The reconnection policy; `null` or unset for the default. */
  retry?: RetryOptions | null | undefined;
  /** Reconnect at once when the browser comes back online (the wait a `retry:` or `Retry-After` asked for is still kept); spend no attempt while offline (but in request mode, where every send counts). In a worker, which hears no `online` event, `navigator.onLine` is read each second while a source waits. Default `false`. */
  reconnectOnOnline?: boolean | undefined;
  /** Close while the page is hidden, resume when it is visible (a worker has no page: nothing to do there). Default `false`. Refused with `mode: "request"` (the return would send the request again). */
  pauseWhenHidden?: boolean | undefined;
  /**
   * Drop events with an `id:` field of their own that were already delivered: the
   * same id, type and data (inclusive replays, from each connection's open to its
   * first new event; a restarted server's new events under old ids are delivered, and
   * so is an event a server changed when it sent it again). An
   * event without an `id:` is always delivered. Native cannot see the field: there an
   * event whose id equals the one before it counts as having none. Default `false`.
   */
  dedupe?: boolean | undefined;
  /** Largest event delivered, in bytes of its data (a line end per `data` line), type and id; larger ones go to `onDecodeError`. Default 1 MiB. Fetch only. Shared (`share`), the leader's applies: by default tabs with another value are another group. */
  maxEventSize?: number | undefined;
}

/**
 * Exponential backoff with full jitter: retry n waits a random delay between `floorMs`
 * and min(`maxMs`, baseMs × 2^(n-1)). The server's `retry:` and a `Retry-After` on
 * 429/5xx are minimums, never capped below: the first retry waits the larger of them
 * (plus at most 2% at random), as EventSource does; later retries of a failing streak
 * add the backoff to it. Network errors, 5xx, 408 and 429 are retried; 204, other
 * 4xx, a wrong content type, a CORS rejection and a page abort close.
 */
export interface RetryOptions {
  /** Default 1000. */
  baseMs?: number | undefined;
  /** Default 30000. */
  maxMs?: number | undefined;
  /** Default 100. */
  floorMs?: number | undefined;
  /** Give up (`closed`, reason `"gave-up"`) after this many failed retries in a row. No default. */
  maxAttempts?: number | undefined;
  /** Give up when failing for this long (not counting waits for the network or a
   *  visible page), as an attempt fails: a wait that ends past it (a backoff, a
   *  `Retry-After`) is waited, and the retry after it is the last. No default. */
  maxElapsedMs?: number | undefined;
  /** Full jitter. Default `true`. */
  jitter?: boolean | undefined;
}

/** Where a connection is. `kind` tells which. */
export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; delayMs: number | null; cause: ReconnectCause; message: string; status?: number; body?: string }
  | {
      kind: "closed";
      reason: CloseReason;
      message: string;
      /** An HTTP error's status, whatever the reason (`"http-status"`, or `"gave-up"` after it). */
      status?: number;
      /** That response's body text, first 64 KiB (fetch): an API's JSON error stays text. */
      body?: string;
      contentType?: string;
      attempts?: number;
      /** `"interrupted"`: the events that had arrived. */
      received?: number;
    };

/**
 * Why a connection is being retried. `"http-status"` comes with `status` (5xx, 408,
 * 429) and, on fetch, `body`; `"requested"` is `reconnect()`; `"hidden"` is
 * `pauseWhenHidden`.
 */
export type ReconnectCause =
  | "connection-lost" | "stream-ended" | "network" | "heartbeat-timeout"
  | "http-status" | "content-type" | "no-content" | "requested" | "hidden";

/**
 * Why a source closed for good: `close()`; a failure with no more precise reason;
 * an HTTP status that is not retried (`status` and `body` set); a wrong content type
 * (`contentType` set); 204 No Content; a request that could not be built; the retry
 * limits were reached (`attempts` set); request mode: the answer is complete, or was
 * cut with no ids to resume it by (`received` set).
 */
export type CloseReason =
  | "client" | "failed" | "http-status" | "content-type" | "no-content" | "invalid-request" | "gave-up"
  | "completed" | "interrupted";

/** Numeric ids skipped: the events between `after` and `next` never arrived. */
export interface GapInfo {
  after: number;
  next: number;
  missing: number;
}
export type GapHandler = (gap: GapInfo) => void;

/** What comes with each event besides its data. */
export interface MessageMeta {
  /** The event type (`"message"` when the server sent no `event:` field). */
  type: string;
  /** The last event id after this event. */
  lastEventId: string;
  /** The origin of the stream. */
  origin: string;
}

/** An event whose data was not valid JSON. The stream goes on. */
export interface DecodeErrorInfo {
  type: string;
  /** The raw data, unchanged; empty for an event over `maxEventSize`, whose data was not kept. */
  data: string;
  lastEventId: string;
  /** What was wrong: JSON.parse's message, or that the event was over `maxEventSize`. */
  message: string;
}

export type MessageHandler<T = unknown> = (data: T, meta: MessageMeta) => void;
/** What comes with each event of `onAny` and `stream()`. */
export interface AnyMessageMeta extends MessageMeta {
  /** Whether `data` is the event's JSON parsed (`true`) or its text (`false`: not JSON). */
  json: boolean;
  /** The event's data as the server sent it, parsed or not. A server that streams
   *  plain-text tokens is read here: `" 2024"` parses as the number `2024`, and only
   *  the text keeps its space. */
  text: string;
}
/** `onAny`'s callback: every event, its JSON parsed, or its text when it is not JSON. */
export type AnyMessageHandler = (data: unknown, meta: AnyMessageMeta) => void;
/** `onRaw`'s callback: the event's data as text, unparsed. */
export type RawMessageHandler = (data: string, meta: MessageMeta) => void;

export interface TypedEventSource {
  /**
   * Calls `callback(data, meta)` for each event of `type`, `data` being the event's
   * JSON parsed (typed as `T`; nothing checks the shape at run time). Data that is not
   * JSON goes to `onDecodeError` instead. Returns an id for `off`.
   */
  on<T = unknown>(type: string, callback: MessageHandler<T>): number;
}
export type DecodeErrorHandler = (error: DecodeErrorInfo) => void;
export type StateHandler = (state: ConnectionState) => void;
/** The part a source plays in a connection shared across tabs (the `share` option). */
export type ShareRole = "alone" | "leader" | "follower";
