// Types shared by the React and Vue entries (js/react.d.ts, js/vue.d.ts).
import type { ConnectionState, DecodeErrorInfo, MessageMeta } from "./index.js";

/**
 * What a hook's `error` holds: the latest event of its type whose data was not JSON
 * (`kind: "decode"`), or the closed state of a connection that closed on a failure
 * (any reason but `"client"` and `"completed"`). Retries in progress are in `state`.
 */
export type EventSourceError =
  | ({ kind: "decode" } & DecodeErrorInfo)
  | Extract<ConnectionState, { kind: "closed" }>;

/** One event kept by `useEventSourceEvents`. */
export interface EventSourceMessage<T> {
  data: T;
  meta: MessageMeta;
}
