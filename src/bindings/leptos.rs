//! Leptos hooks (feature `leptos`, Leptos 0.8): [`use_event_source`] and
//! [`use_event_source_with_options`].
//!
//! The hooks only bind an [`EventSource`] to the reactive owner that calls them: the
//! decoding, the connection states and the reconnections are the core's. The
//! connection opens when the component's effects first run, is replaced when the URL
//! signal changes, and closes when the owner is cleaned up.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use serde::Deserialize;
//! use wasm_eventsource::leptos::use_event_source;
//!
//! #[derive(Clone, Deserialize)]
//! struct Chat {
//!     user: String,
//!     text: String,
//! }
//!
//! #[component]
//! fn Feed() -> impl IntoView {
//!     let chat = use_event_source::<Chat>("/events?channel=chat", "chat");
//!     view! {
//!         <p>{move || chat.state.get().to_string()}</p>
//!         <p>{move || chat.message.get().map(|m| format!("{}: {}", m.data.user, m.data.text))}</p>
//!         <button on:click=move |_| chat.close()>"close"</button>
//!     }
//! }
//! ```
//!
//! Under server-side rendering, and on any target other than `wasm32`, the hooks open
//! nothing: `state` stays `Connecting { attempt: 0 }` and the other signals `None`.
//! Effects (and so connections) run only with Leptos's `csr` or `hydrate` feature, as
//! a browser app has.

use crate::Subscription;
use crate::{CloseReason, ConnectionState, DecodeError, EventSource, Message, Options};
use ::leptos::prelude::{on_cleanup, Effect, Get, RwSignal, Set, Signal, WithUntracked};
#[cfg(target_arch = "wasm32")]
use ::leptos::prelude::{LocalStorage, StoredValue, WithValue};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;

/// Registers one handler (or state observer) on a source; run again on each new one.
type Binder = Rc<dyn Fn(&EventSource) -> Subscription>;

/// Forgets what the last source said: run when a new URL's source opens.
type Reset = Rc<dyn Fn()>;

/// What the hook keeps between renders: the options, the live source, and what to
/// register on each source it opens.
struct Conn {
    options: Options,
    /// The URL of the current source, once one was opened.
    url: Option<String>,
    source: Option<EventSource>,
    /// The subscriptions on `source`, each with the id of the binder that made it.
    subs: Vec<(u64, Subscription)>,
    /// What to register on each source, by id (the hook's own are 0 and 1), and what
    /// to clear when a new URL's source opens.
    binders: Vec<(u64, Binder, Reset)>,
    /// The id of the next binder.
    next: u64,
    /// The number of the `reconnect()` whose connection is to open (a microtask
    /// later), if one is: `close`, `shut`, `open` and a later `reconnect()` take it
    /// back.
    pending: Option<u64>,
    /// The number of the last `reconnect()`.
    reconnects: u64,
}

type Shared = Rc<RefCell<Conn>>;

