//! The transport over the browser's own `EventSource`.
//!
//! The browser parses the stream and retries lost connections by itself; this module
//! turns its `open`/`error` events and `readyState` into [`ConnectionState`]s and its
//! message events into [`RawEvent`]s. When the browser gives up (readyState CLOSED,
//! as on a 502), one plain `fetch` of the URL finds out why, and the
//! [`ReconnectPolicy`](crate::ReconnectPolicy) decides between a new `EventSource`
//! after a backoff, resuming after the last event id through a query parameter, and
//! the end. A heartbeat timeout, a stale resume id in the URL and `reconnect()` also
//! replace the `EventSource`. Every listener is a [`Listener`] guard.

use crate::core::attempts::Attempts;
use crate::core::failure::{Failure, ReconnectCause};
use crate::core::parse::{Event, LastId};
use crate::core::state::{CloseReason, ConnectionState};
use crate::core::typemap::TypeMap;
use crate::decode::RawEvent;
use crate::error::JsError;
use crate::options::Options;
use crate::transport::dom::{self, Listener};
#[cfg(feature = "probe")]
use crate::transport::http;
use crate::transport::{
    waits_for_network, AttemptEnd, Connecting, Connector, Notify, Running, TransportHandle,
    WeakSink,
};
use futures_util::future::select;
use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventTarget, MessageEvent};

/// The live connection and the event types it listens for, shared by the handle
/// and the reconnection loop.
#[derive(Default)]
struct Listened {
    /// The event types handlers listen for (few: a Vec).
    types: RefCell<Vec<String>>,
    /// The browser object of the connection now, if there is one.
    current: RefCell<Option<Rc<Connection>>>,
}

/// A running native transport. Dropping it closes the browser's EventSource at once,
/// cancels any pending timer and removes every listener.
pub(crate) struct Native {
    shared: Rc<Listened>,
    running: Running,
}

impl Native {
    /// Starts connecting `url` for `sink`.
    pub fn open(url: String, options: Rc<Options>, sink: WeakSink) -> Self {
        let shared = Rc::new(Listened::default());
        let connector = NativeConnector {
            url,
            options: Rc::clone(&options),
            sink: sink.clone(),
            shared: Rc::clone(&shared),
            opened: Rc::default(),
            #[cfg(feature = "probe")]
            elsewhere: Rc::default(),
            checking: false,
        };
        Native {
            shared,
            running: Running::spawn(sink, options, connector),
        }
    }
}

impl TransportHandle for Native {
    fn listen(&self, event_type: &str) {
        {
            let mut types = self.shared.types.borrow_mut();
            if !types.iter().any(|t| t == event_type) {
                types.push(event_type.to_owned());
            }
        }
        let current = self.shared.current.borrow().clone();
        if let Some(connection) = current {
            connection.listen(event_type);
        }
    }

    fn unlisten(&self, event_type: &str) {
        self.shared.types.borrow_mut().retain(|t| t != event_type);
        let current = self.shared.current.borrow().clone();
        if let Some(connection) = current {
            connection.unlisten(event_type);
        }
    }

    fn reconnect(&self) {
        self.running.reconnect();
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        // The connection closes at once; `running` aborts the loop as it drops after.
        if let Some(connection) = self.shared.current.borrow_mut().take() {
            connection.es.close();
        }
    }
}

struct NativeConnector {
    url: String,
    options: Rc<Options>,
    sink: WeakSink,
    shared: Rc<Listened>,
    /// A connection opened: cross-origin, CORS let the stream through.
    opened: Rc<Cell<bool>>,
    /// The latest stream's events came from another origin than the URL's: it
    /// redirects there (see `why_it_gave_up`).
    #[cfg(feature = "probe")]
    elsewhere: Rc<Cell<bool>>,
    /// Set while the browser's reason for giving up is looked into: an interruption
    /// then ends the attempt as failed, as the fetch transport's does.
    checking: bool,
}

/// Clears `Listened::current` when the connection's future ends or is dropped.
struct Current<'a>(&'a Listened);

impl Drop for Current<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.0.current.borrow_mut().take() {
            connection.es.close();
        }
    }
}

impl Connector for NativeConnector {
    fn connect<'a>(&'a mut self, attempts: &'a Rc<RefCell<Attempts>>) -> Connecting<'a> {
        Box::pin(async move {
            // (An interrupted check left it set.)
            self.checking = false;
            let Some(last_id) = self.sink.upgrade().map(|s| s.last_event_id()) else {
                return AttemptEnd::Gone;
            };
            let (url, url_id) = match &self.options.resume_param {
                Some(param) if !last_id.is_empty() => {
                    match dom::with_query(&self.url, param, &last_id) {
                        Some(url) => (url, last_id),
                        None => (self.url.clone(), String::new()),
                    }
                }
                _ => (self.url.clone(), String::new()),
            };
            // Before the constructor, which may start the request at once.
            let started = dom::now();
            let es = match open_event_source(&url, self.options.with_credentials) {
                Ok(es) => es,
                Err(e) => {
                    return AttemptEnd::Fatal(CloseReason::InvalidRequest {
                        message: JsError::from(e).to_string(),
                    })
                }
            };
            let connection = Connection::new(es, self, url_id, Rc::clone(attempts), started);
            *self.shared.current.borrow_mut() = Some(Rc::clone(&connection));
            let _current = Current(&self.shared);

            let end = connection.finished(self.options.heartbeat).await;
            match end {
                NativeEnd::Attempt(end) => end,
                NativeEnd::BrowserGaveUp { while_open: true } => {
                    gave_up_while_open(dom::is_offline())
                }
                NativeEnd::BrowserGaveUp { while_open: false } => {
                    connection.es.close();
                    let since = connection.request_started.get();
                    #[cfg(feature = "probe")]
                    let elsewhere = self.elsewhere.get();
                    #[cfg(not(feature = "probe"))]
                    let elsewhere = false;
                    let seen = Seen {
                        opened: self.opened.get(),
                        elsewhere,
                    };
                    self.checking = true;
                    let end = why_it_gave_up(&url, since, &self.url, &self.options, seen).await;
                    self.checking = false;
                    end
                }
            }
        })
    }

