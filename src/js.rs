//! The JavaScript API: class `TypedEventSource`, for bundles and `<script type="module">`.
//!
//! ```js
//! import init, { TypedEventSource } from "wasm-eventsource";
//! await init();
//! const es = new TypedEventSource("/events?channel=chat");
//! es.on("chat", (data, meta) => console.log(meta.lastEventId, data.user, data.text));
//! es.onDecodeError((err) => console.warn(err.message));
//! es.onState((state) => console.log(state.kind));
//! ```

use crate::event::RawEvent;
use crate::source::{EventSource, Options, Subscription, Transport};
use crate::state::{CloseReason, ConnectionState, ReconnectCause};
use js_sys::{Function, Object, Reflect};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options for `new TypedEventSource(url, options)`. Every field is optional. */
export interface TypedEventSourceOptions {
  /** Send cookies and HTTP auth cross-origin. Default `false`. */
  withCredentials?: boolean;
  /**
   * Which browser API carries the stream. Default `"native"` (the browser's EventSource).
   * `"fetch"` allows `method`, `body`, `headers` and `heartbeatMs`, reports precise HTTP
   * errors and is many times faster.
   */
  transport?: "native" | "fetch";
  /** HTTP method. Default `"GET"`. Fetch only. */
  method?: string;
  /** Request body, sent with every attempt. Fetch only. */
  body?: string;
  /** Extra request headers. Fetch only. */
  headers?: Record<string, string>;
  /** Resume after this id on the first connection. */
  lastEventId?: string;
  /** Reconnect when no bytes arrive for this long. Fetch only. */
  heartbeatMs?: number;
  /** Reconnection delay until the server sends `retry:`. Default 3000. Fetch only. */
  retryMs?: number;
  /** Largest event delivered, in bytes; larger ones go to `onDecodeError`. Default 1 MiB. Fetch only. */
  maxEventSize?: number;
}

/** Where a connection is. `kind` tells which. */
export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; delayMs: number | null; cause: ReconnectCause; message: string }
  | { kind: "closed"; reason: CloseReason; message: string; status?: number; contentType?: string };

/** Why a connection is being retried. */
export type ReconnectCause = "connection-lost" | "stream-ended" | "network" | "heartbeat-timeout";

/**
 * Why a source closed for good: `close()`; the browser gave up (native); an HTTP
 * status other than 200 (`status` set); a wrong content type (`contentType` set);
 * 204 No Content; a request that could not be built.
 */
export type CloseReason = "client" | "failed" | "http-status" | "content-type" | "no-content" | "invalid-request";

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
  /** The raw data, unchanged. */
  data: string;
  lastEventId: string;
  /** What was wrong: JSON.parse's message, or that the event was over `maxEventSize`. */
  message: string;
}

export type MessageHandler<T = unknown> = (data: T, meta: MessageMeta) => void;

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
"#;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsOptions {
    #[serde(default)]
    with_credentials: bool,
    transport: Option<String>,
    method: Option<String>,
    body: Option<String>,
    headers: Option<std::collections::BTreeMap<String, String>>,
    last_event_id: Option<String>,
    heartbeat_ms: Option<u32>,
    retry_ms: Option<u32>,
    max_event_size: Option<u32>,
}

impl JsOptions {
    fn from_js(value: JsValue) -> Result<Options, JsError> {
        if value.is_undefined() || value.is_null() {
            return Ok(Options::new());
        }
        let js: JsOptions = serde_wasm_bindgen::from_value(value)
            .map_err(|e| JsError::new(&format!("invalid TypedEventSource options: {e}")))?;
        let transport = match js.transport.as_deref() {
            None | Some("native") => Transport::Native,
            Some("fetch") => Transport::Fetch,
            Some(other) => {
                return Err(JsError::new(&format!(
                    "invalid TypedEventSource options: unknown transport {other:?}; use \"native\" or \"fetch\""
                )))
            }
        };
        let mut options = Options::new()
            .with_credentials(js.with_credentials)
            .transport(transport);
        if let Some(method) = js.method {
            options = options.method(method);
        }
        if let Some(body) = js.body {
            options = options.body(body);
        }
        for (name, value) in js.headers.unwrap_or_default() {
            options = options.header(name, value);
        }
        if let Some(id) = js.last_event_id {
            options = options.last_event_id(id);
        }
        if let Some(ms) = js.heartbeat_ms {
            options = options.heartbeat_timeout(Duration::from_millis(ms.into()));
        }
        if let Some(ms) = js.retry_ms {
            options = options.retry(Duration::from_millis(ms.into()));
        }
        if let Some(bytes) = js.max_event_size {
            options = options.max_event_size(bytes as usize);
        }
        Ok(options)
    }
}