/// Where a hook keeps its [`Conn`]. In the browser, a local stored value of the
/// owner. Anywhere else, as under server-side rendering, nothing: no connection is
/// ever opened there, and a render may move between threads, where a value tied to
/// the thread that made it would panic when the owner is cleaned up or dropped.
#[derive(Clone, Copy)]
struct Store(#[cfg(target_arch = "wasm32")] StoredValue<Shared, LocalStorage>);

impl Store {
    fn new(shared: Shared) -> Self {
        #[cfg(target_arch = "wasm32")]
        return Store(StoredValue::new_local(shared));
        #[cfg(not(target_arch = "wasm32"))]
        {
            drop(shared);
            Store()
        }
    }

    /// The hook's [`Conn`], while its owner lives (and never off the browser).
    fn get(self) -> Option<Shared> {
        #[cfg(target_arch = "wasm32")]
        return self.0.try_with_value(Rc::clone);
        #[cfg(not(target_arch = "wasm32"))]
        None
    }
}

/// The connection of [`use_event_source`] as signals, plus its controls. `Copy`: pass
/// it into as many closures as you like.
///
/// ```no_run
/// use leptos::prelude::*;
/// use wasm_eventsource::leptos::{use_event_source, UseEventSource};
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Tick {
///     n: u64,
/// }
///
/// #[component]
/// fn Ticks() -> impl IntoView {
///     let ticks: UseEventSource<Tick> = use_event_source("/events?channel=ticker", "tick");
///     let errors = move || ticks.error.get().map(|e| e.to_string());
///     view! {
///         <p>{move || ticks.message.get().map(|m| m.data.n)}</p>
///         <p>{errors}</p>
///         <button on:click=move |_| ticks.reconnect()>"reconnect"</button>
///     }
/// }
/// ```
pub struct UseEventSource<T: Send + Sync + 'static> {
    /// The connection state, as [`EventSource::on_state`] reports it.
    /// `Connecting { attempt: 0 }` until the connection opens; `Closed { reason:
    /// InvalidRequest { .. } }` when the URL or options were refused (the
    /// constructor's message).
    pub state: Signal<ConnectionState>,
    /// The latest event of the hook's type that decoded into `T`; `None` until one
    /// arrives. A new URL sets it back to `None` when the hook opens the new connection
    /// (in an effect, right after the URL signal changes), and nothing of the old
    /// connection reaches it after that. A reconnection to the same URL, by the
    /// browser or by [`reconnect`](Self::reconnect) after a close, keeps it, except in
    /// [request mode](crate::Options::request), where `reconnect` (at any time) asks
    /// for a new answer and sets it back to `None`.
    ///
    /// A signal holds one value: events that arrive in one browser task (a burst, a
    /// replay after a reconnect) reach effects as the last of them. Code that must see
    /// every event registers a handler on [`source`](Self::source) instead.
    pub message: Signal<Option<Message<T>>>,
    /// The latest payload that did not decode, for the hook's type or any type added
    /// with [`on`](Self::on) (its `target` and `data` say which it was); `None` until
    /// one arrives. Like `message`, it goes back to `None` when a new URL's connection
    /// opens, or a new answer's in request mode.
    pub error: Signal<Option<DecodeError>>,
    conn: Store,
    /// The URL as given: a reconnection whose URL changed meanwhile is the effect's.
    url: Signal<String>,
    state_rw: RwSignal<ConnectionState>,
    error_rw: RwSignal<Option<DecodeError>>,
}

impl<T: Send + Sync + 'static> Clone for UseEventSource<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UseEventSource<T> {}

impl<T: Send + Sync + 'static> std::fmt::Debug for UseEventSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseEventSource")
            .field(
                "url",
                &self
                    .with_conn(|c| c.url.as_deref().map(crate::source::without_credentials))
                    .flatten(),
            )
            .finish_non_exhaustive()
    }
}

/// Opens an [`EventSource`] to `url` with the default [`Options`] and follows the
/// events of type `event_type`, decoded from JSON into `T`, as signals.
///
/// `url` is a `&str`, a `String` or any `Signal<String>`: when the signal changes to
/// another URL the connection is replaced by one to the new URL, and the event and
/// error signals start over at `None`. The connection closes when the reactive owner
/// that called the hook (the component) is cleaned up.
///
/// ```no_run
/// use leptos::prelude::*;
/// use wasm_eventsource::leptos::use_event_source;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// #[component]
/// fn Channel() -> impl IntoView {
///     let channel = RwSignal::new("chat".to_owned());
///     let url = Signal::derive(move || format!("/events?channel={}", channel.get()));
///     // Changing `channel` reconnects to the new URL.
///     let chat = use_event_source::<Chat>(url, "chat");
///     view! {
///         <button on:click=move |_| channel.set("news".into())>"news"</button>
///         <p>{move || chat.message.get().map(|m| m.data.text)}</p>
///     }
/// }
/// ```
pub fn use_event_source<T>(
    url: impl Into<Signal<String>>,
    event_type: impl Into<String>,
) -> UseEventSource<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_event_source_with_options(url, event_type, Options::default())
}

