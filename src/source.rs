//! The [`EventSource`] handle, its [`WeakEventSource`], and [`Subscription`] guards.

use crate::core::dedupe::{fingerprint, Gap, IdTracker, Verdict};
use crate::core::handlers::Handlers;
use crate::core::parse::LastId;
use crate::core::state::{CloseReason, ConnectionState, ShareRole, StateCell};
use crate::core::typemap::TypeMap;
use crate::decode::{DecodeError, Message, RawEvent};
use crate::error::Error;
use crate::options::{Options, Transport};
use crate::stream::EventStream;
use crate::transport::{self, Sink, WeakSink};
use serde::de::DeserializeOwned;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;

/// A typed, observable Server-Sent Events connection.
///
/// Clones share one connection. The connection closes when [`close`](Self::close) is
/// called, or when the last clone and the last [`Subscription`] are dropped.
///
/// ```no_run
/// use serde::Deserialize;
/// use wasm_eventsource::{ConnectionState, Error, EventSource, Subscription};
///
/// #[derive(Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// /// What the app holds for as long as it listens: dropping it removes the handlers
/// /// and closes the connection.
/// struct ChatFeed {
///     _chat: Subscription,
///     _state: Subscription,
/// }
///
/// fn open_chat() -> Result<ChatFeed, Error> {
///     let source = EventSource::new("/events?channel=chat")?;
///     // (`println!` stands for the app's code: on wasm32 it prints nothing.)
///     let _chat = source.on::<Chat>("chat", |result| match result {
///         Ok(msg) => println!("{}: {}", msg.data.user, msg.data.text),
///         Err(err) => println!("skipped a bad payload: {err}"),
///     });
///     let _state = source.on_state(|state| {
///         if let ConnectionState::Reconnecting { attempt, .. } = state {
///             println!("reconnecting, attempt {attempt}");
///         }
///     });
///     // (A subscription keeps its source open: the handle itself may go.)
///     Ok(ChatFeed { _chat, _state })
/// }
/// ```
#[derive(Clone)]
pub struct EventSource {
    inner: Rc<Inner>,
}

/// Two handles are equal when they are the same connection (clones of one another):
/// what a hook's effect can depend on to register its handlers once per connection.
impl PartialEq for EventSource {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for EventSource {}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            // (Not the password of a URL that has one: debug output goes to logs.)
            .field("url", &without_credentials(&self.inner.url))
            .field("state", &self.inner.state.get())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// Opens a connection to `url` with the default [`Options`].
    ///
    /// `url` may be relative: to the document's base URL (`<base href>`, else the
    /// page's URL), as for the browser's EventSource, or to a worker's location. An
    /// unparsable URL, or one whose scheme is not http or https, is an
    /// [`Error::InvalidUrl`]; on the fetch transport, a URL with a user name or
    /// password in it is an [`Error::InvalidOptions`] (fetch refuses it).
    pub fn new(url: &str) -> Result<Self, Error> {
        Self::with_options(url, Options::default())
    }