    fn server_retry(&self) -> Option<Duration> {
        // The browser keeps the server's `retry:` to itself.
        None
    }

    fn interrupted(&self) -> Option<AttemptEnd> {
        // `reconnect()` (or a hidden page) while the reason is looked into: the attempt
        // failed all the same, and the policy judges it as a failure whose reason is
        // not known (the next connection's answer tells it again). Not a healthy
        // connection that was interrupted: that would spend no attempt.
        self.checking
            .then(|| AttemptEnd::Failed(interrupted_check()))
    }
}

/// How long the check after the browser gave up may take without a heartbeat set.
#[cfg(feature = "probe")]
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// How a native connection ended, before the check.
enum NativeEnd {
    Attempt(AttemptEnd),
    /// readyState CLOSED after an error: the browser will not retry. `while_open`:
    /// the EventSource was open (it had not gone back to connecting).
    BrowserGaveUp {
        while_open: bool,
    },
}

/// One browser `EventSource` and its listeners.
struct Connection {
    es: web_sys::EventSource,
    sink: WeakSink,
    options: Rc<Options>,
    attempts: Rc<RefCell<Attempts>>,
    /// The id in the URL's resume parameter, or empty.
    url_id: LastId,
    /// That id as a JavaScript string, once an event needed it.
    #[cfg(feature = "js")]
    url_js: std::cell::OnceCell<JsValue>,
    ended: RefCell<Option<NativeEnd>>,
    notify: Notify,
    /// When (`dom::now()`) the last sign of life came: creation, open, an event.
    last_activity: Cell<f64>,
    /// Open, and not retrying since.
    open_now: Cell<bool>,
    /// The browser retries a loss that was counted (`Attempts::lost`) since the
    /// connection last opened: a heartbeat that runs out meanwhile ends that retry's
    /// wait, not another attempt.
    loss_counted: Cell<bool>,
    /// `performance.now()` when the browser's latest request began (about: it starts
    /// one at creation and after each `error` while connecting), to find its Resource
    /// Timing entry.
    request_started: Cell<f64>,
    listeners: RefCell<TypeMap<Listener>>,
    fixed: RefCell<Vec<Listener>>,
    /// The origin of the stream, once an event told it.
    origin: RefCell<Option<Rc<str>>>,
    /// The id of the event before the one being handled on this connection (empty
    /// at each open): an event that repeats it counts as carrying no id of its own.
    last_id: RefCell<LastId>,
    /// That id as the browser's string, while it is a long one (shared): the next
    /// event's is compared with it in JavaScript, not copied into wasm.
    last_js: RefCell<Option<JsValue>>,
    /// The browser reported an id on this EventSource. Until it has, its last event ID
    /// is empty whatever id the URL resumed from: an event then carries the URL's id.
    browser_id: Cell<bool>,
    /// An `online` listener, once a loss was handled offline (see `came_online`).
    online: RefCell<Option<Listener>>,
    /// The connector's: set when this connection opens.
    opened_once: Rc<Cell<bool>>,
    /// The connector's: set by this connection's first event.
    #[cfg(feature = "probe")]
    elsewhere: Rc<Cell<bool>>,
}

impl Connection {
    fn new(
        es: web_sys::EventSource,
        connector: &NativeConnector,
        url_id: String,
        attempts: Rc<RefCell<Attempts>>,
        started: f64,
    ) -> Rc<Self> {
        let connection = Rc::new(Connection {
            es,
            sink: connector.sink.clone(),
            options: Rc::clone(&connector.options),
            attempts,
            url_id: LastId::new(&url_id),
            #[cfg(feature = "js")]
            url_js: std::cell::OnceCell::new(),
            ended: RefCell::default(),
            notify: Notify::default(),
            last_activity: Cell::new(dom::now()),
            open_now: Cell::new(false),
            loss_counted: Cell::new(false),
            request_started: Cell::new(started),
            listeners: RefCell::default(),
            fixed: RefCell::default(),
            origin: RefCell::default(),
            last_id: RefCell::default(),
            last_js: RefCell::default(),
            browser_id: Cell::new(false),
            online: RefCell::default(),
            opened_once: Rc::clone(&connector.opened),
            #[cfg(feature = "probe")]
            elsewhere: Rc::clone(&connector.elsewhere),
        });
        let target: &EventTarget = connection.es.as_ref();
        let weak = Rc::downgrade(&connection);
        let on_open = {
            let weak = Weak::clone(&weak);
            move |ev: web_sys::Event| {
                // A server event named "open" is a message, not the connection opening.
                if !ev.is_instance_of::<MessageEvent>() {
                    if let Some(c) = weak.upgrade() {
                        c.opened();
                    }
                }
            }
        };
        let on_error = {
            let weak = Weak::clone(&weak);
            move |ev: web_sys::Event| {
                if !ev.is_instance_of::<MessageEvent>() {
                    if let Some(c) = weak.upgrade() {
                        c.errored();
                    }
                }
            }
        };
        *connection.fixed.borrow_mut() = vec![
            Listener::new(target, "open", on_open),
            Listener::new(target, "error", on_error),
        ];
        // Always "message", so the resume point follows unnamed events whatever is
        // subscribed; and the heartbeat event, so it keeps the connection alive.
        connection.listen("message");
        if let Some(heartbeat) = &connector.options.heartbeat_event {
            connection.listen(heartbeat);
        }
        for event_type in connector.shared.types.borrow().iter() {
            connection.listen(event_type);
        }
        connection
    }

