//! Yew hooks (feature `yew`, Yew 0.23): [`use_event_source`] and
//! [`use_event_source_with_options`].
//!
//! The hooks only bind an [`EventSource`] to the component's lifetime: the decoding,
//! the connection states and the reconnections are the core's. The connection opens
//! after the first render, is replaced when the URL, the event type or the options
//! change, and closes when the component unmounts. Each change of state, each event
//! and each decode error re-renders the component.
//!
//! ```no_run
//! use serde::Deserialize;
//! use wasm_eventsource::yew::use_event_source;
//! use yew::prelude::*;
//!
//! #[derive(Clone, Deserialize)]
//! struct Chat {
//!     user: String,
//!     text: String,
//! }
//!
//! #[function_component]
//! fn Feed() -> Html {
//!     let chat = use_event_source::<Chat>("/events?channel=chat", "chat");
//!     let close = {
//!         let chat = chat.clone();
//!         Callback::from(move |_| chat.close())
//!     };
//!     html! {
//!         <>
//!             <p>{ chat.state().to_string() }</p>
//!             if let Some(msg) = chat.message() {
//!                 <p>{ format!("{}: {}", msg.data.user, msg.data.text) }</p>
//!             }
//!             <button onclick={close}>{ "close" }</button>
//!         </>
//!     }
//! }
//! ```
//!
//! Under server-side rendering the effect never runs, so the hooks open nothing: the
//! state stays `Connecting { attempt: 0 }` and the rest `None`. On targets other than
//! `wasm32` they open nothing either.

use crate::Subscription;
use crate::{CloseReason, ConnectionState, DecodeError, EventSource, Message, Options};
use ::yew::functional::{
    hook, use_effect_with, use_mut_ref, use_state, UseStateHandle, UseStateSetter,
};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;

/// The connection of [`use_event_source`]: the latest state, event and decode error,
/// and the controls. Clones share the connection. A handle kept from an earlier render
/// (in a callback, say) reads the current values; its equality compares the values
/// of its render.
///
/// ```no_run
/// use wasm_eventsource::yew::{use_event_source, UseEventSourceHandle};
/// use yew::prelude::*;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Tick {
///     n: u64,
/// }
///
/// #[function_component]
/// fn Ticks() -> Html {
///     let ticks: UseEventSourceHandle<Tick> = use_event_source("/events?channel=ticker", "tick");
///     let reconnect = {
///         let ticks = ticks.clone();
///         Callback::from(move |_| ticks.reconnect())
///     };
///     html! {
///         <>
///             <p>{ ticks.message().map(|m| m.data.n) }</p>
///             <p>{ ticks.error().map(|e| e.to_string()) }</p>
///             <button onclick={reconnect}>{ "reconnect" }</button>
///         </>
///     }
/// }
/// ```
pub struct UseEventSourceHandle<T> {
    /// The values of the render that made the handle, for `PartialEq` (setting them
    /// renders the component again); the handle reads `latest`.
    state: UseStateHandle<Rc<ConnectionState>>,
    message: UseStateHandle<Rc<Option<Message<T>>>>,
    error: UseStateHandle<Rc<Option<DecodeError>>>,
    latest: Rc<RefCell<Latest<T>>>,
    /// The open source, for `close` and `reconnect`.
    source: Rc<RefCell<Option<EventSource>>>,
    /// Bumped by `reconnect` after a close, or at any time in request mode: a
    /// dependency of the effect, so it reopens.
    generation: UseStateHandle<u32>,
    /// This render's number for its URL, type and options: the open connection's, or
    /// one more when it brings others. Until the effect opens their connection
    /// (`opened` reaches `key`), what the hook holds is the old one's, and is not
    /// shown; from then on the handle reads the live values, as Yew's state handles do.
    key: u64,
    /// The number of the URL, type and options the open connection was opened for.
    opened: Rc<RefCell<u64>>,
    /// This render's options are [request mode](Options::request)'s: `reconnect` once
    /// closed asks for a new answer.
    request: bool,
}