    /// Opens a connection to `url` with `options`.
    pub fn with_options(url: &str, options: Options) -> Result<Self, Error> {
        let options = options.for_context(transport::dom::has_event_source());
        options.validate()?;
        let url = resolve_url(
            url,
            cfg!(feature = "fetch") && options.transport == Transport::Fetch,
        )?;
        let inner = Inner::new(url.clone(), &options);
        // Checked before sharing too: a shared source's leader opens the transport
        // later, and could not (every tab of the group then waited for good).
        if !transport::compiled_in(&options) {
            return Err(not_compiled_in(options.transport));
        }
        let options = Rc::new(options);
        let weak: Weak<dyn Sink> = Rc::downgrade(&inner) as WeakSink;
        #[cfg(feature = "share")]
        if let Some(shared) = transport::share::Shared::open(&url, &options, &weak) {
            *inner.transport.borrow_mut() = Some(Box::new(shared));
            return Ok(EventSource { inner });
        }
        let kind = options.transport;
        let transport = transport::open(url, options, weak).ok_or_else(|| not_compiled_in(kind))?;
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

    /// For the JavaScript API: `f` runs once the transport has dispatched all the
    /// events of one chunk (fetch), so handlers can hand them over together.
    #[cfg(feature = "js")]
    pub(crate) fn on_batch_end(&self, f: impl FnMut(&()) + 'static) -> Subscription {
        let id = self.inner.next_id();
        self.inner.batch_ends.borrow_mut().push(id, Box::new(f));
        self.inner.subscription(HandlerKey::BatchEnd(id))
    }

    /// For the JavaScript API: whether events dispatched now are part of a chunk whose
    /// end [`on_batch_end`](Self::on_batch_end) handlers will hear of.
    #[cfg(feature = "js")]
    pub(crate) fn is_batching(&self) -> bool {
        #[cfg(feature = "fetch")]
        return self.inner.batching.get();
        #[cfg(not(feature = "fetch"))]
        false
    }

    /// Every event, whatever its type, as the transport delivered it, after the
    /// handlers of its type. Only the fetch transport sees every type.
    #[cfg(feature = "fetch")]
    pub(crate) fn on_any_raw_event(
        &self,
        handler: impl FnMut(&RawEvent) + 'static,
    ) -> Subscription {
        let id = self.inner.next_id();
        self.inner.any.borrow_mut().push(id, Box::new(handler));
        self.inner.subscription(HandlerKey::Any(id))
    }

    /// For the JavaScript API: the event as the transport delivered it.
    #[cfg(feature = "js")]
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
        self.inner.subscription(HandlerKey::Comment(id))
    }

    /// Calls `handler` with the current state at once, then with every change, in
    /// order.
    pub fn on_state(&self, handler: impl FnMut(&ConnectionState) + 'static) -> Subscription {
        let id = self.inner.next_id();
        self.inner.state.observe(id, Box::new(handler));
        self.inner.subscription(HandlerKey::State(id))
    }

    /// Calls `handler` when numeric event ids skip (say 41, then 45): events were
    /// lost, for example because the server no longer held them when the source
    /// resumed. Only events with an `id` field of their own are compared, and ids that
    /// are not whole numbers never are; an empty `id:` (or an id-only block that
    /// clears the id) starts the numbering over.
    ///
    /// Fetch transport only: the browser's EventSource hands over just the event types
    /// listened for, so a skipped id may be an event of another type, and the native
    /// transport reports no gap rather than a false one.
    pub fn on_gap(&self, handler: impl FnMut(&Gap) + 'static) -> Subscription {
        let id = self.inner.next_id();
        self.inner.gaps.borrow_mut().push(id, Box::new(handler));
        self.inner.subscription(HandlerKey::Gap(id))
    }