    fn listen(self: &Rc<Self>, event_type: &str) {
        let mut listeners = self.listeners.borrow_mut();
        if listeners.contains_key(event_type) {
            return;
        }
        let weak = Rc::downgrade(self);
        // The listener knows its type: no string crossing per event to ask for it.
        let name: Rc<str> = event_type.into();
        let listener = Listener::new(self.es.as_ref(), event_type, move |ev| {
            if let Some(c) = weak.upgrade() {
                c.message(ev, &name);
            }
        });
        listeners.insert(event_type, listener);
    }

    fn unlisten(&self, event_type: &str) {
        let kept =
            event_type == "message" || self.options.heartbeat_event.as_deref() == Some(event_type);
        if !kept {
            // Drop the listener after the borrow ends.
            let removed = self.listeners.borrow_mut().remove(event_type);
            drop(removed);
        }
    }

    fn finish(&self, ended: NativeEnd) {
        let mut slot = self.ended.borrow_mut();
        if slot.is_none() {
            *slot = Some(ended);
            drop(slot);
            self.notify.notify();
        }
    }

    fn opened(&self) {
        self.open_now.set(true);
        self.loss_counted.set(false);
        // The browser's retry reopened it: a later `online` (or, in a worker, the flag
        // read online) is no longer this loss's; the next loss offline listens anew.
        drop(self.online.borrow_mut().take());
        self.opened_once.set(true);
        // A connection's first event is judged as carrying its own id (a replay, as
        // likely as not): see `message`.
        *self.last_id.borrow_mut() = LastId::default();
        *self.last_js.borrow_mut() = None;
        let now = dom::now();
        self.last_activity.set(now);
        self.attempts.borrow_mut().opened(now);
        if let Some(sink) = self.sink.upgrade() {
            sink.connection_opened();
            sink.set_state(ConnectionState::Open);
        }
    }