/// A typed, observable Server-Sent Events connection for JavaScript.
///
/// Like the browser's `EventSource`, but handlers receive parsed JSON, payloads that
/// are not JSON go to `onDecodeError`, and `onState` tells connecting, open,
/// reconnecting (with the attempt) and closed (with the reason).
///
/// Keep a reference to it while you want events: like every wasm-bindgen object, one
/// that nothing references is freed by the garbage collector, and freeing closes the
/// connection. `close()` ends it at once.
#[wasm_bindgen]
pub struct TypedEventSource {
    source: EventSource,
    subscriptions: RefCell<HashMap<u32, Subscription>>,
    decode_error_handlers: Rc<RefCell<Vec<(u32, Function)>>>,
    next_id: Cell<u32>,
}

#[wasm_bindgen]
impl TypedEventSource {
    /// Opens a connection. Throws an `Error` that says what is wrong for an invalid URL
    /// or options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        #[wasm_bindgen(unchecked_param_type = "TypedEventSourceOptions")] options: JsValue,
    ) -> Result<TypedEventSource, JsError> {
        let options = JsOptions::from_js(options)?;
        let source =
            EventSource::with_options(url, options).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(TypedEventSource {
            source,
            subscriptions: RefCell::default(),
            decode_error_handlers: Rc::default(),
            next_id: Cell::new(1),
        })
    }

    /// Calls `callback(data, meta)` for each event of `type` whose data is JSON. Returns
    /// an id for `off`. (Its TypeScript signature, generic over the data, is in the
    /// custom section above.)
    #[wasm_bindgen(skip_typescript)]
    pub fn on(
        &self,
        #[wasm_bindgen(js_name = "type")] event_type: &str,
        #[wasm_bindgen(unchecked_param_type = "MessageHandler")] callback: Function,
    ) -> u32 {
        let errors = Rc::clone(&self.decode_error_handlers);
        let sub = self.source.on_raw_event(event_type, move |raw| {
            if let Some(reason) = raw.too_big() {
                return decode_error(&errors, raw, reason);
            }
            match js_sys::JSON::parse(raw.data()) {
                Ok(value) => {
                    if let Err(thrown) = callback.call2(&JsValue::NULL, &value, &meta(raw)) {
                        report(thrown);
                    }
                }
                Err(err) => {
                    let reason = format!(
                        "the {:?} event is not valid JSON: {}",
                        raw.event_type(),
                        crate::error::JsError::from(err).message()
                    );
                    decode_error(&errors, raw, &reason)
                }
            }
        });
        self.keep(sub)
    }

    /// Calls `callback(error)` for each event whose data is not valid JSON. Without one,
    /// such errors are reported to the console as uncaught errors. Returns an id for
    /// `off`.
    #[wasm_bindgen(js_name = onDecodeError)]
    pub fn on_decode_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecodeErrorHandler")] callback: Function,
    ) -> u32 {
        let id = self.take_id();
        self.decode_error_handlers.borrow_mut().push((id, callback));
        id
    }

    /// Calls `callback(state)` with the current state at once, then with every change,
    /// in order. Returns an id for `off`.
    #[wasm_bindgen(js_name = onState)]
    pub fn on_state(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StateHandler")] callback: Function,
    ) -> u32 {
        let sub = self.source.on_state(move |state| {
            if let Err(thrown) = callback.call1(&JsValue::NULL, &state_to_js(state)) {
                report(thrown);
            }
        });
        self.keep(sub)
    }

    /// Removes the callback registered under `id`. Returns whether there was one.
    pub fn off(&self, id: u32) -> bool {
        // Drop the subscription after the borrow ends: dropping it may close the source.
        let removed = self.subscriptions.borrow_mut().remove(&id);
        if removed.is_some() {
            return true;
        }
        let mut errors = self.decode_error_handlers.borrow_mut();
        let before = errors.len();
        errors.retain(|(i, _)| *i != id);
        errors.len() != before
    }

    /// Closes the connection for good. No callback runs for events after this.
    pub fn close(&self) {
        self.source.close();
    }

    /// 0 connecting (or reconnecting), 1 open, 2 closed, like `EventSource.readyState`.
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        self.source.ready_state()
    }

    /// The id of the last event received.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.source.last_event_id()
    }

    /// The current state, as `onState` would give it.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> JsValue {
        state_to_js(&self.source.state())
    }

    /// The absolute URL of the stream.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.source.url().to_owned()
    }
}

