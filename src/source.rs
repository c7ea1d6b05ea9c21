//! The [`EventSource`] handle, its [`Options`], and [`Subscription`] guards.

use crate::error::{Error, JsError};
use crate::event::{DecodeError, Message, RawEvent};
use crate::fetch::Fetch;
use crate::handlers::Handlers;
use crate::native::Native;
use crate::state::{CloseReason, ConnectionState, StateCell};
use crate::stream::EventStream;
use serde::de::DeserializeOwned;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsValue;

/// Which browser API carries the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Transport {
    /// The browser's own `EventSource`: no parsing in wasm, reconnects managed by the
    /// browser, GET only, no custom headers, no precise errors.
    #[default]
    Native,
    /// `fetch` + `ReadableStream` through the crate's own parser: any method and body,
    /// custom headers, precise HTTP errors, comments, heartbeat timeouts, and many times
    /// the native throughput. Reconnects are the crate's: it sends `Last-Event-ID` and
    /// waits the server's `retry:` delay.
    Fetch,
}

/// A callback that returns headers, run before every connection attempt.
pub(crate) type HeaderFn = Rc<dyn Fn() -> Vec<(String, String)>>;

/// How to open an [`EventSource`]. Private fields, chained setters; each says its
/// default.
///
/// ```
/// use std::time::Duration;
/// use wasm_eventsource::{Options, Transport};
///
/// let options = Options::new()
///     .transport(Transport::Fetch)
///     .method("POST")
///     .header("Authorization", "Bearer secret")
///     .body(r#"{"prompt":"hello"}"#)
///     .heartbeat_timeout(Duration::from_secs(30));
/// ```
///
/// Options that the browser's EventSource cannot honour (method, body, headers,
/// heartbeat) need [`Transport::Fetch`]; with [`Transport::Native`] they are an
/// [`Error::InvalidOptions`] that says so.
#[derive(Clone)]
pub struct Options {
    pub(crate) with_credentials: bool,
    pub(crate) transport: Transport,
    pub(crate) method: String,
    pub(crate) body: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_fn: Option<HeaderFn>,
    pub(crate) last_event_id: String,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) retry: Duration,
    pub(crate) max_event_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            with_credentials: false,
            transport: Transport::Native,
            method: "GET".to_owned(),
            body: None,
            headers: Vec::new(),
            header_fn: None,
            last_event_id: String::new(),
            heartbeat: None,
            retry: DEFAULT_RETRY,
            max_event_size: crate::parse::DEFAULT_MAX_EVENT_SIZE,
        }
    }
}

/// The reconnection delay until the server sends `retry:`, as in browsers.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(3);

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("with_credentials", &self.with_credentials)
            .field("transport", &self.transport)
            .field("method", &self.method)
            .field("body", &self.body.as_ref().map(String::len))
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("header_fn", &self.header_fn.is_some())
            .field("last_event_id", &self.last_event_id)
            .field("heartbeat", &self.heartbeat)
            .field("retry", &self.retry)
            .field("max_event_size", &self.max_event_size)
            .finish()
    }
}