    fn errored(self: &Rc<Self>) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        match self.es.ready_state() {
            // The browser is retrying by itself: a reconnection, never a close.
            web_sys::EventSource::CONNECTING => {
                self.open_now.set(false);
                self.request_started.set(dom::now());
                // The heartbeat times the browser's reconnection from here: the quiet
                // before the loss must not cut short the wait its retry: asked for.
                self.last_activity.set(dom::now());
                if !self.options.reconnect.retries(&Failure::ConnectionLost) {
                    // The policy does not retry a lost connection: stop the browser's.
                    self.es.close();
                    return self.finish(NativeEnd::Attempt(AttemptEnd::Fatal(CloseReason::from(
                        Failure::ConnectionLost,
                    ))));
                }
                if !self.url_id.as_str().is_empty() && !self.url_id.is(&sink.last_event_id()) {
                    // The browser would resume from the URL's stale id: replace it.
                    self.es.close();
                    if waits_for_network(&self.options) {
                        // Offline the loss spends no attempt: the loop waits for the
                        // network before the replacement.
                        self.attempts.borrow_mut().lost_offline(dom::now());
                        return self.finish(NativeEnd::Attempt(AttemptEnd::Replaced(
                            Failure::ConnectionLost,
                        )));
                    }
                    return self.finish(NativeEnd::Attempt(AttemptEnd::Failed(
                        Failure::ConnectionLost,
                    )));
                }
                if waits_for_network(&self.options) {
                    // Offline, the browser's retries spend none of the policy's attempts.
                    // It goes on retrying by itself: its retries resume with the
                    // Last-Event-ID header, which a new EventSource could not send. Back
                    // online, the connection is replaced at once where the query can
                    // carry the id (see `came_online`).
                    self.listen_for_online();
                    let attempt = self.attempts.borrow_mut().lost_offline(dom::now());
                    return sink.set_state(ConnectionState::Reconnecting {
                        attempt,
                        delay: None,
                        cause: ReconnectCause::ConnectionLost,
                    });
                }
                let now = dom::now();
                let (attempt, elapsed) = {
                    let mut attempts = self.attempts.borrow_mut();
                    let attempt = attempts.lost(now);
                    (attempt, attempts.failing_for(now))
                };
                self.loss_counted.set(true);
                if self.options.reconnect.exhausted(attempt, elapsed) {
                    self.es.close();
                    return self.finish(NativeEnd::Attempt(AttemptEnd::Fatal(
                        CloseReason::GaveUp {
                            attempts: attempt.saturating_sub(1),
                            cause: ReconnectCause::ConnectionLost,
                        },
                    )));
                }
                sink.set_state(ConnectionState::Reconnecting {
                    attempt,
                    delay: None,
                    cause: ReconnectCause::ConnectionLost,
                });
            }
            web_sys::EventSource::CLOSED => {
                // An `online` heard since the loss was the browser's to act on: its own
                // retry came after it, and this is that retry's end. It must not cut
                // the backoff after it short.
                self.attempts.borrow_mut().take_online();
                self.finish(NativeEnd::BrowserGaveUp {
                    while_open: self.open_now.get(),
                })
            }
            _ => {}
        }
    }

    /// Listens for `online` while the browser retries a connection lost offline.
    fn listen_for_online(self: &Rc<Self>) {
        let mut slot = self.online.borrow_mut();
        if slot.is_some() {
            return;
        }
        let Some(target) = dom::global_target() else {
            return;
        };
        let weak = Rc::downgrade(self);
        *slot = Some(Listener::new(&target, "online", move |_| {
            if let Some(c) = weak.upgrade() {
                c.came_online();
            }
        }));
        drop(slot);
        // `finished` looks at `navigator.onLine` from now on where no `online` comes.
        self.notify.notify();
    }

    /// Back online while the browser retries a connection lost offline: its next retry
    /// may be as far off as the server's `retry:`. `reconnect_on_online` promises a
    /// connection at once, so the loop makes one, where the resume id can go in the
    /// query (or there is none); else the browser's retry, with the header, is kept.
    fn came_online(&self) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        let resumable = self.options.resume_param.is_some() || sink.last_event_id().is_empty();
        if resumable
            && !self.open_now.get()
            && self.es.ready_state() == web_sys::EventSource::CONNECTING
        {
            self.es.close();
            // The loss spent no attempt (`lost_offline`), nor does its replacement.
            self.finish(NativeEnd::Attempt(AttemptEnd::Replaced(
                Failure::ConnectionLost,
            )));
        }
    }

    fn message(&self, ev: web_sys::Event, event_type: &str) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        // Unchecked (an `instanceof` crossing per event saved): a plain `Event` (the
        // connection's own `error`, on a listener for server events named "error") has
        // no `data`, and the string check below turns it away.
        let ev: SseMessage = ev.unchecked_into();
        // EventSource data is always a string; anything else is not ours to decode. It
        // stays in JavaScript (see RawEvent::with_js_data).
        let data = ev.data();
        if !data.is_string() {
            return;
        }
        if self.options.heartbeat.is_some() {
            self.last_activity.set(dom::now());
        }
        // One EventSource has one origin: read it once.
        let origin = {
            let mut origin = self.origin.borrow_mut();
            Rc::clone(origin.get_or_insert_with(|| {
                let origin: Rc<str> = ev.origin().into();
                #[cfg(feature = "probe")]
                self.elsewhere
                    .set(dom::origin_of(&self.es.url()).as_deref() != Some(&*origin));
                origin
            }))
        };
        // The browser hides whether the event had an `id` field: one whose id is the
        // one before it on this connection counts as carrying none of its own, and a
        // connection's first event with an id as carrying it (EventSource keeps its
        // last event ID across its own reconnects: a replayed event and an id-less one
        // look alike there; replays are what dedupe is for).
        // The JavaScript API hands the browser's own string back (RawEvent::with_js_id);
        // a Rust app needs only the text, in one crossing. While the id before is a
        // long one, the browser's string is compared with it in JavaScript and not
        // copied: events that carry a 1 MiB id cost what short ones do (copied and
        // compared in wasm, each cost milliseconds).
        #[cfg(feature = "js")]
        let mut js_id = ev.last_event_id();
        let held = self.last_js.borrow().clone();
        let text = match held {
            Some(held) => {
                #[cfg(not(feature = "js"))]
                let js_id = ev.last_event_id();
                (js_id != held).then(|| js_id.as_string().unwrap_or_default())
            }
            #[cfg(feature = "js")]
            None => Some(js_id.as_string().unwrap_or_default()),
            #[cfg(not(feature = "js"))]
            None => Some(ev.last_event_id_text()),
        };
        let event = match text {
            Some(id)
                if id.is_empty() && !self.url_id.as_str().is_empty() && !self.browser_id.get() =>
            {
                // A new EventSource starts with an empty last event ID, though its URL
                // resumed from `url_id`: an event without an id of its own stands
                // there (as the fetch parser, which starts from it), and keeps the
                // resume point. (The browser shows an explicit empty `id:` the same
                // way: until it reports an id, that is taken for none too, where fetch
                // would clear the id.)
                #[cfg(feature = "js")]
                {
                    js_id = self
                        .url_js
                        .get_or_init(|| JsValue::from_str(self.url_id.as_str()))
                        .clone();
                }
                Event::with_shared_id(event_type, "", &self.url_id)
            }
            Some(id) => {
                if !id.is_empty() {
                    self.browser_id.set(true);
                }
                let mut last = self.last_id.borrow_mut();
                let changed = !last.is(&id);
                if changed {
                    last.set(&id);
                    *self.last_js.borrow_mut() = match &*last {
                        #[cfg(feature = "js")]
                        LastId::Shared(_) => Some(js_id.clone()),
                        #[cfg(not(feature = "js"))]
                        LastId::Shared(_) => Some(ev.last_event_id()),
                        LastId::Inline(_) => None,
                    };
                }
                Event::with_shared_id(event_type, "", &last).with_own_id(changed)
            }
            // The same long id as the event before.
            None => Event::with_shared_id(event_type, "", &self.last_id.borrow()),
        };
        let raw = RawEvent::with_js_data(event, data, origin);
        #[cfg(feature = "js")]
        let raw = raw.with_js_id(js_id);
        if sink.dispatch(raw) {
            self.attempts.borrow_mut().event();
        }
    }

    /// Resolves when the connection ends: the browser gave up, the resume id went
    /// stale, or nothing arrived for the heartbeat timeout.
    async fn finished(&self, heartbeat: Option<Duration>) -> NativeEnd {
        // Chromium fires no `online` in a worker (the flag changes all the same): there,
        // while the browser retries a connection lost offline (`listen_for_online`),
        // `navigator.onLine` is looked at again every `OFFLINE_POLL`, as the loop's wait
        // for the network does.
        let in_worker = dom::document_target().is_none();
        loop {
            let notified = self.notify.notified();
            if let Some(ended) = self.ended.borrow_mut().take() {
                return ended;
            }
            let polling = in_worker && !self.open_now.get() && self.online.borrow().is_some();
            if polling && !dom::is_offline() {
                // Heard once, as the event would be (not from within the listener's
                // own call: here, dropping it is safe).
                drop(self.online.borrow_mut().take());
                self.came_online();
                continue;
            }
            let mut wake = polling.then_some(super::OFFLINE_POLL);
            if let Some(after) = heartbeat {
                if !self.open_now.get() && waits_for_network(&self.options) {
                    // The browser retries with no network: nothing can arrive, and a
                    // replacement would spend an attempt offline. Time from now.
                    self.last_activity.set(dom::now());
                }
                let quiet = dom::now() - self.last_activity.get();
                let left = after.as_millis() as f64 - quiet;
                if left <= 0.0 {
                    self.es.close();
                    self.attempts
                        .borrow_mut()
                        .went_silent(self.last_activity.get());
                    let quiet = Failure::HeartbeatTimeout { after };
                    if !self.open_now.get() && self.loss_counted.get() {
                        // The browser was waiting to retry a loss already counted (its
                        // `Reconnecting` shown): that retry is made now, as the same
                        // attempt, not a second loss.
                        return NativeEnd::Attempt(AttemptEnd::Replaced(quiet));
                    }
                    return NativeEnd::Attempt(AttemptEnd::Failed(quiet));
                }
                let left = Duration::from_millis(left.ceil() as u64);
                wake = Some(wake.map_or(left, |poll| poll.min(left)));
            }
            match wake {
                None => notified.await,
                Some(after) => {
                    let _ = select(pin!(notified), pin!(dom::sleep(after))).await;
                }
            }
        }
    }
}