    /// The events of type `event_type` as a [`futures_core::Stream`], decoded into `T`.
    /// The stream ends (yields `None`) once the source is closed and the events that
    /// arrived before are taken.
    ///
    /// The stream queues at most [`DEFAULT_STREAM_CAPACITY`](crate::DEFAULT_STREAM_CAPACITY)
    /// events; past that the oldest go (see [`EventStream::dropped`]).
    pub fn subscribe<T: DeserializeOwned + 'static>(&self, event_type: &str) -> EventStream<T> {
        EventStream::new(self, event_type, crate::stream::DEFAULT_STREAM_CAPACITY)
    }

    /// [`subscribe`](Self::subscribe) with a queue of at most `capacity` events (at
    /// least 1).
    pub fn subscribe_with_capacity<T: DeserializeOwned + 'static>(
        &self,
        event_type: &str,
        capacity: usize,
    ) -> EventStream<T> {
        EventStream::new(self, event_type, capacity)
    }

    /// The part this source plays in a connection shared across tabs
    /// ([`Options::share_across_tabs`]): [`ShareRole::Alone`] when it is not shared
    /// (or cannot be, where the browser lacks Web Locks or `BroadcastChannel`), and
    /// once it is closed.
    pub fn share_role(&self) -> ShareRole {
        self.inner.role.borrow().clone()
    }

    /// Calls `handler` with the current share role at once, then with every change
    /// while the source is open (a follower that becomes the leader, the leader's
    /// follower count). Once closed, the source is `Alone`, a change no handler hears
    /// (one added once closed hears `Alone`, at once).
    pub fn on_share_role(&self, mut handler: impl FnMut(&ShareRole) + 'static) -> Subscription {
        let id = self.inner.next_id();
        let now = self.share_role();
        handler(&now);
        self.inner.roles.borrow_mut().push(id, Box::new(handler));
        self.inner.subscription(HandlerKey::ShareRole(id))
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.inner.state.get()
    }

    /// The browser-style ready state: 0 connecting, 1 open, 2 closed.
    pub fn ready_state(&self) -> u16 {
        self.inner.state.get().ready_state()
    }

    /// The id the source would resume after if it reconnected now: the last event id
    /// the stream set, or the one given in [`Options::last_event_id`] before that.
    /// Empty when there is none. On the native transport, the stream's id as the
    /// events the source listens for carried it (those of its handlers' types, and the
    /// heartbeat event): an id set by an event of another type, or by a block with no
    /// data, moves the browser's own but not this one, so a connection the source
    /// replaces resumes before it (what comes again is of types no handler follows).
    pub fn last_event_id(&self) -> String {
        self.inner.last_event_id.borrow().as_str().to_owned()
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

    /// Drops the current connection (`Reconnecting { cause: Requested }`, then
    /// `Connecting`), or cuts a backoff short (straight to `Connecting`; the wait a
    /// server's `retry:` or `Retry-After` asked for too: the app asked), and connects
    /// again now, also while the browser reads as offline
    /// ([`Options::reconnect_on_online`](crate::Options::reconnect_on_online) waits for
    /// the network otherwise); not while the page is hidden with
    /// [`Options::pause_when_hidden`](crate::Options::pause_when_hidden). The attempt
    /// counter is kept. Does nothing once closed.
    ///
    /// In [request mode](crate::Options::request) it cuts the answer: with server ids
    /// it resumes it (`Last-Event-ID`); without them it closes as
    /// [`Interrupted`](crate::CloseReason::Interrupted) (with
    /// [`retry_request`](crate::Options::retry_request), it sends the request again
    /// from the start, the new events after the old ones). For a new answer open a new
    /// source (the hooks' `reconnect()` does that).
    pub fn reconnect(&self) {
        if let Some(transport) = self.inner.transport.borrow().as_ref() {
            transport.reconnect();
        }
    }

    /// A handle that does not keep the source alive, for handlers that need their own
    /// source: a handler that captures an `EventSource` clone and is
    /// [`detach`](Subscription::detach)ed keeps the source alive through itself, a
    /// cycle that never closes.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), wasm_eventsource::Error> {
    /// let source = wasm_eventsource::EventSource::new("/events")?;
    /// let weak = source.downgrade();
    /// source
    ///     .on_raw("bye", move |_| {
    ///         if let Some(source) = weak.upgrade() {
    ///             source.close();
    ///         }
    ///     })
    ///     .detach();
    /// # Ok(())
    /// # }
    /// ```
    pub fn downgrade(&self) -> WeakEventSource {
        WeakEventSource {
            inner: Rc::downgrade(&self.inner),
        }
    }
}

/// A handle to an [`EventSource`] that does not keep it open; made by
/// [`EventSource::downgrade`].
#[derive(Clone, Default)]
pub struct WeakEventSource {
    inner: Weak<Inner>,
}

impl WeakEventSource {
    /// The source, if a handle or a subscription still keeps it.
    pub fn upgrade(&self) -> Option<EventSource> {
        self.inner.upgrade().map(|inner| EventSource { inner })
    }
}