impl TypedEventSource {
    fn take_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    fn keep(&self, sub: Subscription) -> u32 {
        let id = self.take_id();
        self.subscriptions.borrow_mut().insert(id, sub);
        id
    }
}

fn meta(raw: &RawEvent) -> JsValue {
    object(&[
        ("type", raw.event_type().into()),
        ("lastEventId", raw.last_event_id().into()),
        ("origin", raw.origin().into()),
    ])
}

fn decode_error(handlers: &RefCell<Vec<(u32, Function)>>, raw: &RawEvent, message: &str) {
    let info = object(&[
        ("type", raw.event_type().into()),
        ("data", raw.data().into()),
        ("lastEventId", raw.last_event_id().into()),
        ("message", message.into()),
    ]);
    // Call a snapshot: a handler may add or remove handlers.
    let handlers: Vec<Function> = handlers.borrow().iter().map(|(_, f)| f.clone()).collect();
    if handlers.is_empty() {
        report(js_sys::Error::new(message).into());
    }
    for f in handlers {
        if let Err(thrown) = f.call1(&JsValue::NULL, &info) {
            report(thrown);
        }
    }
}

/// Reports an exception from a user callback the way the browser reports one from an
/// event listener (`reportError`), without unwinding through Rust frames.
fn report(error: JsValue) {
    let global = js_sys::global();
    let reporter = Reflect::get(&global, &"reportError".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .or_else(|| {
            let console = Reflect::get(&global, &"console".into()).ok()?;
            Reflect::get(&console, &"error".into())
                .ok()?
                .dyn_into()
                .ok()
        });
    if let Some(f) = reporter {
        let _ = f.call1(&JsValue::NULL, &error);
    }
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in fields {
        // Setting a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

fn state_to_js(state: &ConnectionState) -> JsValue {
    let kind: JsValue = state.kind().into();
    match state {
        ConnectionState::Connecting { attempt } => {
            object(&[("kind", kind), ("attempt", (*attempt).into())])
        }
        ConnectionState::Open => object(&[("kind", kind)]),
        ConnectionState::Reconnecting {
            attempt,
            delay,
            cause,
        } => object(&[
            ("kind", kind),
            ("attempt", (*attempt).into()),
            (
                "delayMs",
                delay.map_or(JsValue::NULL, |d| (d.as_millis() as f64).into()),
            ),
            ("cause", cause_name(cause).into()),
            ("message", state.to_string().into()),
        ]),
        ConnectionState::Closed { reason } => {
            let mut fields = vec![
                ("kind", kind),
                ("reason", reason_name(reason).into()),
                ("message", reason.to_string().into()),
            ];
            match reason {
                CloseReason::HttpStatus { status, .. } => fields.push(("status", (*status).into())),
                CloseReason::ContentType { content_type } => {
                    fields.push(("contentType", content_type.as_str().into()))
                }
                _ => {}
            }
            object(&fields)
        }
    }
}

fn cause_name(cause: &ReconnectCause) -> &'static str {
    match cause {
        ReconnectCause::ConnectionLost => "connection-lost",
        ReconnectCause::StreamEnded => "stream-ended",
        ReconnectCause::Network { .. } => "network",
        ReconnectCause::HeartbeatTimeout { .. } => "heartbeat-timeout",
    }
}

fn reason_name(reason: &CloseReason) -> &'static str {
    match reason {
        CloseReason::ClosedByClient => "client",
        CloseReason::Failed => "failed",
        CloseReason::HttpStatus { .. } => "http-status",
        CloseReason::ContentType { .. } => "content-type",
        CloseReason::NoContent => "no-content",
        CloseReason::InvalidRequest { .. } => "invalid-request",
    }
}