#[wasm_bindgen(module = "/src/transport/browser.js")]
extern "C" {
    /// `new EventSource(url, { withCredentials })`, with the browser's own class.
    #[wasm_bindgen(js_name = openEventSource, catch)]
    fn open_event_source(
        url: &str,
        with_credentials: bool,
    ) -> Result<web_sys::EventSource, JsValue>;
    /// The browser's own `EventSource` was there when browser.js loaded (see
    /// [`dom::has_event_source`]).
    #[wasm_bindgen(js_name = hasEventSource)]
    pub(crate) fn has_browser_event_source() -> bool;
    /// What the Resource Timing entry of the request to `url` started at or after
    /// `since` says of its answer (see browser.js): a status, -1 an answer came, -3
    /// none came (same-origin), 0 nothing known, -4 no entry.
    #[wasm_bindgen(js_name = answerTiming)]
    fn answer_timing(url: &str, since: f64) -> f64;
    /// The content type that entry reports, or "".
    #[wasm_bindgen(js_name = answerContentType)]
    fn answer_content_type(url: &str, since: f64) -> String;
}

#[wasm_bindgen]
extern "C" {
    /// A `MessageEvent` as the listener reads it: web-sys' `lastEventId` getter gives
    /// only a copy in wasm, and the JavaScript API wants the string itself.
    type SseMessage;
    #[wasm_bindgen(method, getter)]
    fn data(this: &SseMessage) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = lastEventId)]
    fn last_event_id(this: &SseMessage) -> JsValue;
    #[cfg(not(feature = "js"))]
    #[wasm_bindgen(method, getter, js_name = lastEventId)]
    fn last_event_id_text(this: &SseMessage) -> String;
    #[wasm_bindgen(method, getter)]
    fn origin(this: &SseMessage) -> String;
}

/// What the source's earlier streams showed, for [`why_it_gave_up`] (whose check, with
/// the `probe` feature, reads it).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "probe"), allow(dead_code))]
struct Seen {
    /// A stream opened: cross-origin, CORS let it through.
    opened: bool,
    /// The latest stream's events came from another origin than the URL's.
    elsewhere: bool,
}