impl Options {
    /// The defaults: GET, no credentials, [`Transport::Native`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends cookies and HTTP authentication with cross-origin requests (EventSource
    /// `withCredentials`; fetch `credentials: "include"`). Defaults to `false`
    /// (fetch: `"same-origin"`).
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.with_credentials = yes;
        self
    }

    /// Chooses the transport. Defaults to [`Transport::Native`].
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The HTTP method, such as `"POST"` for streams that answer a request body.
    /// Defaults to `"GET"`. Fetch transport only.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// The request body, sent with every connection attempt. Defaults to none. Needs a
    /// method that allows a body. Fetch transport only.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Adds a header to every request. Defaults to none besides `Accept:
    /// text/event-stream`, `Cache-Control: no-cache` and, on reconnects,
    /// `Last-Event-ID`. Fetch transport only.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Runs `f` before every connection attempt and adds the headers it returns, so a
    /// token can be refreshed between reconnects. Defaults to none. Fetch transport
    /// only.
    pub fn headers_with(mut self, f: impl Fn() -> Vec<(String, String)> + 'static) -> Self {
        self.header_fn = Some(Rc::new(f));
        self
    }

    /// The last event id to resume from on the first connection. Defaults to empty (no
    /// resumption). Fetch sends it as `Last-Event-ID`; native adds it to the URL as the
    /// `lastEventId` query parameter, since EventSource cannot send the header.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self
    }

    /// Treats a connection that receives no bytes for `timeout` as dropped, and
    /// reconnects. Pick more than the server's keep-alive interval. Defaults to none.
    /// Fetch transport only.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat = Some(timeout);
        self
    }

    /// The reconnection delay until the server sends a `retry:` field. Defaults to
    /// 3 s. Fetch transport only (the browser keeps its own).
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = delay;
        self
    }

    /// The largest event, in bytes of data, that is delivered; a larger one is dropped
    /// without being buffered and reaches typed handlers as a [`DecodeError`] that says
    /// so. Defaults to 1 MiB. Fetch transport only (the browser has its own limits).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Checks that the options make sense together.
    fn validate(&self) -> Result<(), Error> {
        let invalid = |msg: String| Err(Error::InvalidOptions(msg));
        if self.last_event_id.contains(['\r', '\n', '\0']) {
            return invalid("the last event id must not contain CR, LF or NUL".into());
        }
        if self.max_event_size == 0 {
            return invalid("max_event_size must be at least 1 byte".into());
        }
        if self.body.is_some()
            && ["GET", "HEAD"].contains(&self.method.to_ascii_uppercase().as_str())
        {
            return invalid(format!(
                "a {} request cannot have a body; set .method(\"POST\") or drop the body",
                self.method
            ));
        }
        if self.transport == Transport::Native {
            let mut fetch_only = Vec::new();
            if !self.method.eq_ignore_ascii_case("GET") {
                fetch_only.push("a method other than GET");
            }
            if self.body.is_some() {
                fetch_only.push("a body");
            }
            if !self.headers.is_empty() || self.header_fn.is_some() {
                fetch_only.push("custom headers");
            }
            if self.heartbeat.is_some() {
                fetch_only.push("a heartbeat timeout");
            }
            if !fetch_only.is_empty() {
                return invalid(format!(
                    "{} need Transport::Fetch: the browser's EventSource cannot do that",
                    fetch_only.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A typed, observable Server-Sent Events connection.
///
/// Clones share one connection. The connection closes when [`close`](Self::close) is
/// called, or when the last clone and the last [`Subscription`] are dropped.
///
/// ```no_run
/// use serde::Deserialize;
/// use wasm_eventsource::{ConnectionState, EventSource};
///
/// #[derive(Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// # fn main() -> Result<(), wasm_eventsource::Error> {
/// let source = EventSource::new("/events?channel=chat")?;
/// let _chat = source.on::<Chat>("chat", |result| match result {
///     Ok(msg) => println!("{}: {}", msg.data.user, msg.data.text),
///     Err(err) => println!("skipped a bad payload: {err}"),
/// });
/// let _state = source.on_state(|state| {
///     if let ConnectionState::Reconnecting { attempt, .. } = state {
///         println!("reconnecting, attempt {attempt}");
///     }
/// });
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EventSource {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &self.inner.url)
            .field("state", &self.inner.state.get())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// Opens a connection to `url` with the default [`Options`].
    ///
    /// `url` may be relative to the page. An unparsable URL, or one whose scheme is
    /// not http or https, is an [`Error::InvalidUrl`].
    pub fn new(url: &str) -> Result<Self, Error> {
        Self::with_options(url, Options::default())
    }

    /// Opens a connection to `url` with `options`.
    pub fn with_options(url: &str, options: Options) -> Result<Self, Error> {
        options.validate()?;
        let url = resolve_url(url)?;
        let inner = Rc::new(Inner {
            url,
            options,
            state: StateCell::default(),
            last_event_id: RefCell::default(),
            handlers: RefCell::default(),
            comments: RefCell::default(),
            next_id: Cell::new(1),
            transport: RefCell::new(None),
        });
        let transport = match inner.options.transport {
            Transport::Native => Running::Native(Native::open(&inner)?),
            Transport::Fetch => Running::Fetch(Fetch::open(&inner)),
        };
        *inner.transport.borrow_mut() = Some(transport);
        Ok(EventSource { inner })
    }

    /// Calls `handler` with each event of type `event_type`, its data decoded from JSON
    /// into `T`. A payload that does not decode arrives as a [`DecodeError`]; the stream
    /// goes on.
    ///
    /// The handler runs until the returned [`Subscription`] is dropped.
    pub fn on<T: DeserializeOwned + 'static>(
        &self,
        event_type: &str,
        mut handler: impl FnMut(Result<Message<T>, DecodeError>) + 'static,
    ) -> Subscription {
        self.inner
            .add_handler(event_type, Box::new(move |raw| handler(raw.decode::<T>())))
    }

    /// [`on`](Self::on) for events without an `event:` field (type `message`).
    pub fn on_message<T: DeserializeOwned + 'static>(
        &self,
        handler: impl FnMut(Result<Message<T>, DecodeError>) + 'static,
    ) -> Subscription {
        self.on("message", handler)
    }

    /// For the JavaScript API: the event as the transport delivered it.
    pub(crate) fn on_raw_event(
        &self,
        event_type: &str,
        handler: impl FnMut(&RawEvent) + 'static,
    ) -> Subscription {
        self.inner.add_handler(event_type, Box::new(handler))
    }

    /// Calls `handler` with each event of type `event_type`, its data as the raw text.
    /// Events dropped for their size (see [`Options::max_event_size`]) are skipped; use
    /// [`on`](Self::on) to hear of them.
    pub fn on_raw(
        &self,
        event_type: &str,
        mut handler: impl FnMut(Message<String>) + 'static,
    ) -> Subscription {
        self.inner.add_handler(
            event_type,
            Box::new(move |raw| {
                if raw.too_big().is_none() {
                    handler(raw.text())
                }
            }),
        )
    }

    /// Calls `handler` with the text of each comment line (`: text`) the server sends,
    /// such as keep-alives. Fetch transport only: the browser's EventSource hides them.
    pub fn on_comment(&self, handler: impl FnMut(&str) + 'static) -> Subscription {
        let id = self.inner.next_id();
        self.inner.comments.borrow_mut().push(id, Box::new(handler));
        Subscription {
            inner: Some(Rc::clone(&self.inner)),
            key: Key::Comment(id),
        }
    }

    /// Calls `handler` with the current state at once, then with every change, in
    /// order.
    pub fn on_state(&self, handler: impl FnMut(&ConnectionState) + 'static) -> Subscription {
        let id = self.inner.next_id();
        self.inner.state.observe(id, Box::new(handler));
        Subscription {
            inner: Some(Rc::clone(&self.inner)),
            key: Key::State(id),
        }
    }

    /// The events of type `event_type` as a [`futures_core::Stream`], decoded into `T`.
    /// The stream ends (yields `None`) once the source is closed and the events that
    /// arrived before are taken.
    pub fn subscribe<T: DeserializeOwned + 'static>(&self, event_type: &str) -> EventStream<T> {
        EventStream::new(self, event_type)
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.inner.state.get()
    }

    /// The browser-style ready state: 0 connecting, 1 open, 2 closed.
    pub fn ready_state(&self) -> u16 {
        self.inner.state.get().ready_state()
    }

    /// The id of the last event received (empty before any `id:` field).
    pub fn last_event_id(&self) -> String {
        self.inner.last_event_id.borrow().clone()
    }

    /// The absolute URL of the stream.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Closes the connection for good. No event is delivered after this returns;
    /// observers see `Closed { reason: ClosedByClient }`. Closing twice does nothing.
    /// Safe to call from inside a handler.
    pub fn close(&self) {
        self.inner.close(CloseReason::ClosedByClient);
    }
}

/// Keeps a handler registered. Dropping it removes the handler.
///
/// A subscription keeps its source open: `EventSource::new(url)?.on(...)` works
/// without holding on to the source.
#[must_use = "the handler is removed when the subscription is dropped"]
pub struct Subscription {
    inner: Option<Rc<Inner>>,
    key: Key,
}

enum Key {
    Event(String, u64),
    State(u64),
    Comment(u64),
}

impl Subscription {
    /// Keeps the handler for as long as the source lives, without keeping the source
    /// open: it goes when the source's last handle is dropped.
    pub fn detach(mut self) {
        self.inner = None;
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.key {
            Key::Event(t, _) => t.as_str(),
            Key::State(_) => "state",
            Key::Comment(_) => "comment",
        };
        f.debug_tuple("Subscription").field(&what).finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            match &self.key {
                Key::Event(event_type, id) => inner.remove_handler(event_type, *id),
                Key::State(id) => {
                    inner.state.remove(*id);
                }
                Key::Comment(id) => {
                    inner.comments.borrow_mut().remove(*id);
                }
            }
        }
    }
}