impl std::fmt::Debug for WeakEventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakEventSource")
            .field("alive", &(self.inner.strong_count() > 0))
            .finish()
    }
}

/// Keeps a handler registered. Dropping it removes the handler.
///
/// A subscription keeps its source open: `EventSource::new(url)?.on(...)` works
/// without holding on to the source.
#[must_use = "the handler is removed when the subscription is dropped"]
pub struct Subscription {
    inner: Option<Rc<Inner>>,
    key: HandlerKey,
}

/// Which handler list a subscription's handler is in, and its id there.
enum HandlerKey {
    Event(String, u64),
    State(u64),
    Comment(u64),
    Gap(u64),
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    BatchEnd(u64),
    #[cfg(feature = "fetch")]
    Any(u64),
    ShareRole(u64),
}

impl Subscription {
    /// Keeps the handler for as long as the source lives, without keeping the source
    /// open: it goes when the source's last handle is dropped, or when the source
    /// closes (on a closed source, at once: it would never be called).
    ///
    /// A detached handler that captures a clone of its own source keeps that source
    /// alive through itself until it closes: capture a [`WeakEventSource`]
    /// ([`EventSource::downgrade`]) instead.
    pub fn detach(mut self) {
        // (Dropped as it is, it goes: see `Drop`.)
        if self
            .inner
            .as_ref()
            .is_some_and(|inner| inner.state.is_closed())
        {
            return;
        }
        self.inner = None;
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.key {
            HandlerKey::Event(t, _) => t.as_str(),
            HandlerKey::State(_) => "state",
            HandlerKey::Comment(_) => "comment",
            HandlerKey::Gap(_) => "gap",
            HandlerKey::BatchEnd(_) => "batch end",
            #[cfg(feature = "fetch")]
            HandlerKey::Any(_) => "any event",
            HandlerKey::ShareRole(_) => "share role",
        };
        f.debug_tuple("Subscription").field(&what).finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            match &self.key {
                HandlerKey::Event(event_type, id) => inner.remove_handler(event_type, *id),
                HandlerKey::State(id) => {
                    inner.state.remove(*id);
                }
                HandlerKey::Comment(id) => {
                    // Dropped after the borrow: it may own a subscription of this source.
                    let removed = inner.comments.borrow_mut().remove(*id);
                    drop(removed);
                }
                HandlerKey::Gap(id) => {
                    // Dropped after the borrow: it may own a subscription of this source.
                    let removed = inner.gaps.borrow_mut().remove(*id);
                    drop(removed);
                }
                HandlerKey::BatchEnd(id) => {
                    // Dropped after the borrow: it may own a subscription of this source.
                    let removed = inner.batch_ends.borrow_mut().remove(*id);
                    drop(removed);
                }
                #[cfg(feature = "fetch")]
                HandlerKey::Any(id) => {
                    // Dropped after the borrow: it may own a subscription of this source.
                    let removed = inner.any.borrow_mut().remove(*id);
                    drop(removed);
                }
                HandlerKey::ShareRole(id) => {
                    // Dropped after the borrow: it may own a subscription of this source.
                    let removed = inner.roles.borrow_mut().remove(*id);
                    drop(removed);
                }
            }
        }
    }
}

/// The shared connection. Transports hold a `Weak` to it, so only handles and
/// subscriptions keep it alive.
pub(crate) struct Inner {
    url: String,
    state: StateCell,
    /// The id a new connection resumes after (a long one shared with the events that
    /// carry it).
    last_event_id: RefCell<LastId>,
    ids: RefCell<IdTracker>,
    handlers: RefCell<TypeMap<Handlers<RawEvent>>>,
    /// Handlers of every event, whatever its type (request streams; fetch sees all).
    #[cfg(feature = "fetch")]
    any: RefCell<Handlers<RawEvent>>,
    comments: RefCell<Handlers<str>>,
    gaps: RefCell<Handlers<Gap>>,
    /// Between `begin_batch` and `end_batch`: the events of one chunk are dispatched.
    #[cfg(feature = "fetch")]
    batching: Cell<bool>,
    batch_ends: RefCell<Handlers<()>>,
    next_id: Cell<u64>,
    transport: RefCell<Option<Box<dyn transport::TransportHandle>>>,
    /// The part played in a connection shared across tabs, and its observers.
    role: RefCell<ShareRole>,
    roles: RefCell<Handlers<ShareRole>>,
}