/// Why the browser gave up on `requested` (readyState CLOSED while connecting), as the
/// policy should see it. The browser gives up on an answer that is not an event
/// stream, a CORS rejection or an abort by the page; an unreachable server it keeps
/// retrying.
///
/// The Resource Timing entry of the request says what it can without asking the
/// server again: the status where the browser reports it, or, same-origin (or with
/// `Timing-Allow-Origin`), whether an answer came. Where that is not enough, one `fetch` of `url` (without
/// the resume parameter: on a queue-like server it would consume events) asks why,
/// and the policy judges what it finds (cross-origin, a check that fails is followed by
/// a `no-cors` one, which tells a CORS rejection from a lost network). A stream now
/// after an answer is a passing failure: the browser reads no body of a status it
/// refuses, so a 204 cannot be told from a 502 with an error page (a documented
/// difference from EventSource). Offline with no status known, it is the network
/// (Firefox gives up on a lost one), not an abort or a CORS rejection. Nor is a failed
/// check a CORS rejection once a stream of the source `opened` (CORS let it through):
/// it is an error page without the CORS headers (a proxy's 502), which passes.
async fn why_it_gave_up(
    requested: &str,
    since: f64,
    url: &str,
    options: &Options,
    seen: Seen,
) -> AttemptEnd {
    // A request the page's Content Security Policy blocks closes, as its report says.
    if let Some(directive) = dom::blocked_by_policy(requested, since, dom::POLICY_WAIT).await {
        return AttemptEnd::Fatal(CloseReason::InvalidRequest {
            message: dom::blocked_message(&directive),
        });
    }
    #[allow(unused_mut)]
    let mut timing = timing_entry(requested, since).await;
    if dom::is_offline() && !(100.0..=599.0).contains(&timing) {
        return AttemptEnd::Failed(given_up_offline());
    }
    // A same-origin URL whose stream came from another origin redirects there: its
    // entry hides the answer there (a 5xx, a proxy's error page) as if none had come.
    // Asked as cross-origin.
    #[cfg(feature = "probe")]
    if seen.elsewhere && timing == NO_ANSWER {
        timing = HIDDEN;
    }
    if let Some(end) = told_by_timing(timing, || answer_content_type(requested, since)) {
        return end;
    }
    // Chromium refuses to send a URL with credentials in it (EventSource fails at once,
    // as with `fetch`), and no check can be made of it: it closes, as EventSource does.
    // (Nor may the check's error, which would name the URL and its password, reach a
    // state.)
    if dom::has_credentials(url) {
        return AttemptEnd::Fatal(CloseReason::Failed);
    }
    #[cfg(feature = "probe")]
    {
        let timeout = options.heartbeat.unwrap_or(PROBE_TIMEOUT);
        let found = probe(url, options, timeout).await;
        // Cross-origin, a failed check is a CORS rejection only where the server
        // answers a request CORS does not judge (`no-cors`): Firefox gives up on an
        // unknown host or a lost network too, which Chromium retries.
        let cross_origin = seen.elsewhere || dom::origin_of(url) != dom::page_origin();
        let refused_by_cors = may_be_cors(&found, seen.opened, timing, cross_origin)
            && !dom::is_offline()
            && http::reachable_without_cors(url, options).await;
        told_by_probe(timing, found, refused_by_cors, timeout)
    }
    #[cfg(not(feature = "probe"))]
    {
        let _ = (url, options, seen);
        AttemptEnd::Failed(unexplained_give_up())
    }
}

/// The verdict when the browser gave up on a stream that was open. Chromium does so
/// only when the page aborts it (window.stop()): it did not fail, it was stopped;
/// close, as it did. Firefox also gives up on a lost network: `offline`, that is the
/// network's, which the policy retries once back online.
fn gave_up_while_open(offline: bool) -> AttemptEnd {
    if offline {
        AttemptEnd::Failed(given_up_offline())
    } else {
        AttemptEnd::Fatal(CloseReason::Failed)
    }
}

/// The browser gave up, and an interruption came before the check found why.
fn interrupted_check() -> Failure {
    Failure::Network {
        message: "the browser gave up on the stream, and the connection was interrupted \
                  before the reason was known"
            .to_owned(),
    }
}

fn given_up_offline() -> Failure {
    Failure::Network {
        message: "the browser gave up on the stream while offline".to_owned(),
    }
}

/// Without the `probe` feature: the browser gave up and its entry did not say why.
#[cfg(not(feature = "probe"))]
fn unexplained_give_up() -> Failure {
    Failure::Network {
        message: "the browser gave up on the stream without saying why (an error status, \
                  a wrong content type or a CORS rejection); enable the cargo feature \
                  `probe` of wasm-eventsource to have the server asked, or see the \
                  browser's console"
            .to_owned(),
    }
}

/// What [`answer_timing`] says once the entry is there: the browser adds it a task or
/// so after the error event. Waits 100 ms at most.
async fn timing_entry(url: &str, since: f64) -> f64 {
    let mut timing = NO_ENTRY;
    for _ in 0..10 {
        dom::sleep(Duration::from_millis(10)).await;
        timing = answer_timing(url, since);
        if timing != NO_ENTRY {
            break;
        }
    }
    timing
}

// What `answer_timing` says besides a status.
/// An answer came; its status is not shown.
#[cfg(any(feature = "probe", test))]
const ANSWERED: f64 = -1.0;
/// A same-origin entry, whose details are never hidden, shows that no answer came.
const NO_ANSWER: f64 = -3.0;
/// An entry whose details are hidden (cross-origin without Timing-Allow-Origin).
#[cfg(any(feature = "probe", test))]
const HIDDEN: f64 = 0.0;
/// No entry: nothing is known.
const NO_ENTRY: f64 = -4.0;