/// [`use_event_source`] with [`Options`]: the transport, the reconnection policy,
/// headers and so on. Each connection the hook opens uses them: they are taken once,
/// at the call (only the URL is a signal), so a request body that changes (a new
/// prompt) goes in the URL, or in a component keyed on it, which calls the hook again.
///
/// ```no_run
/// use leptos::prelude::*;
/// use wasm_eventsource::leptos::use_event_source_with_options;
/// use wasm_eventsource::{Options, Transport};
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Chat {
///     user: String,
///     text: String,
/// }
///
/// #[component]
/// fn Feed() -> impl IntoView {
///     let options = Options::new().transport(Transport::Fetch);
///     let chat = use_event_source_with_options::<Chat>("/events?channel=chat", "chat", options);
///     view! { <p>{move || chat.state.get().kind()}</p> }
/// }
/// ```
pub fn use_event_source_with_options<T>(
    url: impl Into<Signal<String>>,
    event_type: impl Into<String>,
    options: Options,
) -> UseEventSource<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let url: Signal<String> = url.into();
    let event_type: String = event_type.into();
    let state = RwSignal::new(ConnectionState::Connecting { attempt: 0 });
    let message = RwSignal::new(None::<Message<T>>);
    let error = RwSignal::new(None::<DecodeError>);

    let state_binder: Binder = Rc::new(move |source: &EventSource| {
        source.on_state(move |s| {
            // `try_set`: after the owner is disposed the signal is gone; nothing to do.
            let _ = state.try_set(s.clone());
        })
    });
    let conn: Shared = Rc::new(RefCell::new(Conn {
        options,
        url: None,
        source: None,
        subs: Vec::new(),
        binders: vec![
            (0, state_binder, Rc::new(|| {})),
            (
                1,
                typed_binder(event_type, message, error),
                Rc::new(move || {
                    clear(message);
                    clear(error);
                }),
            ),
        ],
        next: 2,
        pending: None,
        reconnects: 0,
    }));
    let conn = Store::new(conn);

    // Opens the first connection, and a new one whenever the URL changes. Effects run
    // only in the browser (Leptos's `csr` and `hydrate` features), never under SSR.
    Effect::new(move |previous: Option<String>| {
        let url = url.get();
        if previous.as_deref() != Some(url.as_str()) {
            if let Some(shared) = conn.get() {
                open(&shared, &url, state);
            }
        }
        url
    });
    on_cleanup(move || {
        if let Some(shared) = conn.get() {
            shut(&shared);
        }
    });

    UseEventSource {
        state: state.into(),
        message: message.into(),
        error: error.into(),
        conn,
        url,
        state_rw: state,
        error_rw: error,
    }
}