impl Inner {
    /// A source's shared state for `url` (resolved) and `options` (checked), with no
    /// transport yet.
    fn new(url: String, options: &Options) -> Rc<Self> {
        let first_id = options.first_last_event_id();
        Rc::new(Inner {
            url,
            state: StateCell::default(),
            last_event_id: RefCell::new(LastId::new(first_id)),
            ids: RefCell::new(IdTracker::new(
                // A shared source dedupes: an event in flight during a handover may
                // come twice, from the old leader and from the new one's resume.
                options.dedupe || options.share.is_some(),
                // Only fetch sees every event; native sees the types listened for.
                options.transport == Transport::Fetch,
                first_id,
            )),
            handlers: RefCell::default(),
            #[cfg(feature = "fetch")]
            any: RefCell::default(),
            comments: RefCell::default(),
            gaps: RefCell::default(),
            #[cfg(feature = "fetch")]
            batching: Cell::new(false),
            batch_ends: RefCell::default(),
            next_id: Cell::new(1),
            transport: RefCell::new(None),
            role: RefCell::new(ShareRole::Alone),
            roles: RefCell::default(),
        })
    }

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
            let list = handlers.get_or_default(event_type);
            let new_type = list.is_empty();
            list.push(id, f);
            new_type
        };
        if new_type {
            if let Some(transport) = self.transport.borrow().as_ref() {
                transport.listen(event_type);
            }
        }
        self.subscription(HandlerKey::Event(event_type.to_owned(), id))
    }

    fn remove_handler(&self, event_type: &str, id: u64) {
        // The handler is dropped after the borrow ends (`removed`): it may own another
        // subscription of this source, whose drop comes back here.
        let (removed, emptied) = {
            let mut handlers = self.handlers.borrow_mut();
            match handlers.get_mut(event_type) {
                Some(list) => {
                    let removed = list.remove(id);
                    let empty = list.is_empty();
                    if empty {
                        handlers.remove(event_type);
                    }
                    (removed, empty)
                }
                None => (None, false),
            }
        };
        if emptied {
            if let Some(transport) = self.transport.borrow().as_ref() {
                transport.unlisten(event_type);
            }
        }
        drop(removed);
    }

    /// Ends the source: drops the transport (which releases every listener and
    /// cancels every timer) and reports `Closed { reason }`.
    pub(crate) fn close(&self, reason: CloseReason) {
        if self.state.is_closed() {
            return;
        }
        // Take it out first and drop it after the borrow ends: dropping it may run JS.
        // A transport closure that is running now is freed by wasm-bindgen when it
        // returns, not before.
        let transport = self.transport.borrow_mut().take();
        drop(transport);
        // Out of its group with its transport: no role (as the JavaScript API says).
        // No observer hears it: a closed source calls no handler.
        *self.role.borrow_mut() = ShareRole::Alone;
        self.state.set(ConnectionState::Closed { reason });
        // Closed for good: no handler is called again, and none is kept (the state's
        // observers go once they have heard it), each with what it owns, without
        // waiting for its subscription to drop. The JavaScript class's bare build holds
        // its subscriptions in wasm, a root to the garbage collector: there, a callback
        // that refers to its source kept both for good. Dropped after the borrows end:
        // a drop may run code that uses the source.
        let handlers = std::mem::take(&mut *self.handlers.borrow_mut());
        #[cfg(feature = "fetch")]
        let any = std::mem::take(&mut *self.any.borrow_mut());
        let comments = std::mem::take(&mut *self.comments.borrow_mut());
        let gaps = std::mem::take(&mut *self.gaps.borrow_mut());
        let batch_ends = std::mem::take(&mut *self.batch_ends.borrow_mut());
        let roles = std::mem::take(&mut *self.roles.borrow_mut());
        drop((handlers, comments, gaps, batch_ends, roles));
        #[cfg(feature = "fetch")]
        drop(any);
    }

    fn subscription(self: &Rc<Self>, key: HandlerKey) -> Subscription {
        Subscription {
            inner: Some(Rc::clone(self)),
            key,
        }
    }

    /// Calls each handler of `list` as it is now with `arg`, stopping once the source
    /// is closed (a handler may close it).
    fn call_all<A: ?Sized>(&self, list: Rc<[Rc<crate::core::handlers::Slot<A>>]>, arg: &A) {
        for slot in list.iter() {
            if self.state.is_closed() {
                return;
            }
            slot.call(arg);
        }
    }
}