/// The verdict when the Resource Timing entry (see [`answer_timing`]) is enough.
///
/// Same-origin, an entry hides nothing: one without an answer is a request the
/// browser gave up on before any came. The browser retries an unreachable server
/// itself, so that is an abort (`window.stop()`, a blocked request): EventSource
/// closes for good, and so does this, without asking the server again. (A URL that
/// redirects to another origin hides its answer the same way: with the `probe`
/// feature, where the events of a stream of the source came from another origin,
/// [`why_it_gave_up`] asks the server as cross-origin instead; without it, or before
/// any event told, that closes too.)
fn told_by_timing(timing: f64, content_type: impl FnOnce() -> String) -> Option<AttemptEnd> {
    if timing == NO_ANSWER {
        return Some(AttemptEnd::Fatal(CloseReason::Failed));
    }
    if (100.0..=599.0).contains(&timing) {
        let status = timing as u16;
        return Some(AttemptEnd::Failed(match status {
            200 => Failure::ContentType {
                content_type: content_type(),
            },
            204 => Failure::NoContent,
            _ => Failure::HttpStatus {
                status,
                status_text: String::new(),
                retry_after: None,
                body: None,
            },
        }));
    }
    None
}

/// The verdict once the probe has asked the server. `refused_by_cors`: the probe failed
/// cross-origin, with no answer known, and a `no-cors` request was answered.
#[cfg(feature = "probe")]
fn told_by_probe(
    timing: f64,
    probe: Probe,
    refused_by_cors: bool,
    timeout: Duration,
) -> AttemptEnd {
    match probe {
        Probe::Answer(Some(failure)) => AttemptEnd::Failed(failure),
        // A stream now, after an answer (a 502 looks like a 204: the browser read no
        // body of either) or one nothing is known of: a passing failure.
        Probe::Answer(None) => AttemptEnd::Failed(Failure::ConnectionLost),
        // The server answers, but not to CORS: the browser gave up on a CORS rejection
        // (a CORS-rejected fetch fails as a network error), which it does not retry.
        Probe::Unreachable(_) if refused_by_cors && timing != ANSWERED => {
            AttemptEnd::Fatal(CloseReason::Failed)
        }
        // It answered the browser a moment ago, or it answers nothing now (same-origin
        // there is no CORS): a network failure.
        Probe::Unreachable(message) => AttemptEnd::Failed(Failure::Network { message }),
        Probe::TimedOut => AttemptEnd::Failed(Failure::Network {
            message: format!(
                "the check of why the browser gave up had no answer within {} ms",
                crate::core::retry::millis(timeout)
            ),
        }),
    }
}

/// Whether the check that `found` failing may be CORS refusing the stream, for a
/// `no-cors` request to tell: cross-origin, where the browser saw no answer (`timing`),
/// and before any stream of the source `opened` (CORS let that through: a failure now
/// is an error page without the CORS headers, as a proxy's 502, which passes).
#[cfg(feature = "probe")]
fn may_be_cors(found: &Probe, opened: bool, timing: f64, cross_origin: bool) -> bool {
    matches!(found, Probe::Unreachable(_)) && !opened && timing != ANSWERED && cross_origin
}

/// What one `fetch` of the stream's URL found.
#[cfg(feature = "probe")]
enum Probe {
    /// The server answered: `None` with an event stream, else what was wrong.
    Answer(Option<Failure>),
    /// The request failed: the server is unreachable, or CORS refused the answer.
    Unreachable(String),
    TimedOut,
}