/// The shared connection. Transports hold a `Weak` to it, so only handles and
/// subscriptions keep it alive.
pub(crate) struct Inner {
    url: String,
    options: Options,
    state: StateCell,
    last_event_id: RefCell<String>,
    handlers: RefCell<HashMap<String, Handlers<RawEvent>>>,
    comments: RefCell<Handlers<str>>,
    next_id: Cell<u64>,
    transport: RefCell<Option<Running>>,
}

/// The transport of a source that is not closed.
enum Running {
    Native(Native),
    Fetch(#[expect(dead_code, reason = "held for its Drop, which stops the connection")] Fetch),
}

impl Inner {
    fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    fn add_handler(
        self: &Rc<Self>,
        event_type: &str,
        f: Box<dyn FnMut(&RawEvent)>,
    ) -> Subscription {
        let id = self.next_id();
        let new_type = {
            let mut handlers = self.handlers.borrow_mut();
            let list = handlers.entry(event_type.to_owned()).or_default();
            let new_type = list.is_empty();
            list.push(id, f);
            new_type
        };
        if new_type {
            if let Some(Running::Native(native)) = self.transport.borrow().as_ref() {
                native.listen(event_type);
            }
        }
        Subscription {
            inner: Some(Rc::clone(self)),
            key: Key::Event(event_type.to_owned(), id),
        }
    }