impl Sink for Inner {
    /// Hands an event to the handlers of its type. Nothing is delivered once closed,
    /// not even to the rest of this event's handlers.
    fn dispatch(&self, raw: RawEvent) -> bool {
        if self.state.is_closed() {
            return false;
        }
        let verdict = self
            .ids
            .borrow_mut()
            .check(raw.last_event_id(), raw.has_own_id(), || {
                fingerprint(raw.event_type(), raw.data())
            });
        let gap = match verdict {
            Verdict::Duplicate => return false,
            Verdict::Deliver { gap } => gap,
        };
        self.last_event_id
            .borrow_mut()
            .set_from(raw.last_event_id(), raw.shared_id());
        if let Some(gap) = gap {
            // Snapshot first: no borrow is held while handlers run.
            let list = self.gaps.borrow().snapshot();
            self.call_all(list, &gap);
        }
        let list = self
            .handlers
            .borrow()
            .get(raw.event_type())
            .map(Handlers::snapshot);
        if let Some(list) = list {
            self.call_all(list, &raw);
        }
        #[cfg(feature = "fetch")]
        {
            let list = self.any.borrow().snapshot();
            self.call_all(list, &raw);
        }
        true
    }

    /// Hands a comment to the comment handlers.
    #[cfg(feature = "fetch")]
    fn comment(&self, text: &str) {
        // Snapshot first: no borrow is held while handlers run.
        let list = self.comments.borrow().snapshot();
        self.call_all(list, text);
    }

    fn set_state(&self, state: ConnectionState) {
        self.state.set(state);
    }

    fn close(&self, reason: CloseReason) {
        Inner::close(self, reason);
    }

    fn is_closed(&self) -> bool {
        self.state.is_closed()
    }

    #[cfg(any(feature = "native", feature = "share"))]
    fn last_event_id(&self) -> String {
        self.last_event_id.borrow().as_str().to_owned()
    }

    #[cfg(feature = "share")]
    fn last_event_id_is(&self, id: &str) -> bool {
        self.last_event_id.borrow().is(id)
    }

    #[cfg(feature = "share")]
    fn state(&self) -> ConnectionState {
        self.state.get()
    }

    #[cfg(feature = "share")]
    fn set_share_role(&self, role: ShareRole) {
        if *self.role.borrow() == role {
            return;
        }
        *self.role.borrow_mut() = role.clone();
        // Snapshot first: no borrow is held while handlers run.
        let list = self.roles.borrow().snapshot();
        self.call_all(list, &role);
    }

    #[cfg(any(feature = "fetch", feature = "share"))]
    fn set_last_event_id(&self, id: &LastId) {
        self.last_event_id.borrow_mut().adopt(id);
        // The numbering goes on from it (an id-only block is no lost event).
        self.ids.borrow_mut().moved_to(id.as_str());
    }