/// Asks the server once, with `fetch`: the status and the content type say what the
/// answer is, as with the fetch transport. Reads only the head, then aborts.
#[cfg(feature = "probe")]
async fn probe(url: &str, options: &Options, timeout: Duration) -> Probe {
    use crate::core::failure::charset_not_utf8;
    use crate::transport::dom::AbortOnDrop;
    use futures_util::future::Either;
    use wasm_bindgen_futures::JsFuture;
    let request = async {
        let controller = web_sys::AbortController::new().map_err(dom::js_message)?;
        let guard = AbortOnDrop(controller);
        let init = http::request_init(options, "")?;
        init.set_signal(Some(&guard.0.signal()));
        let response = JsFuture::from(dom::global_fetch(url, &init))
            .await
            .map_err(dom::js_message)?;
        let response = response
            .dyn_into::<web_sys::Response>()
            .map_err(|_| "fetch did not resolve to a Response".to_owned())?;
        let answer = http::check_response(&response).or_else(|| {
            // A stream the browser refuses for its charset (Chromium): what the fetch
            // transport would read is no stream to EventSource.
            let content_type = response.headers().get("content-type").ok().flatten()?;
            charset_not_utf8(&content_type)?;
            Some(Failure::ContentType { content_type })
        });
        Ok::<_, String>(answer)
    };
    match select(pin!(request), dom::sleep(timeout)).await {
        Either::Left((Ok(answer), _)) => Probe::Answer(answer),
        Either::Left((Err(message), _)) => Probe::Unreachable(message),
        Either::Right(_) => Probe::TimedOut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNKNOWN: f64 = HIDDEN;

    #[cfg(feature = "probe")]
    #[test]
    fn a_failed_check_after_a_stream_opened_is_no_cors_refusal() {
        // What broke (a review): a proxy's 502 without CORS headers, after the stream
        // had opened, was taken for CORS refusing the page's origin where the browser
        // gives up on it (Firefox), and the source closed for good.
        let failed = || Probe::Unreachable("Failed to fetch".into());
        assert!(may_be_cors(&failed(), false, UNKNOWN, true));
        assert!(
            !may_be_cors(&failed(), true, UNKNOWN, true),
            "a stream opened before"
        );
        assert!(
            !may_be_cors(&failed(), false, ANSWERED, true),
            "the browser saw an answer"
        );
        assert!(
            !may_be_cors(&failed(), false, UNKNOWN, false),
            "same-origin"
        );
        assert!(
            !may_be_cors(&Probe::Answer(None), false, UNKNOWN, true),
            "it answered"
        );
    }

    /// The verdict on a cross-origin stream whose server answers a `no-cors` request.
    #[cfg(feature = "probe")]
    fn after_probe(timing: f64, probe: Probe) -> AttemptEnd {
        told_by_probe(timing, probe, true, Duration::from_secs(30))
    }

    #[test]
    fn an_open_stream_given_up_offline_is_the_networks() {
        // What broke (a review): an open stream the browser gave up on (Firefox does on
        // a lost network) closed for good, even offline, where the same give-up while
        // connecting waits for the network.
        assert!(matches!(
            gave_up_while_open(true),
            AttemptEnd::Failed(Failure::Network { .. })
        ));
        assert_eq!(
            gave_up_while_open(false),
            AttemptEnd::Fatal(CloseReason::Failed),
            "online, the page stopped it"
        );
    }

    #[test]
    fn a_status_the_browser_reports_decides_without_a_second_request() {
        let told = |timing| told_by_timing(timing, || "text/html".to_owned());
        assert_eq!(told(204.0), Some(AttemptEnd::Failed(Failure::NoContent)));
        assert_eq!(
            told(200.0),
            Some(AttemptEnd::Failed(Failure::ContentType {
                content_type: "text/html".into()
            }))
        );
        assert!(matches!(
            told(502.0),
            Some(AttemptEnd::Failed(Failure::HttpStatus { status: 502, .. }))
        ));
        for timing in [ANSWERED, UNKNOWN, NO_ENTRY] {
            assert_eq!(told(timing), None, "{timing}: the probe must ask");
        }
    }

    #[test]
    fn same_origin_a_request_without_an_answer_closes_without_a_second_request() {
        // Regression: a window.stop() before the stream opened was checked with a
        // second request, which found a stream, and the source reconnected; the
        // browser's EventSource closes for good.
        let told = |timing| told_by_timing(timing, String::new);
        assert_eq!(
            told(NO_ANSWER),
            Some(AttemptEnd::Fatal(CloseReason::Failed))
        );
        // Cross-origin an entry may hide an answer: the check must ask.
        assert_eq!(told(UNKNOWN), None);
        // An answer, or no entry at all (a full buffer): the check must ask.
        assert_eq!(told(ANSWERED), None);
        assert_eq!(told(NO_ENTRY), None);
    }

    #[test]
    #[cfg(feature = "probe")]
    fn an_empty_first_answer_then_a_stream_is_a_passing_failure() {
        // Regression: an empty first answer was taken for a 204 and closed the source,
        // but the browser reads no body of any status it refuses: a 502 looks empty
        // too, and the chaos test's native source closed on one (Closed { Failed }).
        assert_eq!(
            after_probe(ANSWERED, Probe::Answer(None)),
            AttemptEnd::Failed(Failure::ConnectionLost)
        );
        assert_eq!(
            after_probe(UNKNOWN, Probe::Answer(None)),
            AttemptEnd::Failed(Failure::ConnectionLost)
        );
        // What the probe finds wrong is what the policy judges.
        assert_eq!(
            after_probe(UNKNOWN, Probe::Answer(Some(Failure::NoContent))),
            AttemptEnd::Failed(Failure::NoContent)
        );
    }

    #[test]
    #[cfg(feature = "probe")]
    fn a_cors_rejection_closes_and_a_lost_network_retries() {
        // Regression: a CORS rejection was retried as a network error, forever.
        assert_eq!(
            after_probe(
                UNKNOWN,
                Probe::Unreachable("TypeError: Failed to fetch".into())
            ),
            AttemptEnd::Fatal(CloseReason::Failed)
        );
        // Regression: cross-origin, any failed check closed the source for good, but
        // Firefox gives up on an unknown host or a lost network too: a server that
        // answers no request at all (a `no-cors` one included) is retried.
        assert!(matches!(
            told_by_probe(
                UNKNOWN,
                Probe::Unreachable("TypeError: NetworkError".into()),
                false,
                Duration::from_secs(30)
            ),
            AttemptEnd::Failed(Failure::Network { .. })
        ));
        assert!(matches!(
            after_probe(ANSWERED, Probe::Unreachable("TypeError".into())),
            AttemptEnd::Failed(Failure::Network { .. })
        ));
        // (Same-origin, where there is no CORS, the check is never made: a failed probe
        // is a network failure, as above.)
    }

    #[test]
    #[cfg(feature = "probe")]
    fn a_probe_that_times_out_is_a_network_failure_not_a_heartbeat() {
        // Regression: it was reported as HeartbeatTimeout, with no heartbeat set.
        match after_probe(UNKNOWN, Probe::TimedOut) {
            AttemptEnd::Failed(Failure::Network { message }) => {
                assert!(message.contains("30000 ms"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