impl<T> Clone for UseEventSourceHandle<T> {
    fn clone(&self) -> Self {
        UseEventSourceHandle {
            state: self.state.clone(),
            message: self.message.clone(),
            error: self.error.clone(),
            latest: Rc::clone(&self.latest),
            source: Rc::clone(&self.source),
            generation: self.generation.clone(),
            key: self.key,
            opened: Rc::clone(&self.opened),
            request: self.request,
        }
    }
}

/// Handles are equal when they show the same thing: the same hook, the same URL, type
/// and options, and the same state, message and error (as Yew's `UseStateHandle`
/// compares its values). So a handle can be a child component's prop: the child renders
/// again when what it shows changes, and not otherwise.
///
/// ```no_run
/// use wasm_eventsource::yew::{use_event_source, UseEventSourceHandle};
/// use yew::prelude::*;
///
/// #[derive(Clone, PartialEq, serde::Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// #[derive(PartialEq, Properties)]
/// struct LineProps {
///     chat: UseEventSourceHandle<Chat>,
/// }
///
/// #[function_component]
/// fn Line(props: &LineProps) -> Html {
///     html! { <p>{ props.chat.message().map(|m| m.data.text) }</p> }
/// }
///
/// #[function_component]
/// fn Room() -> Html {
///     let chat = use_event_source::<Chat>("/events?channel=room", "chat");
///     html! { <Line chat={chat} /> }
/// }
/// ```
impl<T: PartialEq> PartialEq for UseEventSourceHandle<T> {
    fn eq(&self, other: &Self) -> bool {
        // (Yew's state handles compare the values of the render that made them; their
        // `Deref` reads the latest.)
        Rc::ptr_eq(&self.source, &other.source)
            && self.key == other.key
            && self.state == other.state
            && self.message == other.message
            && self.error == other.error
    }
}

impl<T> std::fmt::Debug for UseEventSourceHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let latest = self.latest.borrow();
        f.debug_struct("UseEventSourceHandle")
            .field("state", &*latest.state)
            .field("has_message", &latest.message.is_some())
            .field("error", &*latest.error)
            .finish_non_exhaustive()
    }
}

impl<T> UseEventSourceHandle<T> {
    /// Whether this handle's render brought a URL, type or options whose connection
    /// the effect has not opened yet.
    fn stale(&self) -> bool {
        self.key > *self.opened.borrow()
    }
}

impl<T: Clone> UseEventSourceHandle<T> {
    /// The latest connection state, as [`EventSource::on_state`] reports it.
    /// `Connecting { attempt: 0 }` until the connection opens, and in the render
    /// that brings a new URL (or event type, or options), before its connection opens;
    /// `Closed { reason: InvalidRequest { .. } }` when the URL or options were refused
    /// (the constructor's message).
    pub fn state(&self) -> ConnectionState {
        if self.stale() {
            return ConnectionState::Connecting { attempt: 0 };
        }
        (*self.latest.borrow().state).clone()
    }

    /// The latest event of the hook's type that decoded into `T`; `None` until one
    /// arrives. A new URL (or event type, or options) starts it over at
    /// `None`, from the render that brings the change on (the state reads
    /// `Connecting { attempt: 0 }` there, as the new connection's does): nothing of the
    /// old connection shows under the new one. A reconnection to the same URL, by the
    /// browser or by [`reconnect`](Self::reconnect) after a close, keeps it, except in
    /// [request mode](Options::request), where `reconnect` (at any time) asks for a
    /// new answer and starts it over at `None`.
    ///
    /// Yew batches renders: events that arrive in one browser task (a burst, a replay
    /// after a reconnect) render once, with the last of them, and so do events that
    /// arrive while Yew's scheduler yields to the browser (it does after 16 ms of
    /// rendering). Code that must see every
    /// event registers a handler on [`source`](Self::source) instead.
    pub fn message(&self) -> Option<Message<T>> {
        if self.stale() {
            return None;
        }
        (*self.latest.borrow().message).clone()
    }

    /// The latest payload that did not decode; `None` until one arrives. Like [`message`](Self::message), it starts over at `None` with a new
    /// URL, and with a new answer (`reconnect` in request mode).
    pub fn error(&self) -> Option<DecodeError> {
        if self.stale() {
            return None;
        }
        (*self.latest.borrow().error).clone()
    }

