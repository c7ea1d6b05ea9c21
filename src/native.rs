//! The transport over the browser's own `EventSource`.
//!
//! The browser parses the stream and reconnects by itself; this module turns its
//! `open`/`error` events and `readyState` into [`ConnectionState`]s and its message
//! events into [`RawEvent`]s. Every listener is a [`Listener`] guard, removed on drop.

use crate::error::{Error, JsError};
use crate::event::RawEvent;
use crate::parse::Event;
use crate::source::Inner;
use crate::state::{CloseReason, ConnectionState, Health, ReconnectCause};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventTarget, MessageEvent};

/// An event listener that is removed when dropped.
#[must_use = "the listener is removed when this is dropped"]
pub(crate) struct Listener {
    target: EventTarget,
    event_type: String,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        event_type: &str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        // addEventListener only throws for a non-callable listener, which a Closure never is.
        let _ =
            target.add_event_listener_with_callback(event_type, callback.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            event_type: event_type.to_owned(),
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            &self.event_type,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}

/// What the listeners share: the browser object and the health of the connection.
struct Shared {
    es: web_sys::EventSource,
    source: Weak<Inner>,
    health: Health,
}

/// A running native connection. Dropping it closes the browser's EventSource and
/// removes every listener.
pub(crate) struct Native {
    shared: Rc<Shared>,
    _open: Listener,
    _error: Listener,
    messages: RefCell<HashMap<String, Listener>>,
}

impl Native {
    /// Opens the browser's EventSource for `inner`. Message listeners are added per
    /// event type by [`listen`](Self::listen) as handlers are registered.
    pub fn open(inner: &Rc<Inner>) -> Result<Self, Error> {
        let options = inner.options();
        let init = web_sys::EventSourceInit::new();
        init.set_with_credentials(options.with_credentials);
        let url = with_last_event_id(inner.url(), &options.last_event_id)?;
        let es = web_sys::EventSource::new_with_event_source_init_dict(&url, &init)
            .map_err(|e| Error::Browser(JsError::from(e)))?;

        let shared = Rc::new(Shared {
            es: es.clone(),
            source: Rc::downgrade(inner),
            health: Health::default(),
        });
        let target: &EventTarget = es.as_ref();
        let on_open = {
            let shared = Rc::clone(&shared);
            move |ev: web_sys::Event| {
                // A server event named "open" is a message, not the connection opening.
                if ev.is_instance_of::<MessageEvent>() {
                    return;
                }
                shared.opened(js_sys::Date::now());
            }
        };
        let on_error = {
            let shared = Rc::clone(&shared);
            move |ev: web_sys::Event| {
                if ev.is_instance_of::<MessageEvent>() {
                    return;
                }
                shared.errored(js_sys::Date::now());
            }
        };
        Ok(Native {
            _open: Listener::new(target, "open", on_open),
            _error: Listener::new(target, "error", on_error),
            shared,
            messages: RefCell::default(),
        })
    }

    /// Starts listening for events of `event_type` (once per type).
    pub fn listen(&self, event_type: &str) {
        let mut messages = self.messages.borrow_mut();
        if messages.contains_key(event_type) {
            return;
        }
        let shared = Rc::clone(&self.shared);
        let listener = Listener::new(self.shared.es.as_ref(), event_type, move |ev| {
            shared.message(ev)
        });
        messages.insert(event_type.to_owned(), listener);
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        self.shared.es.close();
    }
}

impl Shared {
    fn opened(&self, now: f64) {
        self.health.opened(now);
        if let Some(source) = self.source.upgrade() {
            source.state().set(ConnectionState::Open);
        }
    }

    fn errored(&self, now: f64) {
        let Some(source) = self.source.upgrade() else {
            return;
        };
        match self.es.ready_state() {
            // The browser is retrying by itself: that is a reconnection, never a close.
            web_sys::EventSource::CONNECTING => {
                let attempt = self.health.lost(now);
                source.state().set(ConnectionState::Reconnecting {
                    attempt,
                    delay: None,
                    cause: ReconnectCause::ConnectionLost,
                });
            }
            // The browser gave up for good.
            web_sys::EventSource::CLOSED => source.close(CloseReason::Failed),
            _ => {}
        }
    }

    fn message(&self, ev: web_sys::Event) {
        let Some(source) = self.source.upgrade() else {
            return;
        };
        let Ok(ev) = ev.dyn_into::<MessageEvent>() else {
            return;
        };
        // EventSource data is always a string; anything else is not ours to decode.
        let Some(data) = ev.data().as_string() else {
            return;
        };
        self.health.event();
        let event = Event::new(&ev.type_(), &data, &ev.last_event_id());
        source.dispatch(RawEvent::new(event, ev.origin().into()));
    }
}

/// `url` with `lastEventId=<id>` added to its query, for resuming: EventSource cannot
/// send a `Last-Event-ID` header on the first request.
fn with_last_event_id(url: &str, id: &str) -> Result<String, Error> {
    if id.is_empty() {
        return Ok(url.to_owned());
    }
    let parsed = web_sys::Url::new(url).map_err(|e| Error::InvalidUrl {
        url: url.to_owned(),
        reason: JsError::from(e).message().to_owned(),
    })?;
    parsed.search_params().set("lastEventId", id);
    Ok(parsed.href())
}
