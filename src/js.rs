//! The JavaScript API: class `TypedEventSource`, for bundles and `<script type="module">`.
//!
//! The npm package's entry (`js/index.js`) wraps this class: it loads the module on
//! import, keeps open sources alive and adds the EventSource interface. The bare class
//! is `wasm-eventsource/web`:
//!
//! ```js
//! import init, { TypedEventSource } from "wasm-eventsource/web";
//! await init();
//! const es = new TypedEventSource("/events?channel=chat");
//! es.on("chat", (data, meta) => console.log(meta.lastEventId, data.user, data.text));
//! es.onDecodeError((err) => console.warn(err.message));
//! es.onState((state) => console.log(state.kind));
//! ```

use crate::event::RawEvent;
use crate::options::{Options, Transport};
use crate::source::{EventSource, Subscription};
use crate::state::{CloseReason, ConnectionState, ReconnectCause};
use crate::typemap::TypeMap;
use js_sys::{Function, Object, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

/// The options, states and callbacks of the JavaScript API, in TypeScript.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("js.d.ts");

/// Reads `new TypedEventSource(url, options)`'s options object. Hand-written over
/// `Reflect` rather than serde: it is a few dozen lines where serde-wasm-bindgen and
/// the float formatting of its error messages cost tens of kilobytes of wasm.
struct JsOptions {
    object: JsValue,
    /// What the object is called in error messages: `options` or `options.retry`.
    path: &'static str,
}

/// The keys `new TypedEventSource(url, options)` knows, for "unknown option" errors.
const OPTION_KEYS: &[&str] = &[
    "withCredentials",
    "transport",
    "method",
    "body",
    "headers",
    "lastEventId",
    "resumeParam",
    "heartbeatMs",
    "heartbeatEvent",
    "retryMs",
    "retry",
    "reconnectOnOnline",
    "pauseWhenHidden",
    "dedupe",
    "maxEventSize",
];
const RETRY_KEYS: &[&str] = &[
    "baseMs",
    "maxMs",
    "floorMs",
    "maxAttempts",
    "maxElapsedMs",
    "jitter",
];

fn invalid(message: String) -> JsError {
    JsError::new(&format!("invalid TypedEventSource options: {message}"))
}

/// A value as a short text for an error message, without formatting floats in Rust.
fn shown(value: &JsValue) -> String {
    if let Some(s) = value.as_string() {
        return format!("the string \"{s}\"");
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "a value that is not JSON".to_owned())
}

impl JsOptions {
    /// `value` as an options object (`undefined` and `null` are none); checks that
    /// every key is one of `known`.
    fn new(value: JsValue, path: &'static str, known: &[&str]) -> Result<Option<Self>, JsError> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        let Some(object) = value.dyn_ref::<Object>() else {
            return Err(invalid(format!(
                "`{path}` must be an object, got {}",
                shown(&value)
            )));
        };
        for key in Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(invalid(format!(
                    "unknown option `{key}` in `{path}`; the options are {}",
                    known.join(", ")
                )));
            }
        }
        Ok(Some(JsOptions {
            object: value,
            path,
        }))
    }

    /// The field `key`; `None` when absent or `undefined`.
    fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(&self.object, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined())
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| {
                invalid(format!(
                    "`{}.{key}` must be a string, got {}",
                    self.path,
                    shown(&v)
                ))
            }),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, JsError> {
        match self.get(key) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| {
                invalid(format!(
                    "`{}.{key}` must be true or false, got {}",
                    self.path,
                    shown(&v)
                ))
            }),
        }
    }

    /// A whole number from 0 to `u32::MAX`.
    fn count(&self, key: &str) -> Result<Option<u32>, JsError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
                    Ok(Some(n as u32))
                }
                _ => Err(invalid(format!(
                    "`{}.{key}` must be a whole number from 0 to 4294967295, got {}",
                    self.path,
                    shown(&v)
                ))),
            },
        }
    }

    fn millis(&self, key: &str) -> Result<Option<Duration>, JsError> {
        Ok(self.count(key)?.map(|ms| Duration::from_millis(ms.into())))
    }

    fn from_js(value: JsValue) -> Result<Options, JsError> {
        let Some(js) = JsOptions::new(value, "options", OPTION_KEYS)? else {
            return Ok(Options::new());
        };
        let transport = match js.string("transport")?.as_deref() {
            None | Some("native") => Transport::Native,
            Some("fetch") => Transport::Fetch,
            Some(other) => {
                return Err(invalid(format!(
                    "unknown transport \"{other}\"; use \"native\" or \"fetch\""
                )))
            }
        };
        let mut options = Options::new()
            .with_credentials(js.flag("withCredentials")?)
            .transport(transport)
            .reconnect_on_online(js.flag("reconnectOnOnline")?)
            .pause_when_hidden(js.flag("pauseWhenHidden")?)
            .dedupe(js.flag("dedupe")?);
        if let Some(method) = js.string("method")? {
            options = options.method(method);
        }
        if let Some(body) = js.string("body")? {
            options = options.body(body);
        }
        if let Some(headers) = js.get("headers") {
            let Some(object) = headers.dyn_ref::<Object>() else {
                return Err(invalid(format!(
                    "`options.headers` must be an object of strings, got {}",
                    shown(&headers)
                )));
            };
            for entry in Object::entries(object).iter() {
                let pair: js_sys::Array = entry.unchecked_into();
                let name = pair.get(0).as_string().unwrap_or_default();
                let Some(value) = pair.get(1).as_string() else {
                    return Err(invalid(format!(
                        "the header `{name}` must be a string, got {}",
                        shown(&pair.get(1))
                    )));
                };
                options = options.header(name, value);
            }
        }
        if let Some(id) = js.string("lastEventId")? {
            options = options.last_event_id(id);
        }
        match js.get("resumeParam") {
            None => {}
            Some(v) if v.is_null() => options = options.resume_param(None),
            Some(_) => {
                let param = js.string("resumeParam")?;
                options = options.resume_param(param.as_deref());
            }
        }
        if let Some(after) = js.millis("heartbeatMs")? {
            options = options.heartbeat_timeout(after);
        }
        if let Some(event_type) = js.string("heartbeatEvent")? {
            options = options.heartbeat_event(event_type);
        }
        if let Some(base) = js.millis("retryMs")? {
            options = options.retry(base);
        }
        if let Some(retry) = JsOptions::new(
            js.get("retry").unwrap_or(JsValue::UNDEFINED),
            "options.retry",
            RETRY_KEYS,
        )? {
            let mut policy = options.reconnect.clone();
            if let Some(v) = retry.millis("baseMs")? {
                policy = policy.base(v);
            }
            if let Some(v) = retry.millis("maxMs")? {
                policy = policy.max_delay(v);
            }
            if let Some(v) = retry.millis("floorMs")? {
                policy = policy.floor(v);
            }
            if let Some(v) = retry.count("maxAttempts")? {
                policy = policy.max_attempts(v);
            }
            if let Some(v) = retry.millis("maxElapsedMs")? {
                policy = policy.max_elapsed(v);
            }
            if let Some(flag) = retry.get("jitter") {
                let Some(flag) = flag.as_bool() else {
                    return Err(invalid(format!(
                        "`options.retry.jitter` must be true or false, got {}",
                        shown(&flag)
                    )));
                };
                policy = policy.jitter(flag);
            }
            options = options.reconnect_policy(policy);
        }
        if let Some(bytes) = js.count("maxEventSize")? {
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
/// The bare class: keep a reference to it while you want events (like every
/// wasm-bindgen object, one that nothing references is freed by the garbage collector,
/// and freeing closes the connection). The package's entry keeps open sources alive by
/// itself. `close()` ends it at once.
#[wasm_bindgen]
pub struct TypedEventSource {
    source: EventSource,
    /// The `on` callbacks' side: which types are listened for, the chunk being held.
    events: Rc<Events>,
    /// Every callback registered through this object, with the id `off` takes, in
    /// order (a `Vec`: lists are short, and a map costs wasm size).
    registry: RefCell<Vec<(u32, Registered)>>,
    next_id: Cell<u32>,
    /// Flushes the held chunk at its end, and tells the dispatcher when closed.
    _internal: [Subscription; 2],
}

#[wasm_bindgen(module = "/src/js/dispatch.js")]
extern "C" {
    /// The JavaScript half of the `on` path: callbacks by type, JSON.parse, `meta`.
    type Dispatcher;

    #[wasm_bindgen(constructor)]
    fn new() -> Dispatcher;
    #[wasm_bindgen(method)]
    fn add(this: &Dispatcher, event_type: &JsValue, callback: &Function);
    #[wasm_bindgen(method)]
    fn remove(this: &Dispatcher, event_type: &JsValue, callback: &Function);
    #[wasm_bindgen(method, js_name = addRaw)]
    fn add_raw(this: &Dispatcher, event_type: &JsValue, callback: &Function);
    #[wasm_bindgen(method, js_name = removeRaw)]
    fn remove_raw(this: &Dispatcher, event_type: &JsValue, callback: &Function);
    #[wasm_bindgen(method, js_name = addDecodeError)]
    fn add_decode_error(this: &Dispatcher, callback: &Function);
    #[wasm_bindgen(method, js_name = removeDecodeError)]
    fn remove_decode_error(this: &Dispatcher, callback: &Function);
    #[wasm_bindgen(method)]
    fn close(this: &Dispatcher);
    #[wasm_bindgen(method)]
    fn batch(
        this: &Dispatcher,
        types: &str,
        ids: &str,
        datas: &str,
        count: u32,
        origin: &JsValue,
    ) -> bool;
    #[wasm_bindgen(method)]
    fn one(
        this: &Dispatcher,
        event_type: &JsValue,
        id: &str,
        data: &JsValue,
        origin: &JsValue,
        too_big: Option<String>,
    );
}

/// What the `on` callbacks of one `TypedEventSource` share.
struct Events {
    dispatcher: Dispatcher,
    /// For each type with callbacks: its name as a JS string (made once), how many
    /// callbacks (`on` and `onRaw` alike), and the source's handler that
    /// feeds them.
    types: RefCell<TypeMap<TypeEntry>>,
    /// The events of the chunk being dispatched (fetch), handed over at its end.
    chunk: RefCell<Chunk>,
    /// The origin of the last event, as a JS string, made once per distinct origin.
    origin: RefCell<(String, JsValue)>,
}

struct TypeEntry {
    name: JsValue,
    callbacks: usize,
    _handler: Subscription,
}

/// A chunk's events, written straight into the three texts the dispatcher takes:
/// types and ids joined by LF, the data joined by CR. `spans` finds each
/// event in them again, for the event-by-event path.
#[derive(Default)]
struct Chunk {
    types: String,
    ids: String,
    /// The events' data joined by CR, which no data from the parser holds (CR ends a
    /// line): JavaScript splits them apart again with one `split`.
    datas: String,
    spans: Vec<Span>,
    /// No event so far has an LF in its type or id, or was dropped for its size.
    batchable: bool,
    /// Every event so far has the first one's type, or its id: that one is sent
    /// alone (no split in JavaScript).
    same_type: bool,
    same_id: bool,
    origin: Option<Rc<str>>,
}

/// Where one held event's type, id and data are in the chunk's texts.
struct Span {
    event_type: (usize, usize),
    id: (usize, usize),
    data: (usize, usize),
    too_big: Option<Box<str>>,
}

impl Chunk {
    fn push(&mut self, raw: &RawEvent) {
        if self.spans.is_empty() {
            self.types.clear();
            self.ids.clear();
            self.datas.clear();
            self.batchable = true;
            self.same_type = true;
            self.same_id = true;
            self.origin = Some(raw.origin_rc());
        } else {
            self.types.push('\n');
            self.ids.push('\n');
            self.datas.push('\r');
        }
        let append = |text: &mut String, part: &str| {
            let start = text.len();
            text.push_str(part);
            (start, text.len())
        };
        let event_type = append(&mut self.types, raw.event_type());
        let id = append(&mut self.ids, raw.last_event_id());
        let data = append(&mut self.datas, raw.data());
        if let Some(first) = self.spans.first() {
            self.same_type &= slice(&self.types, first.event_type) == raw.event_type();
            self.same_id &= slice(&self.ids, first.id) == raw.last_event_id();
        }
        // (A CR in the data, which the parser never leaves, would show in JavaScript as
        // one event too many: then the chunk goes event by event.)
        self.batchable &= raw.too_big().is_none()
            && !raw.event_type().contains('\n')
            && !raw.last_event_id().contains('\n');
        self.spans.push(Span {
            event_type,
            id,
            data,
            too_big: raw.too_big().map(Into::into),
        });
    }
}

fn slice(text: &str, (start, end): (usize, usize)) -> &str {
    text.get(start..end).unwrap_or_default()
}

impl Events {
    fn origin(&self, origin: &str) -> JsValue {
        let mut cached = self.origin.borrow_mut();
        if cached.0 != origin {
            *cached = (origin.to_owned(), JsValue::from_str(origin));
        }
        cached.1.clone()
    }

    fn type_name(&self, event_type: &str) -> Option<JsValue> {
        self.types.borrow().get(event_type).map(|t| t.name.clone())
    }

    /// One event, on its own (native), of the type called `name` in JavaScript.
    fn deliver_one(&self, raw: &RawEvent, name: &JsValue) {
        let origin = self.origin(raw.origin());
        let too_big = raw.too_big().map(str::to_owned);
        self.dispatcher
            .one(name, raw.last_event_id(), &raw.js_data(), &origin, too_big);
    }

    /// Holds an event of the chunk being dispatched (fetch).
    fn hold(&self, raw: &RawEvent) {
        self.chunk.borrow_mut().push(raw);
    }

    /// The held chunk: its texts cross into JavaScript once for all its events (three
    /// strings), else, when one holds an LF or was dropped for its size, event by
    /// event.
    fn flush(&self, source: &EventSource) {
        // Taken out while callbacks run (they may do anything), put back after: the
        // texts keep their capacity from chunk to chunk.
        let mut chunk = std::mem::take(&mut *self.chunk.borrow_mut());
        if !chunk.spans.is_empty() {
            self.deliver_chunk(&chunk, source);
            chunk.spans.clear();
        }
        let mut slot = self.chunk.borrow_mut();
        if slot.spans.is_empty() {
            *slot = chunk;
        }
    }

    fn deliver_chunk(&self, chunk: &Chunk, source: &EventSource) {
        let Some(first) = chunk.spans.first() else {
            return;
        };
        let origin = self.origin(chunk.origin.as_deref().unwrap_or_default());
        if chunk.batchable && chunk.spans.len() > 1 {
            let types = if chunk.same_type {
                slice(&chunk.types, first.event_type)
            } else {
                chunk.types.as_str()
            };
            let ids = if chunk.same_id {
                slice(&chunk.ids, first.id)
            } else {
                chunk.ids.as_str()
            };
            let count = u32::try_from(chunk.spans.len()).unwrap_or(u32::MAX);
            if self
                .dispatcher
                .batch(types, ids, &chunk.datas, count, &origin)
            {
                return;
            }
        }
        for span in &chunk.spans {
            if source.state().is_closed() {
                return;
            }
            let Some(name) = self.type_name(slice(&chunk.types, span.event_type)) else {
                continue;
            };
            self.dispatcher.one(
                &name,
                slice(&chunk.ids, span.id),
                &JsValue::from_str(slice(&chunk.datas, span.data)),
                &origin,
                span.too_big.as_deref().map(str::to_owned),
            );
        }
    }
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
        let events = Rc::new(Events {
            dispatcher: Dispatcher::new(),
            types: RefCell::default(),
            chunk: RefCell::default(),
            origin: RefCell::new((String::new(), JsValue::from_str(""))),
        });
        let flush = {
            let (events, weak) = (Rc::downgrade(&events), source.downgrade());
            source.on_batch_end(move |()| {
                if let (Some(events), Some(source)) = (events.upgrade(), weak.upgrade()) {
                    events.flush(&source);
                }
            })
        };
        let closed = {
            let events = Rc::downgrade(&events);
            source.on_state(move |state| {
                if let (true, Some(events)) = (state.is_closed(), events.upgrade()) {
                    events.dispatcher.close();
                    events.chunk.borrow_mut().spans.clear();
                }
            })
        };
        Ok(TypedEventSource {
            source,
            events,
            registry: RefCell::default(),
            next_id: Cell::new(1),
            _internal: [flush, closed],
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
        let name = self.listen(event_type);
        self.events.dispatcher.add(&name, &callback);
        self.register(Registered::Event {
            event_type: event_type.to_owned(),
            callback,
            raw: false,
        })
    }

    /// Calls `callback(data, meta)` for each event of `type` with its data as text,
    /// unparsed: for streams whose data is not JSON by design (tokens, `[DONE]`,
    /// empty keep-alive events). Returns an id for `off`.
    #[wasm_bindgen(js_name = onRaw)]
    pub fn on_raw(
        &self,
        #[wasm_bindgen(js_name = "type")] event_type: &str,
        #[wasm_bindgen(unchecked_param_type = "RawMessageHandler")] callback: Function,
    ) -> u32 {
        let name = self.listen(event_type);
        self.events.dispatcher.add_raw(&name, &callback);
        self.register(Registered::Event {
            event_type: event_type.to_owned(),
            callback,
            raw: true,
        })
    }

    /// Calls `callback(error)` for each event whose data is not valid JSON. Without one,
    /// such errors are reported to the console as uncaught errors. Returns an id for
    /// `off`.
    #[wasm_bindgen(js_name = onDecodeError)]
    pub fn on_decode_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecodeErrorHandler")] callback: Function,
    ) -> u32 {
        self.events.dispatcher.add_decode_error(&callback);
        self.register(Registered::DecodeError(callback))
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

    /// Calls `callback(gap)` when numeric event ids skip: events were lost. Returns an
    /// id for `off`.
    #[wasm_bindgen(js_name = onGap)]
    pub fn on_gap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GapHandler")] callback: Function,
    ) -> u32 {
        let sub = self.source.on_gap(move |gap| {
            let info = object(&[
                ("after", (gap.after as f64).into()),
                ("next", (gap.next as f64).into()),
                ("missing", (gap.missing() as f64).into()),
            ]);
            if let Err(thrown) = callback.call1(&JsValue::NULL, &info) {
                report(thrown);
            }
        });
        self.keep(sub)
    }

    /// Drops the current connection, or cuts a backoff short, and connects again now.
    pub fn reconnect(&self) {
        self.source.reconnect();
    }

    /// Removes the callback registered under `id`. Returns whether there was one.
    pub fn off(&self, id: u32) -> bool {
        // Drop the entry after the borrow ends: dropping a subscription may close the
        // source, which calls state observers.
        let removed = {
            let mut registry = self.registry.borrow_mut();
            registry
                .iter()
                .position(|(i, _)| *i == id)
                .map(|at| registry.remove(at).1)
        };
        match removed {
            None => false,
            Some(Registered::Subscription(sub)) => {
                drop(sub);
                true
            }
            Some(Registered::DecodeError(callback)) => {
                self.events.dispatcher.remove_decode_error(&callback);
                true
            }
            Some(Registered::Event {
                event_type,
                callback,
                raw,
            }) => {
                let last = {
                    let mut types = self.events.types.borrow_mut();
                    match types.get_mut(&event_type) {
                        Some(entry) => {
                            if raw {
                                self.events.dispatcher.remove_raw(&entry.name, &callback);
                            } else {
                                self.events.dispatcher.remove(&entry.name, &callback);
                            }
                            entry.callbacks = entry.callbacks.saturating_sub(1);
                            if entry.callbacks == 0 {
                                types.remove(&event_type)
                            } else {
                                None
                            }
                        }
                        None => None,
                    }
                };
                // The type's last callback: its source handler goes too.
                drop(last);
                true
            }
        }
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

    /// The id the source would resume after: the last event id received, or the
    /// `lastEventId` option before any.
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
    /// Makes sure the source hands events of `event_type` over (one handler per type,
    /// however many callbacks: one JSON.parse per event); counts one more callback.
    /// Returns the type's name as a JS string.
    fn listen(&self, event_type: &str) -> JsValue {
        let mut types = self.events.types.borrow_mut();
        if let Some(entry) = types.get_mut(event_type) {
            entry.callbacks += 1;
            return entry.name.clone();
        }
        let events = Rc::downgrade(&self.events);
        let weak = self.source.downgrade();
        let name = JsValue::from_str(event_type);
        let sub = {
            // The handler knows its type's JavaScript name: it looks nothing up.
            let name = name.clone();
            self.source.on_raw_event(event_type, move |raw| {
                let (Some(events), Some(source)) = (events.upgrade(), weak.upgrade()) else {
                    return;
                };
                if source.is_batching() {
                    events.hold(raw);
                } else {
                    events.deliver_one(raw, &name);
                }
            })
        };
        types.insert(
            event_type,
            TypeEntry {
                name: name.clone(),
                callbacks: 1,
                _handler: sub,
            },
        );
        name
    }

    fn register(&self, entry: Registered) -> u32 {
        let id = self.take_id();
        self.registry.borrow_mut().push((id, entry));
        id
    }

    fn take_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    fn keep(&self, sub: Subscription) -> u32 {
        self.register(Registered::Subscription(sub))
    }
}

/// A callback registered through `TypedEventSource`.
enum Registered {
    /// `onState`, `onGap`: a handler of the source, removed when dropped.
    Subscription(Subscription),
    /// `on(type, callback)` and `onRaw(type, callback)`: in the dispatcher.
    Event {
        event_type: String,
        callback: Function,
        raw: bool,
    },
    /// `onDecodeError`: in the dispatcher.
    DecodeError(Function),
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
        } => {
            let mut fields = vec![
                ("kind", kind),
                ("attempt", (*attempt).into()),
                (
                    "delayMs",
                    delay.map_or(JsValue::NULL, |d| (d.as_millis() as f64).into()),
                ),
                ("cause", cause_name(cause).into()),
                ("message", state.to_string().into()),
            ];
            if let ReconnectCause::HttpStatus { status } = cause {
                fields.push(("status", (*status).into()));
            }
            object(&fields)
        }
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
                CloseReason::GaveUp { attempts, .. } => {
                    fields.push(("attempts", (*attempts).into()))
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
        ReconnectCause::HttpStatus { .. } => "http-status",
        ReconnectCause::ContentType { .. } => "content-type",
        ReconnectCause::NoContent => "no-content",
        ReconnectCause::Requested => "requested",
        ReconnectCause::PageHidden => "hidden",
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
        CloseReason::GaveUp { .. } => "gave-up",
    }
}