    /// The connection the hook holds now; `None` before its effect first ran, and off
    /// the browser. For code that must see every event: a handler registered on it
    /// with [`EventSource::on`] (keep the [`Subscription`](crate::Subscription)). The
    /// handler belongs to this connection: a new URL,
    /// [`reconnect`](Self::reconnect) after a close, or any `reconnect` in request
    /// mode, opens another. The hook opens it in its effect, so read it in an effect
    /// that runs after every render (`use_effect`, after the hook's call): that runs
    /// right after the hook's, before any event of the new connection, and two
    /// `EventSource`s compare equal when they are the same connection (the hook's
    /// handle compares what it shows instead; `examples/yew-chat` does so).
    pub fn source(&self) -> Option<EventSource> {
        self.source.borrow().clone()
    }

    /// Closes the connection ([`EventSource::close`]): the state becomes
    /// `Closed { reason: ClosedByClient }`. [`reconnect`](Self::reconnect), or a new
    /// URL, opens a new one. The connection is opened by an effect, after the first
    /// render: called during that render, `close` finds none and does nothing. It acts
    /// at once, on the connection held now: called with a URL change the next render
    /// has not applied yet, it closes the old connection, and the new URL opens one
    /// all the same.
    pub fn close(&self) {
        let source = self.source.borrow().clone();
        if let Some(source) = source {
            source.close();
        }
    }

    /// Reconnects now ([`EventSource::reconnect`]); once the connection is closed (by
    /// [`close`](Self::close), or for good by the server), opens a new one, which
    /// resumes after the last event the closed one had. In
    /// [request mode](Options::request) it sends the request again for a new answer,
    /// also while the old one streams (which ends), and the message and the error
    /// start over at `None`.
    pub fn reconnect(&self) {
        let source = self.source.borrow().clone();
        match source {
            // (In request mode a new answer, also while the old one streams: the
            // source's own reconnect would cut the answer, resumed or interrupted.)
            Some(source) if !self.request && !source.state().is_closed() => source.reconnect(),
            _ => {
                if self.request {
                    // A new answer: the render that sends the request shows nothing
                    // of the old one (as the React and Vue hooks).
                    let setters =
                        Setters::of(&self.state, &self.message, &self.error, &self.latest);
                    setters.message(None);
                    setters.error(None);
                }
                self.generation.set(self.generation.wrapping_add(1));
            }
        }
    }
}

/// Opens an [`EventSource`] to `url` with the default [`Options`] and follows the
/// events of type `event_type`, decoded from JSON into `T`. The component re-renders
/// on each change; the connection closes when it unmounts and is replaced when `url`
/// changes (the message and the error start over at `None`).
///
/// ```no_run
/// use wasm_eventsource::yew::use_event_source;
/// use yew::prelude::*;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// #[derive(PartialEq, Properties)]
/// struct Props {
///     channel: AttrValue,
/// }
///
/// #[function_component]
/// fn Channel(props: &Props) -> Html {
///     // A new channel, a new URL: the hook reconnects.
///     let chat = use_event_source::<Chat>(format!("/events?channel={}", props.channel), "chat");
///     html! { <p>{ chat.message().map(|m| m.data.text) }</p> }
/// }
/// ```
#[hook]
pub fn use_event_source<T>(
    url: impl Into<String>,
    event_type: impl Into<String>,
) -> UseEventSourceHandle<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    use_event_source_with_options(url, event_type, Options::default())
}