impl<T: Send + Sync + 'static> UseEventSource<T> {
    /// Follows another event type on the same connection, decoded into its own type
    /// `U`: a signal of the latest such event. Its decode errors go to
    /// [`error`](Self::error). It follows the connection across URL changes (like
    /// [`message`](Self::message), it goes back to `None` when a new URL's connection
    /// opens, or a new answer's in request mode), until the reactive owner that called
    /// `on` is cleaned up (a child component that was handed the hook can follow a type
    /// for as long as it is mounted).
    ///
    /// ```no_run
    /// use leptos::prelude::*;
    /// use wasm_eventsource::leptos::use_event_source;
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Chat {
    ///     text: String,
    /// }
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Presence {
    ///     online: u32,
    /// }
    ///
    /// #[component]
    /// fn Room() -> impl IntoView {
    ///     let chat = use_event_source::<Chat>("/events?channel=chat", "chat");
    ///     let presence = chat.on::<Presence>("presence");
    ///     view! { <p>{move || presence.get().map(|m| m.data.online)}</p> }
    /// }
    /// ```
    pub fn on<U>(&self, event_type: impl Into<String>) -> Signal<Option<Message<U>>>
    where
        U: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let latest = RwSignal::new(None::<Message<U>>);
        let binder = typed_binder(event_type.into(), latest, self.error_rw);
        if let Some(shared) = self.shared() {
            let (id, source) = {
                let mut conn = shared.borrow_mut();
                let id = conn.next;
                conn.next += 1;
                let reset: Reset = Rc::new(move || clear(latest));
                conn.binders.push((id, Rc::clone(&binder), reset));
                (id, conn.source.clone())
            };
            // Register outside the borrow: the core may call back at once.
            if let Some(source) = source {
                let sub = binder(&source);
                shared.borrow_mut().subs.push((id, sub));
            }
            // The caller's owner going (a child component unmounted) ends this type's
            // handler, not only the hook's own.
            let store = self.conn;
            on_cleanup(move || {
                if let Some(shared) = store.get() {
                    let gone = {
                        let mut conn = shared.borrow_mut();
                        conn.binders.retain(|(i, _, _)| *i != id);
                        let at = conn.subs.iter().position(|(i, _)| *i == id);
                        at.map(|at| conn.subs.remove(at))
                    };
                    // Unsubscribe outside the borrow.
                    drop(gone);
                }
            });
        }
        latest.into()
    }

    /// The connection the hook holds now; `None` before its effect first ran, and off
    /// the browser. For code that must see every event: a handler registered on it
    /// with [`EventSource::on`] (keep the [`Subscription`](crate::Subscription)). The
    /// handler belongs to this connection: a URL change,
    /// [`reconnect`](Self::reconnect) after a close, or any `reconnect` in request
    /// mode, opens another.
    pub fn source(&self) -> Option<EventSource> {
        self.with_conn(|c| c.source.clone()).flatten()
    }

    /// Closes the connection ([`EventSource::close`]): `state` becomes
    /// `Closed { reason: ClosedByClient }`. A later URL change, or
    /// [`reconnect`](Self::reconnect), opens a new one. The connection is opened by an
    /// effect, after the component's body: called in the body itself, before that,
    /// `close` finds none and does nothing. It acts at once, on the connection held
    /// now: called with a URL change the effect has not applied yet, it closes the
    /// old connection, and the new URL opens one all the same.
    pub fn close(&self) {
        let Some(shared) = self.shared() else { return };
        let (source, cancelled) = {
            let mut conn = shared.borrow_mut();
            // A `reconnect()` of the same handler opens nothing after this.
            (conn.source.clone(), conn.pending.take().is_some())
        };
        if let Some(source) = source {
            source.close();
        }
        if cancelled {
            // That `reconnect()` said `Connecting`; the source it found may have been
            // closed already, and says nothing more.
            let _ = self.state_rw.try_set(ConnectionState::Closed {
                reason: CloseReason::ClosedByClient,
            });
        }
    }

    /// Reconnects now ([`EventSource::reconnect`]); once the connection is closed (by
    /// [`close`](Self::close), or for good by the server), opens a new one to the
    /// current URL, which resumes after the last event the closed one had. In
    /// [request mode](crate::Options::request) it sends the request again for a new
    /// answer, also while the old one streams (which ends), and the message, the error
    /// and each [`on`](Self::on) signal start over at `None` at once.
    ///
    /// Where it opens a new connection (once closed, and in request mode), it does so
    /// a microtask later, after the effects the handler's other changes woke: with a
    /// URL change in the same handler, before or after this call, the new URL is
    /// opened, once, and the old one's request is not sent again; a
    /// [`close`](Self::close) after it in the same handler, or an unmount, leaves it
    /// closed; of several calls, one connection opens. `state` reads
    /// `Connecting { attempt: 0 }` from the call on.
    pub fn reconnect(&self) {
        let Some(shared) = self.shared() else { return };
        let (source, url, request) = {
            let conn = shared.borrow();
            (conn.source.clone(), conn.url.clone(), conn.options.request)
        };
        match (source, url) {
            // (In request mode a new answer, also while the old one streams: the
            // source's own reconnect would cut the answer, resumed or interrupted.)
            (Some(source), _) if !request && !source.state().is_closed() => source.reconnect(),
            (_, Some(url)) => {
                // Nothing of the old connection reaches the signals from now on (the rest
                // of a chunk being delivered, its end): its handlers go now, the source
                // itself when the new one opens (which resumes after its id), or with
                // `close()` or the cleanup.
                let (old_subs, binders) = {
                    let mut conn = shared.borrow_mut();
                    let binders = request.then(|| conn.binders.clone());
                    (std::mem::take(&mut conn.subs), binders.unwrap_or_default())
                };
                drop(old_subs);
                // As the React and Vue hooks: nothing of the old answer shows.
                for (_, _, reset) in &binders {
                    reset();
                }
                let _ = self
                    .state_rw
                    .try_set(ConnectionState::Connecting { attempt: 0 });
                // Its attempt would start in a task queued now, before the effect of a
                // URL set after this call, which replaces it: the old URL's request sent
                // and cut at once. Opened after that effect, unless it opened another.
                // Only the last of several in one handler opens a connection.
                let mine = {
                    let mut conn = shared.borrow_mut();
                    conn.reconnects = conn.reconnects.wrapping_add(1);
                    conn.pending = Some(conn.reconnects);
                    conn.reconnects
                };
                let (state, current) = (self.state_rw, self.url);
                crate::transport::dom::spawn(async move {
                    YieldOnce(false).await;
                    // Still to open: not closed, unmounted, opened by the effect (whose
                    // `open` takes it back) or asked again since, and the URL signal
                    // still gives this one.
                    let ours = shared.borrow().pending == Some(mine)
                        && current
                            .try_with_untracked(|current| *current == url)
                            .unwrap_or(false);
                    if ours {
                        open(&shared, &url, state);
                    }
                });
            }
            // Not opened yet (no effect ran, as under SSR): nothing to reconnect.
            (_, None) => {}
        }
    }

    fn shared(&self) -> Option<Shared> {
        self.conn.get()
    }

    fn with_conn<R>(&self, f: impl FnOnce(&Conn) -> R) -> Option<R> {
        self.shared().map(|shared| f(&shared.borrow()))
    }
}