    fn connection_opened(&self) {
        self.ids.borrow_mut().connection_opened();
    }

    #[cfg(feature = "fetch")]
    fn begin_batch(&self) {
        self.batching.set(true);
    }

    #[cfg(feature = "fetch")]
    fn end_batch(&self) {
        self.batching.set(false);
        // Snapshot first: no borrow is held while handlers run.
        let list = self.batch_ends.borrow().snapshot();
        self.call_all(list, &());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close(CloseReason::ClosedByClient);
    }
}

/// The error for a transport whose cargo feature is off.
fn not_compiled_in(transport: Transport) -> Error {
    // Named here rather than through `Debug`: the npm build compiles `Debug` away.
    let (name, feature) = match transport {
        Transport::Native => ("Native", "native"),
        Transport::Fetch => ("Fetch", "fetch"),
    };
    Error::InvalidOptions(format!(
        "{name} is not compiled in; enable the cargo feature `{feature}` of wasm-eventsource"
    ))
}

/// Resolves `url` against the document's base URL (a `<base href>` counts, as it does
/// for the browser's EventSource), or a worker's location, and checks the scheme.
/// Why the fetch transport refuses a URL with credentials (as `fetch` does).
const CREDENTIALS_IN_URL: &str = "the fetch transport cannot send a URL with a user name or \
     password in it (fetch refuses one, as Chromium's EventSource does): send the credentials \
     in a header (Authorization) or a cookie instead";

/// `fetch`: for the fetch transport, which refuses a URL with credentials in it.
fn resolve_url(url: &str, fetch: bool) -> Result<String, Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: without_credentials(url),
        reason,
    };
    let base = base_url();
    let parsed = match &base {
        Some(base) => web_sys::Url::new_with_base(url, base),
        None => web_sys::Url::new(url),
    }
    // (Not the browser's own words, which may repeat the URL, password and all.)
    .map_err(|_| invalid("it does not parse as a URL".to_owned()))?;
    match parsed.protocol().as_str() {
        // (Not an invalid URL: the browser's EventSource takes it. Nor is the URL in
        // the error, whose password would go to logs.)
        "http:" | "https:" if fetch && !(parsed.username() + &parsed.password()).is_empty() => {
            Err(Error::InvalidOptions(CREDENTIALS_IN_URL.into()))
        }
        "http:" | "https:" => Ok(parsed.href()),
        other => Err(invalid(format!(
            "the scheme \"{other}\" is not supported, only http: and https:"
        ))),
    }
}

/// `url` with what stands between its `scheme:` (and the slashes after it, if any: the
/// URL parser finds credentials in `https:user:pw@host` too) and an `@` before the next
/// `/`, `\`, `?` or `#` (a user name and password) as `***`: an error goes to logs and
/// states. (Byte by byte: `str`'s pattern searchers cost the npm build 1.5 KB of wasm.)
pub(crate) fn without_credentials(url: &str) -> String {
    let bytes = url.as_bytes();
    let scheme_byte = |b: &u8| b.is_ascii_alphanumeric() || b"+-.".contains(b);
    // (The URL parser drops the C0 controls and spaces a URL begins with.)
    let from = bytes.iter().take_while(|&&b| b <= b' ').count();
    let colon = bytes
        .iter()
        .skip(from)
        .position(|&b| !scheme_byte(&b))
        .map(|at| from + at);
    if let Some(mut start) = colon.filter(|&at| at > from && bytes.get(at) == Some(&b':')) {
        start += 1;
        while matches!(bytes.get(start), Some(b'/' | b'\\')) {
            start += 1;
        }
        let mut at = None;
        for (i, &byte) in bytes.iter().enumerate().skip(start) {
            match byte {
                b'/' | b'\\' | b'?' | b'#' => break,
                b'@' => at = Some(i),
                _ => {}
            }
        }
        // (`start` and `at` are at ASCII bytes: char boundaries. `get`, not indexing:
        // a slice's panic path costs a Rust app 4 KB of wasm.)
        if let Some((scheme, rest)) = at.and_then(|at| Some((url.get(..start)?, url.get(at..)?))) {
            return [scheme, "***", rest].concat();
        }
    }
    url.to_owned()
}