/// [`use_event_source`] with [`Options`]: the transport, the reconnection policy,
/// headers and so on. Options whose settings differ from the last render's replace
/// the connection. Callbacks ([`Options::headers_with`], a policy's
/// [`retry_if`](crate::ReconnectPolicy::retry_if)) count by presence only: options
/// built in the component's body, with new closures at each render, keep the
/// connection, and each attempt calls the latest render's closures. So a new closure
/// alone does not reconnect: when credentials change, call
/// [`reconnect`](UseEventSourceHandle::reconnect) (or pass them with
/// [`Options::header`], compared by value).
///
/// Every other setting is compared by value at each render, so build it the same way
/// each time: a body, header or last event id that differs from one render to the next
/// (a map serialised in no fixed order, the last id kept in the component's state)
/// reconnects at each render, and each event renders again: a connection opened anew
/// at every event, and in [request mode](Options::request) the request sent again.
/// Keep such a value in `use_state` or `use_memo`, or pass the last id by the
/// connection's own resume (it sends `Last-Event-ID` itself).
///
/// ```no_run
/// use wasm_eventsource::yew::use_event_source_with_options;
/// use wasm_eventsource::{Options, Transport};
/// use yew::prelude::*;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// #[function_component]
/// fn Feed() -> Html {
///     let options = Options::new().transport(Transport::Fetch);
///     let chat = use_event_source_with_options::<Chat>("/events?channel=chat", "chat", options);
///     html! { <p>{ chat.state().kind() }</p> }
/// }
/// ```
#[hook]
pub fn use_event_source_with_options<T>(
    url: impl Into<String>,
    event_type: impl Into<String>,
    options: Options,
) -> UseEventSourceHandle<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    let latest = use_mut_ref(|| Latest {
        state: Rc::new(ConnectionState::Connecting { attempt: 0 }),
        message: Rc::new(None::<Message<T>>),
        error: Rc::new(None::<DecodeError>),
    });
    let state = use_state({
        let latest = Rc::clone(&latest);
        move || Rc::clone(&latest.borrow().state)
    });
    let message = use_state({
        let latest = Rc::clone(&latest);
        move || Rc::clone(&latest.borrow().message)
    });
    let error = use_state({
        let latest = Rc::clone(&latest);
        move || Rc::clone(&latest.borrow().error)
    });
    let source = use_mut_ref(|| None::<EventSource>);
    let generation = use_state(|| 0u32);
    // This render's options: the connection's callbacks call theirs.
    let latest_options = use_mut_ref(|| options.clone());
    latest_options.replace(options.clone());
    // What the open connection was opened for: the URL, the event type and the options,
    // and their number (see `UseEventSourceHandle::key`).
    let opened = use_mut_ref(|| None::<(String, String, Settings)>);
    let opened_key = use_mut_ref(|| 0u64);
    // The last event id of the connection the effect's cleanup closed: a feed opened
    // again by `reconnect()` goes on after it.
    let resume = use_mut_ref(|| None::<String>);
    // The generation the open connection was opened at: a request's new one is a new
    // answer (`reconnect`).
    let opened_generation = use_mut_ref(|| *generation);

    let request = options.request;
    let (url, event_type, settings) = (url.into(), event_type.into(), Settings(options));
    // Until the effect below opens this render's connection, what the hook holds is the
    // old one's: not shown when this render brings another URL, type or options (as the
    // React hook shows a new key's initial view in the render that brings it).
    let stale = opened
        .borrow()
        .as_ref()
        .is_some_and(|(u, t, s)| *u != url || *t != event_type || *s != settings);
    let key = *opened_key.borrow() + u64::from(stale);
    let opened_now = Rc::clone(&opened_key);

    let setters = Setters::of(&state, &message, &error, &latest);
    let slot = Rc::clone(&source);
    use_effect_with(
        (url, event_type, settings, *generation),
        move |(url, event_type, settings, generation)| {
            // The render that brought a new URL, event type or options (not a reopening
            // after a close) showed nothing of the old connection: its values go, as in
            // the React and Vue hooks. The old one's handlers are gone: the last run's
            // cleanup (below) ran first.
            *opened.borrow_mut() = Some((
                url.clone(),
                event_type.clone(),
                Settings(settings.0.clone()),
            ));
            *opened_now.borrow_mut() = key;
            // A new answer: `reconnect()` cleared them, but the old source, open until
            // the cleanup before this run, may have set them again meanwhile (the rest
            // of a chunk, events before the render).
            let regenerated = request && opened_generation.replace(*generation) != *generation;
            if stale || regenerated {
                setters.message(None);
                setters.error(None);
            }
            let options = settings.0.calling_latest(&latest_options);
            // Reopened by `reconnect()` (the same URL, type and options): after the
            // last event the closed connection had (not a request's: a new answer).
            let from = resume.borrow_mut().take().filter(|_| !stale && !request);
            let options = options.resuming_after(from);
            let subs = open(url, event_type, &options, setters, &slot);
            // Unmount, or new dependencies: drop the handlers first, so the old
            // source's `Closed` does not reach the state, then close it.
            move || {
                drop(subs);
                let old = slot.borrow_mut().take();
                if let Some(old) = old {
                    *resume.borrow_mut() = Some(old.last_event_id());
                    old.close();
                }
            }
        },
    );

    UseEventSourceHandle {
        state,
        message,
        error,
        latest,
        source,
        generation,
        key,
        opened: opened_key,
        request,
    }
}

