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

mod batch;
mod options;
mod state;

use self::batch::{report, syntax_error, text, Dispatcher, Events, TypeEntry};
use self::options::JsOptions;
use self::state::{object, state_to_js};
use crate::error::Error;
use crate::source::{EventSource, Subscription};
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The options, states and callbacks of the JavaScript API, in TypeScript.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

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
    registry: RefCell<Vec<(u32, JsCallback)>>,
    next_id: Cell<u32>,
    /// The fetch transport carries it: every event reaches the page, whatever its type.
    #[cfg(feature = "fetch")]
    sees_every_type: bool,
    /// Flushes the held chunk at its end, and tells the dispatcher when closed.
    _internal: [Subscription; 2],
    /// Holds each event of a chunk (fetch) or of a shared source's message, whatever
    /// its type.
    #[cfg(feature = "fetch")]
    _hold: Subscription,
}

#[wasm_bindgen]
impl TypedEventSource {
    /// Opens a connection. Throws a `TypeError` that says what is wrong for invalid
    /// options, and a `SyntaxError` `DOMException` (as `EventSource` does for a URL it
    /// cannot parse) for a URL that is not http(s) or cannot be parsed. The options are
    /// checked first: the package's entry counts on a `SyntaxError` meaning the URL.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | URL")] url: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TypedEventSourceOptions | null")]
        options: JsValue,
    ) -> Result<TypedEventSource, JsValue> {
        // Read as EventSource reads it: a `URL` object is its `href`.
        let url = text(&url)?;
        let options = JsOptions::from_js(options)?;
        #[cfg(feature = "fetch")]
        // As the source will resolve it: with no transport chosen, a context with no
        // EventSource (a Service Worker) uses fetch, which sees every type.
        let sees_every_type = options.transport_for(crate::transport::dom::has_event_source())
            == crate::options::Transport::Fetch;
        let source = EventSource::with_options(&url, options).map_err(|e| match e {
            Error::InvalidUrl { .. } => syntax_error(&e.to_string()),
            // As `invalid` in options.rs: what WebIDL and `fetch` throw.
            Error::InvalidOptions(_) => js_sys::TypeError::new(&e.to_string()).into(),
            _ => JsError::new(&e.to_string()).into(),
        })?;
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
        // Every event of a chunk is held, not only those of the types listened for when
        // it was read: a callback may start listening to a type during the chunk (on
        // `welcome`, listen to `message`), and the chunk's later events of that type are
        // then its, as they would be with EventSource, which dispatches each event in a
        // task of its own. The dispatcher skips a type with no callbacks when it gets
        // there. (With no type listened to at all, no callback of the chunk can be
        // running to add one: nothing is held.) A chunk is up to 16 KiB of fetch's network
        // read (`FEED_SLICE`), or the events of one message from a shared source's
        // leader, whatever the transport.
        #[cfg(feature = "fetch")]
        let hold = {
            let (events, weak) = (Rc::downgrade(&events), source.downgrade());
            source.on_any_raw_event(move |raw| {
                if let (Some(events), Some(source)) = (events.upgrade(), weak.upgrade()) {
                    if source.is_batching() && !events.types.borrow().is_empty() {
                        events.hold(raw);
                    }
                }
            })
        };
        let closed = {
            let events = Rc::downgrade(&events);
            source.on_state(move |state| {
                if let (true, Some(events)) = (state.is_closed(), events.upgrade()) {
                    events.dispatcher.close();
                    // Its texts too (at their largest event's capacity, and a long id):
                    // the bare build's object may be kept long after.
                    *events.chunk.borrow_mut() = Default::default();
                }
            })
        };
        Ok(TypedEventSource {
            source,
            events,
            registry: RefCell::default(),
            next_id: Cell::new(1),
            #[cfg(feature = "fetch")]
            sees_every_type,
            _internal: [flush, closed],
            #[cfg(feature = "fetch")]
            _hold: hold,
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
        // Closed: nothing is kept (see `register`), nor listened for.
        if self.closed() {
            return self.take_id();
        }
        let name = self.listen(event_type);
        let id = self.take_id();
        self.events.dispatcher.add(&name, &callback, id);
        self.register(
            id,
            JsCallback::Event {
                event_type: event_type.to_owned(),
                raw: false,
            },
        )
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
        // Closed: nothing is kept (see `register`), nor listened for.
        if self.closed() {
            return self.take_id();
        }
        let name = self.listen(event_type);
        let id = self.take_id();
        self.events.dispatcher.add_raw(&name, &callback, id);
        self.register(
            id,
            JsCallback::Event {
                event_type: event_type.to_owned(),
                raw: true,
            },
        )
    }

    /// Calls `callback(error)` for each event whose data is not valid JSON. Without one,
    /// such errors are reported to the console as uncaught errors. Returns an id for
    /// `off`.
    #[wasm_bindgen(js_name = onDecodeError)]
    pub fn on_decode_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecodeErrorHandler")] callback: Function,
    ) -> u32 {
        if self.closed() {
            return self.take_id();
        }
        let id = self.take_id();
        self.events.dispatcher.add_decode_error(&callback, id);
        self.register(id, JsCallback::DecodeError)
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
                report(&thrown);
            }
        });
        self.keep(sub)
    }

    /// Calls `callback(gap)` when numeric event ids skip: events were lost. Returns an
    /// id for `off`. It runs after the callbacks of the events before the gap and
    /// before those of the event after it, as the events arrived.
    #[wasm_bindgen(js_name = onGap)]
    pub fn on_gap(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GapHandler")] callback: Function,
    ) -> u32 {
        let (events, weak) = (Rc::downgrade(&self.events), self.source.downgrade());
        let sub = self.source.on_gap(move |gap| {
            // A gap is found as its event is dispatched, while the events before it in
            // the chunk (fetch) are still held: hand those over first.
            if let (Some(events), Some(source)) = (events.upgrade(), weak.upgrade()) {
                if !events.flush_held(&source) {
                    return;
                }
            }
            let info = object(&[
                ("after", (gap.after as f64).into()),
                ("next", (gap.next as f64).into()),
                ("missing", (gap.missing() as f64).into()),
            ]);
            if let Err(thrown) = callback.call1(&JsValue::NULL, &info) {
                report(&thrown);
            }
        });
        self.keep(sub)
    }

    /// Calls `callback(data, meta)` for every event, whatever its type (`meta.type`
    /// says which), after the callbacks of its type: `data` is the event's JSON
    /// parsed, or, when it is not JSON, the text itself with `meta.json` false. Events
    /// dropped for their size go to the `onDecodeError` callbacks (reported as errors
    /// when there are none). Fetch transport only (the
    /// browser's EventSource hands over only the types listened for): with native it
    /// throws. Returns an id for `off`.
    #[cfg(feature = "fetch")]
    #[wasm_bindgen(js_name = onAny)]
    pub fn on_any(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AnyMessageHandler")] callback: Function,
    ) -> Result<u32, JsValue> {
        if !self.sees_every_type {
            return Err(JsError::new(
                "onAny needs the fetch transport (transport: \"fetch\", or mode: \"request\"): \
                 the browser's EventSource hands over only the event types listened for",
            )
            .into());
        }
        let (events, weak) = (Rc::downgrade(&self.events), self.source.downgrade());
        // A long id the parser shares between events (one sent once, carried by the
        // events after it) made into a JavaScript string once, as the `on` path does:
        // copied out per event, 1 MiB of id made every event after it cost 1 MiB.
        let mut shared_id = None::<(std::sync::Arc<String>, JsValue)>;
        let sub = self.source.on_any_raw_event(move |raw| {
            let events = events.upgrade();
            if let (Some(events), Some(source)) = (&events, weak.upgrade()) {
                if !events.flush_held(&source) {
                    return;
                }
            }
            if let Some(reason) = raw.too_big() {
                // To `onDecodeError`, as `maxEventSize` says (once: not again here when
                // the callbacks of its type had it), or reported when there is none.
                match &events {
                    Some(events) => events.dispatcher.too_big_for_any(
                        raw.event_type(),
                        &JsValue::from_str(raw.last_event_id()),
                        reason,
                    ),
                    None => report(&JsError::new(reason).into()),
                }
                return;
            }
            let id = match raw.shared_id() {
                Some(id) => match &shared_id {
                    Some((held, js)) if std::sync::Arc::ptr_eq(held, id) => js.clone(),
                    _ => {
                        let js = JsValue::from_str(id);
                        shared_id = Some((std::sync::Arc::clone(id), js.clone()));
                        js
                    }
                },
                None => {
                    // (A short id now: the long one is let go, not held for the
                    // callback's life.)
                    shared_id = None;
                    JsValue::from_str(raw.last_event_id())
                }
            };
            let origin = match &events {
                Some(events) => events.origin(raw.origin()),
                None => JsValue::from_str(raw.origin()),
            };
            self::batch::deliver_any(&callback, raw.event_type(), &id, &raw.js_data(), &origin);
        });
        Ok(self.keep(sub))
    }

    /// Drops the current connection, or cuts a backoff short, and connects again now.
    pub fn reconnect(&self) {
        self.source.reconnect();
    }

    /// Removes the registration `id`, and only it: one function registered twice is two
    /// registrations. Returns whether there was one. A callback removed while an event
    /// is being delivered is not called for it.
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
            Some(JsCallback::Subscription(sub)) => {
                drop(sub);
                true
            }
            Some(JsCallback::DecodeError) => {
                self.events.dispatcher.remove_decode_error(id);
                true
            }
            Some(JsCallback::Event { event_type, raw }) => {
                let last = {
                    let mut types = self.events.types.borrow_mut();
                    match types.get_mut(&event_type) {
                        Some(entry) => {
                            if raw {
                                self.events.dispatcher.remove_raw(&entry.name, id);
                            } else {
                                self.events.dispatcher.remove(&entry.name, id);
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
    /// `lastEventId` option before any. Read in an event's callback, that event's id
    /// (the events of a chunk, up to 16 KiB of it, are delivered after it was read).
    #[wasm_bindgen(getter, js_name = lastEventId, unchecked_return_type = "string")]
    pub fn last_event_id(&self) -> JsValue {
        let current = self.events.dispatcher.current();
        if current.is_string() {
            return current;
        }
        JsValue::from_str(&self.source.last_event_id())
    }

    /// The part this source plays in a connection shared across tabs (the `share`
    /// option): `"alone"`, `"leader"` or `"follower"`.
    #[wasm_bindgen(getter, js_name = shareRole, unchecked_return_type = "ShareRole")]
    pub fn share_role(&self) -> String {
        self.source.share_role().kind().to_owned()
    }

    /// Calls `callback(role, followers)` with the current share role at once, then with
    /// every change (`followers`: how many sources the leader's events reach; 0 unless
    /// leading). Returns an id for `off`.
    #[wasm_bindgen(js_name = onShareRole)]
    pub fn on_share_role(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(role: ShareRole, followers: number) => void")]
        callback: Function,
    ) -> u32 {
        let sub = self.source.on_share_role(move |role| {
            let followers = match role {
                crate::ShareRole::Leader { followers } => *followers,
                _ => 0,
            };
            let kind = JsValue::from_str(role.kind());
            if let Err(thrown) = callback.call2(&JsValue::NULL, &kind, &followers.into()) {
                report(&thrown);
            }
        });
        self.keep(sub)
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

    /// Reports `error` as the browser reports an exception thrown by an event listener
    /// (`reportError`, else `console.error`). For the package's entry (`js/index.js`),
    /// which cannot import `dispatch.js`, where the one copy of this is.
    #[wasm_bindgen(js_name = reportError, skip_typescript)]
    pub fn report_error(error: &JsValue) {
        report(error);
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
                // (Within a chunk, held by the source's own handler of every type.)
                if !source.is_batching() {
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

    /// Records `entry` under `id` (from [`take_id`](Self::take_id)) for `off`.
    fn register(&self, id: u32, entry: JsCallback) -> u32 {
        // Closed, nothing is kept (the source calls no callback again, and one kept in
        // wasm, a root to the garbage collector, would keep a source it refers to).
        if !self.closed() {
            self.registry.borrow_mut().push((id, entry));
        }
        id
    }

    /// The source is closed: it calls no callback again, and keeps none.
    fn closed(&self) -> bool {
        self.source.ready_state() == 2
    }

    fn take_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    fn keep(&self, sub: Subscription) -> u32 {
        let id = self.take_id();
        self.register(id, JsCallback::Subscription(sub))
    }
}

/// A callback registered through `TypedEventSource`.
enum JsCallback {
    /// `onState`, `onGap`: a handler of the source, removed when dropped.
    Subscription(Subscription),
    /// `on(type, callback)` and `onRaw(type, callback)`: in the dispatcher, under the
    /// same id.
    Event { event_type: String, raw: bool },
    /// `onDecodeError`: in the dispatcher, under the same id.
    DecodeError,
}