/// A binder that sends the events of `event_type`, decoded into `U`, to `latest`, and
/// decode errors to `error`.
fn typed_binder<U>(
    event_type: String,
    latest: RwSignal<Option<Message<U>>>,
    error: RwSignal<Option<DecodeError>>,
) -> Binder
where
    U: DeserializeOwned + Send + Sync + 'static,
{
    Rc::new(move |source: &EventSource| {
        source.on::<U>(&event_type, move |result| match result {
            Ok(msg) => {
                let _ = latest.try_set(Some(msg));
            }
            Err(err) => {
                let _ = error.try_set(Some(err));
            }
        })
    })
}

/// Sets `signal` to `None`, unless it is already (its readers hear of no change then);
/// nothing once its owner is gone.
fn clear<V: Send + Sync + 'static>(signal: RwSignal<Option<V>>) {
    if signal.try_with_untracked(Option::is_some) == Some(true) {
        let _ = signal.try_set(None);
    }
}

/// Replaces the hook's source by a new one to `url`, registering every binder on it.
/// A new URL first clears the event and error signals, and so does a reopening of the
/// same URL in request mode (a new answer); one in subscription mode
/// ([`UseEventSource::reconnect`] after a close) keeps them. Does nothing else outside
/// wasm32 (no browser to connect from).
fn open(shared: &Shared, url: &str, state: RwSignal<ConnectionState>) {
    // Drop the old source's subscriptions first, so its `Closed` does not reach the
    // signals, then the source itself (which closes it): from here on nothing of it
    // reaches the signals.
    let (old_subs, old_source, options, binders, moved) = {
        let mut conn = shared.borrow_mut();
        conn.pending = None;
        // A new URL, or a request sent again for a new answer (`reconnect()` once
        // closed, in request mode: "regenerate").
        let moved = conn.url.as_deref().is_some_and(|old| old != url)
            || (conn.options.request && conn.source.is_some());
        conn.url = Some(url.to_owned());
        (
            std::mem::take(&mut conn.subs),
            conn.source.take(),
            conn.options.clone(),
            conn.binders.clone(),
            moved,
        )
    };
    drop(old_subs);
    // A feed opened again (`reconnect()` once closed) goes on after its last event (an
    // empty id too, which an `id:` with no value set: not the options' own).
    let resume = old_source
        .as_ref()
        .filter(|_| !moved && !options.request)
        .map(EventSource::last_event_id);
    if let Some(old) = old_source {
        old.close();
    }
    let options = options.resuming_after(resume);
    // As the React and Vue hooks: what the old URL sent does not show under the new
    // one, nor the old answer under the new. Cleared before the new source's handlers
    // are registered, outside the borrow (a signal's effects may read the hook).
    if moved {
        for (_, _, reset) in &binders {
            reset();
        }
    }
    if !cfg!(target_arch = "wasm32") {
        return;
    }
    match EventSource::with_options(url, options) {
        Ok(source) => {
            let subs: Vec<_> = binders
                .iter()
                .map(|(id, bind, _)| (*id, bind(&source)))
                .collect();
            let mut conn = shared.borrow_mut();
            conn.source = Some(source);
            conn.subs = subs;
        }
        // An invalid URL or options: no source to report it, so the hook does.
        Err(err) => {
            let _ = state.try_set(ConnectionState::Closed {
                reason: CloseReason::InvalidRequest {
                    message: err.to_string(),
                },
            });
        }
    }
}