/// Options as the hook compares them from render to render: by their settings, the
/// callbacks by presence only (the connection calls the latest render's).
struct Settings(Options);

impl PartialEq for Settings {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_settings(&other.0)
    }
}

/// The latest state, message and error, shared by every handle of the hook, which
/// reads them here. (Yew's `UseStateHandle` keeps each value its `Deref` reads, for
/// the handle's life: a handle kept in a callback or an interval and read on every
/// event held every message it had read.)
struct Latest<T> {
    state: Rc<ConnectionState>,
    message: Rc<Option<Message<T>>>,
    error: Rc<Option<DecodeError>>,
}

/// Where the handlers put what they hear: `latest`, and the component's state, which
/// renders it again.
struct Setters<T> {
    state: UseStateSetter<Rc<ConnectionState>>,
    message: UseStateSetter<Rc<Option<Message<T>>>>,
    error: UseStateSetter<Rc<Option<DecodeError>>>,
    latest: Rc<RefCell<Latest<T>>>,
}

impl<T> Clone for Setters<T> {
    fn clone(&self) -> Self {
        Setters {
            state: self.state.clone(),
            message: self.message.clone(),
            error: self.error.clone(),
            latest: Rc::clone(&self.latest),
        }
    }
}

impl<T> Setters<T> {
    /// The setters of a hook's state handles and its `latest` cell.
    fn of(
        state: &UseStateHandle<Rc<ConnectionState>>,
        message: &UseStateHandle<Rc<Option<Message<T>>>>,
        error: &UseStateHandle<Rc<Option<DecodeError>>>,
        latest: &Rc<RefCell<Latest<T>>>,
    ) -> Self {
        Setters {
            state: state.setter(),
            message: message.setter(),
            error: error.setter(),
            latest: Rc::clone(latest),
        }
    }

    fn state(&self, state: ConnectionState) {
        let state = Rc::new(state);
        self.latest.borrow_mut().state = Rc::clone(&state);
        self.state.set(state);
    }

    fn message(&self, message: Option<Message<T>>) {
        let message = Rc::new(message);
        self.latest.borrow_mut().message = Rc::clone(&message);
        self.message.set(message);
    }

    fn error(&self, error: Option<DecodeError>) {
        let error = Rc::new(error);
        self.latest.borrow_mut().error = Rc::clone(&error);
        self.error.set(error);
    }
}

/// Opens the source, registers the handlers and keeps the source in `slot`. Returns
/// the subscriptions. Opens nothing outside wasm32 (no browser to connect from).
fn open<T: DeserializeOwned + 'static>(
    url: &str,
    event_type: &str,
    options: &Options,
    setters: Setters<T>,
    slot: &Rc<RefCell<Option<EventSource>>>,
) -> Vec<Subscription> {
    if !cfg!(target_arch = "wasm32") {
        return Vec::new();
    }
    let source = match EventSource::with_options(url, options.clone()) {
        Ok(source) => source,
        Err(err) => {
            // An invalid URL or options: no source to report it, so the hook does.
            setters.state(ConnectionState::Closed {
                reason: CloseReason::InvalidRequest {
                    message: err.to_string(),
                },
            });
            return Vec::new();
        }
    };
    let on_state = setters.clone();
    let subs = vec![
        source.on_state(move |s| on_state.state(s.clone())),
        source.on::<T>(event_type, move |result| match result {
            Ok(msg) => setters.message(Some(msg)),
            Err(err) => setters.error(Some(err)),
        }),
    ];
    *slot.borrow_mut() = Some(source);
    subs
}