    fn remove_handler(&self, event_type: &str, id: u64) {
        if let Some(list) = self.handlers.borrow_mut().get_mut(event_type) {
            list.remove(id);
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn state(&self) -> &StateCell {
        &self.state
    }

    /// Hands an event to the handlers of its type. Nothing is delivered once closed,
    /// not even to the rest of this event's handlers.
    pub(crate) fn dispatch(&self, raw: RawEvent) {
        if self.state.is_closed() {
            return;
        }
        {
            let mut last = self.last_event_id.borrow_mut();
            if last.as_str() != raw.last_event_id() {
                raw.last_event_id().clone_into(&mut last);
            }
        }
        let Some(list) = self
            .handlers
            .borrow()
            .get(raw.event_type())
            .map(Handlers::snapshot)
        else {
            return;
        };
        for slot in list.iter() {
            if self.state.is_closed() {
                return;
            }
            slot.call(&raw);
        }
    }

    /// Hands a comment to the comment handlers.
    pub(crate) fn comment(&self, text: &str) {
        if self.state.is_closed() {
            return;
        }
        let list = self.comments.borrow().snapshot();
        for slot in list.iter() {
            if self.state.is_closed() {
                return;
            }
            slot.call(text);
        }
    }

    /// Ends the source: drops the transport (which releases every listener) and reports
    /// `Closed { reason }`.
    pub(crate) fn close(&self, reason: CloseReason) {
        if self.state.is_closed() {
            return;
        }
        // Take it out first and drop it after the borrow ends: dropping it may run JS.
        // A transport closure that is running now is freed by wasm-bindgen when it
        // returns, not before.
        let transport = self.transport.borrow_mut().take();
        drop(transport);
        self.state.set(ConnectionState::Closed { reason });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close(CloseReason::ClosedByClient);
    }
}

/// Resolves `url` against the page (or worker) location and checks the scheme.
fn resolve_url(url: &str) -> Result<String, Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let base = location_href();
    let parsed = match &base {
        Some(base) => web_sys::Url::new_with_base(url, base),
        None => web_sys::Url::new(url),
    }
    .map_err(|e| invalid(JsError::from(e).message().to_owned()))?;
    match parsed.protocol().as_str() {
        "http:" | "https:" => Ok(parsed.href()),
        other => Err(invalid(format!(
            "the scheme {other:?} is not supported, only http: and https:"
        ))),
    }
}

/// `globalThis.location.href`, if there is one.
fn location_href() -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    js_sys::Reflect::get(&location, &JsValue::from_str("href"))
        .ok()?
        .as_string()
}
