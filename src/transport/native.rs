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
use crate::core::failure::Failure;
use crate::core::failure::ReconnectCause;
use crate::core::parse::Event;
use crate::core::state::{CloseReason, ConnectionState};
use crate::core::typemap::TypeMap;
use crate::decode::RawEvent;
use crate::error::JsError;
use crate::options::Options;
use crate::transport::dom::{self, AbortOnDrop, Listener};
use crate::transport::http;
use crate::transport::{
    AttemptEnd, Connecting, Connector, Notify, Running, TransportHandle, WeakSink,
};
use futures_util::future::{select, Either};
use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
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
            let Some(last_id) = self.sink.upgrade().map(|s| s.last_event_id()) else {
                return AttemptEnd::Gone;
            };
            let (url, url_id) = match &self.options.resume_param {
                Some(param) if !last_id.is_empty() => {
                    match with_query(&self.url, param, &last_id) {
                        Some(url) => (url, last_id),
                        None => (self.url.clone(), String::new()),
                    }
                }
                _ => (self.url.clone(), String::new()),
            };
            let init = web_sys::EventSourceInit::new();
            init.set_with_credentials(self.options.with_credentials);
            let es = match web_sys::EventSource::new_with_event_source_init_dict(&url, &init) {
                Ok(es) => es,
                Err(e) => {
                    return AttemptEnd::Fatal(CloseReason::InvalidRequest {
                        message: JsError::from(e).to_string(),
                    })
                }
            };
            let connection = Connection::new(es, self, url_id, Rc::clone(attempts));
            *self.shared.current.borrow_mut() = Some(Rc::clone(&connection));
            let _current = Current(&self.shared);

            let end = connection.finished(self.options.heartbeat).await;
            match end {
                NativeEnd::Attempt(end) => end,
                NativeEnd::BrowserGaveUp => {
                    connection.es.close();
                    let timeout = self.options.heartbeat.unwrap_or(PROBE_TIMEOUT);
                    AttemptEnd::Failed(probe(&url, &self.options, timeout).await)
                }
            }
        })
    }

    fn server_retry(&self) -> Option<Duration> {
        // The browser keeps the server's `retry:` to itself.
        None
    }
}

/// How long the check after the browser gave up may take without a heartbeat set.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// How a native connection ended, before the check.
enum NativeEnd {
    Attempt(AttemptEnd),
    /// readyState CLOSED after an error: the browser will not retry.
    BrowserGaveUp,
}

/// One browser `EventSource` and its listeners.
struct Connection {
    es: web_sys::EventSource,
    sink: WeakSink,
    options: Rc<Options>,
    attempts: Rc<RefCell<Attempts>>,
    /// The id in the URL's resume parameter, or empty.
    url_id: String,
    ended: RefCell<Option<NativeEnd>>,
    notify: Notify,
    /// `Date.now()` of the last sign of life: creation, open, an event.
    last_activity: Cell<f64>,
    listeners: RefCell<TypeMap<Listener>>,
    fixed: RefCell<Vec<Listener>>,
    /// The origin of the stream, once an event told it.
    origin: RefCell<Option<Rc<str>>>,
    /// The browser's last event ID string before the event being handled: a new
    /// EventSource starts with none and keeps it across its own reconnects.
    last_id: RefCell<String>,
}