/// Closes the hook's source for good: the owner is being cleaned up.
fn shut(shared: &Shared) {
    let (subs, source) = {
        let mut conn = shared.borrow_mut();
        conn.pending = None;
        conn.binders.clear();
        (std::mem::take(&mut conn.subs), conn.source.take())
    };
    // The subscriptions first, as in `open`: the `Closed` of the source must not reach
    // the signals, which are being disposed (an effect elsewhere that read one would be
    // woken to find it gone).
    drop(subs);
    if let Some(source) = source {
        source.close();
    }
}

/// Pending once: the task that awaits it runs again after the tasks queued meanwhile
/// (wasm-bindgen-futures runs its queue in order, Leptos's effects in it).
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use ::leptos::prelude::{GetUntracked, Owner};

    /// Server-side rendering: no effects run, no browser. The hook must open nothing,
    /// report its initial values and survive its controls and its cleanup.
    #[test]
    fn under_ssr_the_hook_opens_nothing_and_does_not_panic() {
        let owner = Owner::new();
        owner.with(|| {
            let hook = use_event_source::<u32>("http://127.0.0.1:1/events", "tick");
            let other = hook.on::<String>("other");
            hook.reconnect();
            hook.close();
            assert_eq!(
                hook.state.get_untracked(),
                ConnectionState::Connecting { attempt: 0 }
            );
            assert_eq!(hook.message.get_untracked(), None);
            assert_eq!(hook.error.get_untracked(), None);
            assert_eq!(other.get_untracked(), None);
        });
        owner.cleanup();
    }

    #[test]
    fn under_ssr_the_owner_can_be_cleaned_up_and_dropped_on_another_thread() {
        // What broke: the hook kept its connection in a value tied to the thread that
        // made it, so a server render that moved between threads (a multi-threaded
        // runtime) panicked when its owner was cleaned up or dropped on another one.
        let owner = Owner::new();
        owner.with(|| {
            let hook = use_event_source::<u32>("http://127.0.0.1:1/events", "tick");
            let _other = hook.on::<String>("other");
        });
        let cleaned = std::thread::spawn(move || {
            owner.cleanup();
            drop(owner);
        })
        .join();
        assert!(cleaned.is_ok(), "cleaning up on another thread panicked");
    }
}