/// `document.baseURI`, else `location.href` (a worker), if there is either.
fn base_url() -> Option<String> {
    let get = |target: &JsValue, name: &str| js_sys::Reflect::get(target, &JsValue::from_str(name));
    let global = js_sys::global();
    get(&global, "document")
        .and_then(|document| get(&document, "baseURI"))
        .ok()
        .and_then(|base| base.as_string())
        .or_else(|| {
            get(&get(&global, "location").ok()?, "href")
                .ok()?
                .as_string()
        })
}

#[cfg(all(test, feature = "fetch"))]
mod tests {
    use super::*;
    use crate::core::parse::Parser;

    #[test]
    fn an_invalid_url_is_told_without_its_password() {
        // What broke (a review): `Error::InvalidUrl` held the URL as given, password
        // and all (`wss://user:pw@host/`, a scheme EventSource refuses), and the JS
        // class puts it in the closed state's message.
        assert_eq!(
            without_credentials("wss://user:p@ss@host/x?to@ken"),
            "wss://***@host/x?to@ken"
        );
        assert_eq!(without_credentials("https://host/a@b"), "https://host/a@b");
        assert_eq!(without_credentials("not a url"), "not a url");
        // Regression (a review): without `//` after the scheme the URL parser still
        // finds credentials (`ftp:u:pw@h` is ftp://u:pw@h/), and they were shown.
        assert_eq!(without_credentials("ftp:user:pw@host/x"), "ftp:***@host/x");
        assert_eq!(
            without_credentials("https:\\\\u:pw@bad host"),
            "https:\\\\***@bad host"
        );
        assert_eq!(without_credentials("https:/u:pw@h?x@y"), "https:/***@h?x@y");
        assert_eq!(without_credentials(" \tftp://u:pw@h/"), " \tftp://***@h/");
    }

    #[test]
    fn the_source_holds_the_long_id_its_events_share() {
        // Regression: the source compared each event's id with the one it held, byte
        // by byte, and after each chunk compared the parser's again: after a 900 KB id,
        // 2,000 events took 0.84 s in Chromium on fetch. It now holds the events' (and
        // the parser's) own allocation, so each check is a pointer compare.
        let options = Options::new()
            .transport(Transport::Fetch)
            .last_event_id("x".repeat(1000));
        let inner = Inner::new("http://example.test/".into(), &options);
        let mut parser = Parser::with_max_event_size(1 << 20);
        // The same text as the id the source was given: held as a copy of its own
        // until the stream's takes its place.
        let long = "x".repeat(1000);
        parser.feed(format!("id: {long}\ndata: 1\n\ndata: 2\n\n").as_bytes());
        let origin: Rc<str> = "http://example.test".into();
        let mut events = 0;
        while let Some(event) = parser.next_event() {
            let id = event.last_event_id().as_ptr();
            assert!(inner.dispatch(RawEvent::new(event, Rc::clone(&origin))));
            assert_eq!(
                inner.last_event_id.borrow().as_str().as_ptr(),
                id,
                "the source holds a copy of the event's id"
            );
            events += 1;
        }
        assert_eq!(events, 2);
        // An id-only block, told at the chunk's end: the parser's allocation is taken.
        parser.feed(format!("id: {long}y\n\n").as_bytes());
        inner.set_last_event_id(parser.last_id());
        assert!(std::ptr::eq(
            inner.last_event_id.borrow().as_str(),
            parser.last_event_id()
        ));
        // A short one is the text, as before.
        parser.feed(b"id: 7\n\n");
        inner.set_last_event_id(parser.last_id());
        assert_eq!(inner.last_event_id.borrow().as_str(), "7");
    }
}