impl Connection {
    fn new(
        es: web_sys::EventSource,
        connector: &NativeConnector,
        url_id: String,
        attempts: Rc<RefCell<Attempts>>,
    ) -> Rc<Self> {
        let connection = Rc::new(Connection {
            es,
            sink: connector.sink.clone(),
            options: Rc::clone(&connector.options),
            attempts,
            url_id,
            ended: RefCell::default(),
            notify: Notify::default(),
            last_activity: Cell::new(dom::now()),
            listeners: RefCell::default(),
            fixed: RefCell::default(),
            origin: RefCell::default(),
            last_id: RefCell::default(),
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
        let now = dom::now();
        self.last_activity.set(now);
        self.attempts.borrow_mut().opened(now);
        if let Some(sink) = self.sink.upgrade() {
            sink.connection_opened();
            sink.set_state(ConnectionState::Open);
        }
    }

    fn errored(&self) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        match self.es.ready_state() {
            // The browser is retrying by itself: a reconnection, never a close.
            web_sys::EventSource::CONNECTING => {
                if !self.url_id.is_empty() && self.url_id != sink.last_event_id() {
                    // The browser would resume from the URL's stale id: replace it.
                    self.es.close();
                    return self.finish(NativeEnd::Attempt(AttemptEnd::Failed(
                        Failure::ConnectionLost,
                    )));
                }
                let now = dom::now();
                let (attempt, elapsed) = {
                    let mut attempts = self.attempts.borrow_mut();
                    let attempt = attempts.lost(now);
                    (attempt, attempts.failing_for(now))
                };
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
            web_sys::EventSource::CLOSED => self.finish(NativeEnd::BrowserGaveUp),
            _ => {}
        }
    }

    fn message(&self, ev: web_sys::Event, event_type: &str) {
        let Some(sink) = self.sink.upgrade() else {
            return;
        };
        let Ok(ev) = ev.dyn_into::<MessageEvent>() else {
            return;
        };
        // EventSource data is always a string; anything else is not ours to decode. It
        // stays in JavaScript (see RawEvent::with_js_data).
        let data = ev.data();
        if !data.is_string() {
            return;
        }
        if self.options.heartbeat.is_some() {
            self.last_activity.set(dom::now());
        }
        self.attempts.borrow_mut().event();
        // One EventSource has one origin: read it once.
        let origin = {
            let mut origin = self.origin.borrow_mut();
            Rc::clone(origin.get_or_insert_with(|| ev.origin().into()))
        };
        // The browser hides whether the event had an `id` field: one whose id is the
        // EventSource's last event ID before it counts as carrying none of its own.
        let id = ev.last_event_id();
        let own_id = {
            let mut last = self.last_id.borrow_mut();
            let changed = *last != id;
            if changed {
                id.clone_into(&mut last);
            }
            changed
        };
        let event = Event::new(event_type, "", &id).with_own_id(own_id);
        sink.dispatch(RawEvent::with_js_data(event, data, origin));
    }

    /// Resolves when the connection ends: the browser gave up, the resume id went
    /// stale, or nothing arrived for the heartbeat timeout.
    async fn finished(&self, heartbeat: Option<Duration>) -> NativeEnd {
        loop {
            let notified = self.notify.notified();
            if let Some(ended) = self.ended.borrow_mut().take() {
                return ended;
            }
            match heartbeat {
                None => notified.await,
                Some(after) => {
                    let quiet = dom::now() - self.last_activity.get();
                    let left = after.as_millis() as f64 - quiet;
                    if left <= 0.0 {
                        self.es.close();
                        return NativeEnd::Attempt(AttemptEnd::Failed(Failure::HeartbeatTimeout {
                            after,
                        }));
                    }
                    let timer = dom::sleep(Duration::from_millis(left.ceil() as u64));
                    let _ = select(pin!(notified), timer).await;
                }
            }
        }
    }
}

/// Asks the server once, with `fetch`, why the browser gave up: the status and the
/// content type say whether to retry, as with the fetch transport. Reads only the
/// head, then aborts.
async fn probe(url: &str, options: &Options, timeout: Duration) -> Failure {
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
        Ok::<_, String>(http::check_response(&response))
    };
    match select(pin!(request), dom::sleep(timeout)).await {
        // The server answers with a stream now: the browser lost it on the way.
        Either::Left((Ok(None), _)) => Failure::ConnectionLost,
        Either::Left((Ok(Some(failure)), _)) => failure,
        Either::Left((Err(message), _)) => Failure::Network { message },
        Either::Right(_) => Failure::HeartbeatTimeout { after: timeout },
    }
}

/// `url` with `param=<id>` set in its query, for resuming: EventSource cannot send a
/// `Last-Event-ID` header on its first request.
fn with_query(url: &str, param: &str, id: &str) -> Option<String> {
    let parsed = web_sys::Url::new(url).ok()?;
    parsed.search_params().set(param, id);
    Some(parsed.href())
}
