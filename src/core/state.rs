//! Connection states, why a connection closed or is reconnecting, and the ordered
//! delivery of state changes to observers.

use crate::core::failure::{is_event_stream, Failure, ReconnectCause};
use crate::core::handlers::Handlers;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// The part a source plays in a connection shared across tabs
/// ([`Options::share_across_tabs`](crate::Options::share_across_tabs)): one of these
/// three, which a `match` names without a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ShareRole {
    /// Not shared: the source holds its own connection.
    #[default]
    Alone,
    /// This source holds the connection that `followers` other sources (in this tab
    /// or others) receive their events from.
    Leader {
        /// How many sources wait for the lock, receiving this one's events.
        followers: u32,
    },
    /// This source receives another tab's (or source's) events; it connects itself
    /// when that one closes.
    Follower,
}

impl ShareRole {
    /// `"alone"`, `"leader"` or `"follower"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ShareRole::Alone => "alone",
            ShareRole::Leader { .. } => "leader",
            ShareRole::Follower => "follower",
        }
    }
}

/// Where a connection is. Observe it with
/// [`EventSource::on_state`](crate::EventSource::on_state).
///
/// ```text
/// new ──> Connecting{attempt:0} ──open──> Open
/// Open ──stream ends / network error / 5xx / stall──> Reconnecting{attempt, delay, cause}
/// Reconnecting ──timer──> Connecting{attempt} ──open──> Open
///     (the attempt resets after a healthy period)
/// Reconnecting{delay: None} ──the browser's own retry (native)──> Open
///     or ──it failed──> Reconnecting{attempt + 1}
/// any ──close() / Drop──> Closed{reason: ClosedByClient}
/// any ──fatal (4xx but 408/429, content type, 204, limits reached)──> Closed{reason}
/// ```
///
/// The four kinds are all there is: a `match` names each, no wildcard arm needed.
///
/// ```
/// use wasm_eventsource::ConnectionState;
///
/// fn label(state: &ConnectionState) -> String {
///     match state {
///         ConnectionState::Connecting { .. } => "connecting…".into(),
///         ConnectionState::Open => "live".into(),
///         ConnectionState::Reconnecting { attempt, .. } => format!("retry {attempt}"),
///         ConnectionState::Closed { reason } => format!("closed: {reason}"),
///     }
/// }
/// assert_eq!(label(&ConnectionState::Open), "live");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// A request is on its way. `attempt` is 0 for the first connection and counts
    /// reconnections since the last healthy one after that.
    Connecting {
        /// Reconnections since the connection was last healthy.
        attempt: u32,
    },
    /// The server answered with an event stream; events flow.
    Open,
    /// The connection was lost and will be retried. This is not an end: the source
    /// goes back to `Open` by itself.
    Reconnecting {
        /// The number of this retry since the connection was last healthy, from 1
        /// after a failure. It is 0 when no failure of this connection led here: a
        /// healthy connection ended on purpose ([`reconnect`](crate::EventSource::reconnect),
        /// a hidden page) or lost while offline, or, shared across tabs, a leader that
        /// went (its tab closed) and the next one connecting, or waiting out first what
        /// the group's server asked for. It resets once a connection has delivered an
        /// event or stayed open for [`HEALTHY_AFTER`](crate::HEALTHY_AFTER).
        attempt: u32,
        /// How long until the retry, as the [`ReconnectPolicy`](crate::ReconnectPolicy)
        /// chose it. `None` while the browser retries by itself (native transport; it
        /// keeps its delay to itself), while the browser is offline (the retry waits for
        /// the network), and while the retry waits for a hidden page to be shown
        /// ([`pause_when_hidden`](crate::Options::pause_when_hidden)). (A page hidden
        /// during a backoff keeps its countdown: it is told `PageHidden` when the
        /// backoff ends, and waits for the page then.)
        delay: Option<Duration>,
        /// What ended the previous connection.
        cause: ReconnectCause,
    },
    /// The source is finished: no more events, no more reconnections.
    Closed {
        /// Why it closed.
        reason: CloseReason,
    },
}

impl ConnectionState {
    /// The browser's `readyState` for this state: 0 connecting (or reconnecting),
    /// 1 open, 2 closed.
    pub fn ready_state(&self) -> u16 {
        match self {
            ConnectionState::Connecting { .. } | ConnectionState::Reconnecting { .. } => 0,
            ConnectionState::Open => 1,
            ConnectionState::Closed { .. } => 2,
        }
    }

    /// Whether events flow now.
    pub fn is_open(&self) -> bool {
        matches!(self, ConnectionState::Open)
    }

    /// Whether the source is finished for good.
    pub fn is_closed(&self) -> bool {
        matches!(self, ConnectionState::Closed { .. })
    }

    /// A short lowercase name: `connecting`, `open`, `reconnecting` or `closed`.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectionState::Connecting { .. } => "connecting",
            ConnectionState::Open => "open",
            ConnectionState::Reconnecting { .. } => "reconnecting",
            ConnectionState::Closed { .. } => "closed",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionState::Connecting { attempt: 0 } => write!(f, "connecting"),
            ConnectionState::Connecting { attempt } => write!(f, "connecting (attempt {attempt})"),
            ConnectionState::Open => write!(f, "open"),
            ConnectionState::Reconnecting {
                attempt,
                delay,
                cause,
            } => {
                write!(f, "reconnecting (attempt {attempt}")?;
                if let Some(delay) = delay {
                    write!(f, " in {} ms", crate::core::retry::millis(*delay))?;
                }
                write!(f, ") after {cause}")
            }
            ConnectionState::Closed { reason } => write!(f, "closed: {reason}"),
        }
    }
}

impl From<Failure> for CloseReason {
    /// A failure the policy does not retry, as the reason the source closed.
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::HttpStatus {
                status,
                status_text,
                body,
                ..
            } => CloseReason::HttpStatus {
                status,
                status_text,
                body,
            },
            Failure::ContentType { content_type } => CloseReason::ContentType { content_type },
            Failure::NoContent => CloseReason::NoContent,
            Failure::Network { .. }
            | Failure::StreamEnded
            | Failure::ConnectionLost
            | Failure::HeartbeatTimeout { .. }
            | Failure::Requested
            | Failure::PageHidden => CloseReason::Failed,
        }
    }
}

/// Why a source closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`EventSource::close`](crate::EventSource::close) was called, or the last handle
    /// was dropped.
    ClosedByClient,
    /// The connection failed in a way that has no more precise reason: the browser
    /// gave up (native) on a request the page aborted (`window.stop()`), on a CORS
    /// rejection, on a URL with credentials (which Chromium refuses to send), or where
    /// the check that followed could not tell why; or the
    /// policy's predicate refused to retry a network error or an ended stream.
    Failed,
    /// The server answered with an HTTP status other than 200 and 204 (fetch; native
    /// as its check of why the browser gave up finds it, without the body).
    HttpStatus {
        /// The status code.
        status: u16,
        /// The status text, such as `Internal Server Error` (may be empty).
        status_text: String,
        /// The response body's text, at most its first
        /// [`ERROR_BODY_LIMIT`](crate::ERROR_BODY_LIMIT) bytes, such as an API's JSON
        /// error (`{"error":{"message":"Rate limit reached"}}`); `None` where it was
        /// not read (native).
        body: Option<String>,
    },
    /// The server answered 200 with a content type other than `text/event-stream`
    /// (fetch; native as its check of why the browser gave up finds it).
    ContentType {
        /// The `Content-Type` it sent (empty when it sent none).
        content_type: String,
    },
    /// The server answered 204 No Content: the SSE way to say "stop reconnecting"
    /// (fetch; native as its check of why the browser gave up finds it).
    NoContent,
    /// The request could not be built, for example a header callback returned an
    /// invalid header name (fetch), or the browser refused to construct the
    /// EventSource (native); or the page's Content Security Policy blocks it (both,
    /// as its violation report says; EventSource closes for good too). The hooks (and
    /// the JS API's) also show it for a URL or options the constructor refused.
    InvalidRequest {
        /// What the browser said.
        message: String,
    },
    /// The [`ReconnectPolicy`](crate::ReconnectPolicy)'s limits on attempts or on time
    /// were reached.
    GaveUp {
        /// The failed retries in a row.
        attempts: u32,
        /// What ended the last attempt.
        cause: ReconnectCause,
    },
    /// The answer is complete ([request mode](crate::Options::request)): the server
    /// ended the response between two events, or sent the
    /// [done data](crate::Options::done_data). A response that ends inside an event
    /// was cut.
    Completed,
    /// The answer ended before it completed ([request mode](crate::Options::request)):
    /// it was cut (the network, the server, a heartbeat timeout), or `reconnect()`
    /// ended it, and the server sent no ids to resume it by: sending the request again
    /// would start the answer over (see [`Options::retry_request`](crate::Options::retry_request)).
    Interrupted {
        /// The events that had arrived (not tokens: an event may carry several).
        received: u64,
    },
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClosedByClient => write!(f, "closed by the client"),
            CloseReason::Failed => write!(
                f,
                "the connection failed and will not be retried (CORS refused the answer, the \
                 page stopped the request, the browser refused the URL, or a Rust policy's \
                 retry_if refused to retry); the browser's console says which: check the \
                 server's CORS headers for this page's origin"
            ),
            CloseReason::HttpStatus {
                status,
                status_text,
                body,
            } => {
                super::failure::answered(f, *status, status_text)?;
                write!(f, "; an event stream needs 200")?;
                super::failure::said(f, body.as_deref())
            }
            // (Native learns the type from the browser, which may not tell it.)
            CloseReason::ContentType { content_type } if content_type.is_empty() => write!(
                f,
                "the server answered 200 without a content type (or the browser did not tell \
                 which); an event stream needs text/event-stream"
            ),
            // (Only native's browser refuses an event stream: for its charset.)
            CloseReason::ContentType { content_type } if is_event_stream(content_type) => write!(
                f,
                "the server answered with content type \"{content_type}\", and the browser's \
                 EventSource refused its charset: it takes UTF-8 only (send charset=utf-8, or \
                 none, or use the fetch transport)"
            ),
            CloseReason::ContentType { content_type } => {
                write!(
                    f,
                    "the server answered with content type \"{content_type}\"; an event stream \
                     needs text/event-stream"
                )?;
                // The usual slip in request mode: a model's whole answer, as JSON.
                if content_type
                    .get(..16)
                    .is_some_and(|t| t.eq_ignore_ascii_case("application/json"))
                {
                    f.write_str(
                        " (in request mode, an API answers JSON when the request did not ask \
                         for a stream: \"stream\": true in the body, for OpenAI's and \
                         Anthropic's)",
                    )?;
                }
                Ok(())
            }
            CloseReason::NoContent => write!(
                f,
                "the server answered 204 No Content: it asked the client to stop"
            ),
            CloseReason::InvalidRequest { message } => {
                write!(f, "the request could not be made: {message}")
            }
            CloseReason::GaveUp { attempts: 0, cause } => {
                write!(f, "gave up at the first failure ({cause}); {LIMITS}")
            }
            CloseReason::GaveUp { attempts, cause } => write!(
                f,
                "gave up after {} failures in a row ({attempts} of them retries; the last: \
                 {cause}); {LIMITS}",
                attempts.saturating_add(1)
            ),
            CloseReason::Completed => write!(f, "the answer is complete"),
            CloseReason::Interrupted { received } => write!(
                f,
                "the answer ended after {received} events before it was complete (it was \
                 cut: the connection lost, the body ended inside an event, or nothing came \
                 within the heartbeat timeout, which a server slow to answer needs raised: \
                 heartbeat_timeout, JS heartbeatMs; or reconnect() ended it), and the server sent no ids to resume it by; \
                 Options::retry_request(true) (JS: retryRequest) sends the request again, \
                 for a new answer"
            ),
        }
    }
}

/// What `GaveUp` says of the limits, and of what to do.
const LIMITS: &str = "the reconnect policy's limits were reached (max_attempts, max_elapsed; JS: \
     retry.maxAttempts, retry.maxElapsedMs); a new source tries again (a hook's reconnect() \
     opens one)";

/// The first `shown` characters of `text`, with `…` when there is more (a body here,
/// 200; a bad option's value, 80).
pub(crate) fn excerpt(text: &str, shown: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(shown) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// The current state and its observers. Every change reaches every observer, in order,
/// even when an observer changes the state from inside its callback: changes made
/// during a delivery are queued and delivered after it.
pub(crate) struct StateCell {
    current: RefCell<ConnectionState>,
    observers: RefCell<Handlers<ConnectionState>>,
    /// States to deliver, each with whom to: see [`To`].
    queue: RefCell<VecDeque<(ConnectionState, To)>>,
    delivering: Cell<bool>,
    /// The id of the newest observer (ids only grow).
    newest: Cell<u64>,
}

/// Whom a queued state goes to.
#[derive(Clone, Copy)]
enum To {
    /// A change: the observers up to this id, those there when it was made (one added
    /// later learns the outcome from its first state).
    UpTo(u64),
    /// One new observer's first state.
    Only(u64),
}

impl Default for StateCell {
    /// Every source starts `Connecting { attempt: 0 }`.
    fn default() -> Self {
        StateCell {
            current: RefCell::new(ConnectionState::Connecting { attempt: 0 }),
            observers: RefCell::default(),
            queue: RefCell::default(),
            delivering: Cell::new(false),
            newest: Cell::new(0),
        }
    }
}

impl StateCell {
    pub fn get(&self) -> ConnectionState {
        self.current.borrow().clone()
    }

    pub fn is_closed(&self) -> bool {
        self.current.borrow().is_closed()
    }

    /// Moves to `state` and tells every observer. `Closed` is final: later changes are
    /// ignored. Returns whether the state changed.
    pub fn set(&self, state: ConnectionState) -> bool {
        if self.is_closed() || *self.current.borrow() == state {
            return false;
        }
        *self.current.borrow_mut() = state.clone();
        let to = To::UpTo(self.newest.get());
        self.queue.borrow_mut().push_back((state, to));
        self.deliver();
        true
    }

    /// Adds an observer and hands it the current state at once (once closed, that is
    /// all: it is not kept). Ids must grow from call to call.
    pub fn observe(&self, id: u64, f: Box<dyn FnMut(&ConnectionState)>) {
        self.observers.borrow_mut().push(id, f);
        self.newest.set(id);
        self.queue
            .borrow_mut()
            .push_back((self.get(), To::Only(id)));
        self.deliver();
    }

    /// Removes an observer; returns whether it was there. The observer is dropped after
    /// the list's borrow ends, since it may own another state subscription.
    pub fn remove(&self, id: u64) -> bool {
        let removed = self.observers.borrow_mut().remove(id);
        let was_there = removed.is_some();
        drop(removed);
        was_there
    }

    fn deliver(&self) {
        if self.delivering.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some((state, to)) = next else { break };
            let observers = self.observers.borrow().snapshot();
            for slot in observers.iter() {
                let id = slot.id();
                if match to {
                    To::UpTo(newest) => id <= newest,
                    To::Only(only) => id == only,
                } {
                    slot.call(&state);
                }
            }
        }
        self.delivering.set(false);
        // Closed is final: no observer is called again, and none is kept. Each goes
        // with what it owns (an observer that holds a handle of its own source keeps
        // both alive), after the borrow ends: a drop may run code that observes.
        if self.is_closed() {
            let released = std::mem::take(&mut *self.observers.borrow_mut());
            drop(released);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn recorder(cell: &StateCell, id: u64) -> Rc<RefCell<Vec<ConnectionState>>> {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        cell.observe(id, Box::new(move |st| s.borrow_mut().push(st.clone())));
        seen
    }

    #[test]
    fn observer_gets_current_state_then_every_change_in_order() {
        let cell = StateCell::default();
        let seen = recorder(&cell, 1);
        cell.set(ConnectionState::Open);
        cell.set(ConnectionState::Reconnecting {
            attempt: 1,
            delay: None,
            cause: ReconnectCause::ConnectionLost,
        });
        cell.set(ConnectionState::Open);
        let kinds: Vec<_> = seen.borrow().iter().map(|s| s.kind()).collect();
        assert_eq!(kinds, ["connecting", "open", "reconnecting", "open"]);
    }

    #[test]
    fn removing_an_observer_that_owns_another_observers_removal() {
        // Broke: the observer was freed while the list was borrowed, so one that owned
        // another subscription of the same cell (whose drop removes it) panicked with
        // BorrowMutError, a trap on wasm32.
        struct Guard(Rc<StateCell>, u64);
        impl Drop for Guard {
            fn drop(&mut self) {
                assert!(self.0.remove(self.1), "the owned observer was registered");
            }
        }
        let cell = Rc::new(StateCell::default());
        let inner_seen = recorder(&cell, 1);
        let guard = Guard(cell.clone(), 1);
        cell.observe(
            2,
            Box::new(move |_| {
                let _owned = &guard;
            }),
        );
        assert!(cell.remove(2));
        // Both are gone: a change reaches neither.
        cell.set(ConnectionState::Open);
        assert_eq!(
            inner_seen.borrow().len(),
            1,
            "only the state it was added in"
        );
        assert!(!cell.remove(1));
    }

    #[test]
    fn setting_the_same_state_again_is_not_a_change() {
        let cell = StateCell::default();
        let seen = recorder(&cell, 1);
        assert!(!cell.set(ConnectionState::Connecting { attempt: 0 }));
        assert!(cell.set(ConnectionState::Open));
        assert!(!cell.set(ConnectionState::Open));
        assert_eq!(seen.borrow().len(), 2);
    }

    #[test]
    fn observers_go_once_they_have_heard_closed() {
        // What broke (a review): a closed source kept its observers, and with them what
        // they held: one holding a handle of its own source (or a JavaScript callback
        // that refers to it) kept the source for good.
        struct Held(Rc<Cell<bool>>);
        impl Drop for Held {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let cell = StateCell::default();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let dropped = Rc::new(Cell::new(false));
        let (s, held) = (seen.clone(), Held(dropped.clone()));
        cell.observe(
            1,
            Box::new(move |st| {
                let _ = &held;
                s.borrow_mut().push(st.clone());
            }),
        );
        cell.set(ConnectionState::Open);
        assert!(!dropped.get(), "kept while open");
        let closed = ConnectionState::Closed {
            reason: CloseReason::ClosedByClient,
        };
        cell.set(closed.clone());
        assert_eq!(seen.borrow().last(), Some(&closed), "heard it");
        assert!(dropped.get(), "then went");
        // One added once closed hears the state, and is not kept either.
        let late = recorder(&cell, 2);
        assert_eq!(*late.borrow(), [closed]);
        assert_eq!(Rc::strong_count(&late), 1, "not kept");
    }

    #[test]
    fn closed_is_final() {
        let cell = StateCell::default();
        assert!(cell.set(ConnectionState::Closed {
            reason: CloseReason::Failed
        }));
        assert!(!cell.set(ConnectionState::Open));
        assert!(cell.is_closed());
        assert_eq!(cell.get().ready_state(), 2);
    }

    #[test]
    fn change_made_inside_an_observer_reaches_everyone_after_the_current_one() {
        let cell = Rc::new(StateCell::default());
        let order = Rc::new(RefCell::new(Vec::new()));
        {
            let (c, o) = (cell.clone(), order.clone());
            cell.observe(
                1,
                Box::new(move |st| {
                    o.borrow_mut().push(format!("a:{}", st.kind()));
                    if st.is_open() {
                        c.set(ConnectionState::Closed {
                            reason: CloseReason::ClosedByClient,
                        });
                    }
                }),
            );
        }
        {
            let o = order.clone();
            cell.observe(
                2,
                Box::new(move |st| o.borrow_mut().push(format!("b:{}", st.kind()))),
            );
        }
        cell.set(ConnectionState::Open);
        assert_eq!(
            *order.borrow(),
            [
                "a:connecting",
                "b:connecting",
                "a:open",
                "b:open",
                "a:closed",
                "b:closed"
            ]
        );
    }

    #[test]
    fn an_observer_added_after_a_queued_change_gets_the_state_once() {
        // What broke: an observer added from inside a delivery, after a change was
        // queued, got that change and then its own first state: `closed` twice.
        let cell = Rc::new(StateCell::default());
        let late = Rc::new(RefCell::new(Vec::new()));
        {
            let (c, l) = (cell.clone(), late.clone());
            cell.observe(
                1,
                Box::new(move |st| {
                    if st.is_open() {
                        c.set(ConnectionState::Closed {
                            reason: CloseReason::ClosedByClient,
                        });
                        let l = l.clone();
                        c.observe(3, Box::new(move |st| l.borrow_mut().push(st.kind())));
                    }
                }),
            );
        }
        let other = Rc::new(RefCell::new(Vec::new()));
        {
            let o = other.clone();
            cell.observe(2, Box::new(move |st| o.borrow_mut().push(st.kind())));
        }
        cell.set(ConnectionState::Open);
        assert_eq!(*late.borrow(), ["closed"]);
        assert_eq!(*other.borrow(), ["connecting", "open", "closed"]);
    }

    #[test]
    fn display_says_what_happened() {
        let s = ConnectionState::Reconnecting {
            attempt: 2,
            delay: Some(Duration::from_millis(1500)),
            cause: ReconnectCause::ConnectionLost,
        };
        assert_eq!(
            s.to_string(),
            "reconnecting (attempt 2 in 1500 ms) after the connection was lost"
        );
        let closed = ConnectionState::Closed {
            reason: CloseReason::Failed,
        };
        assert!(closed.to_string().contains("will not be retried"));
        // What broke (a review): `Failed` said to check the server's response where
        // there was none (CORS refused it, the page stopped the request); an empty
        // content type (native, where the browser did not tell it) read `""`; and
        // `GaveUp` named no option to change.
        assert!(
            closed
                .to_string()
                .contains("the browser's console says which"),
            "{closed}"
        );
        // What broke (a review): it blamed CORS alone where the app's own `retry_if` had
        // refused to retry a lost connection or an ended stream.
        assert!(closed.to_string().contains("retry_if refused"), "{closed}");
        let untold = CloseReason::ContentType {
            content_type: String::new(),
        }
        .to_string();
        assert!(
            untold.starts_with("the server answered 200 without a content type"),
            "{untold}"
        );
        // What broke (a review): native's browser refusing an event stream for its
        // charset closed with "an event stream needs text/event-stream".
        let charset = CloseReason::ContentType {
            content_type: "text/event-stream; charset=iso-8859-1".into(),
        }
        .to_string();
        assert!(
            charset.contains("refused its charset: it takes UTF-8 only"),
            "{charset}"
        );
        let gave_up = CloseReason::GaveUp {
            attempts: 1,
            cause: ReconnectCause::NoContent,
        }
        .to_string();
        // What broke (a review): it said "reconnect() tries again", which does nothing
        // to a closed source (only a hook's opens a new one).
        assert!(
            gave_up.ends_with("(max_attempts, max_elapsed; JS: retry.maxAttempts, retry.maxElapsedMs); a new source tries again (a hook's reconnect() opens one)"),
            "{gave_up}"
        );
        // What broke: a status without its text (HTTP/2, native) read "HTTP 404 ;".
        let status = |status_text: &str| {
            CloseReason::HttpStatus {
                status: 404,
                status_text: status_text.into(),
                body: None,
            }
            .to_string()
        };
        assert!(
            status("").starts_with("the server answered HTTP 404; an event"),
            "{}",
            status("")
        );
        assert!(status("Not Found").starts_with("the server answered HTTP 404 Not Found; an"));
        // What broke: the sentence said the answer "was cut" also where `reconnect()`
        // had ended it; and (a review) it offered only `retry_request` where a heartbeat
        // too short for a slow server had cut it.
        let interrupted = CloseReason::Interrupted { received: 3 }.to_string();
        assert!(
            interrupted.starts_with("the answer ended after 3 events before it was complete (it was cut: ")
                && interrupted.contains("or nothing came within the heartbeat timeout, which a server slow to answer needs raised: heartbeat_timeout, JS heartbeatMs; or reconnect() ended it)"),
            "{interrupted}"
        );
    }

    #[test]
    fn a_json_answer_asks_whether_the_request_asked_for_a_stream() {
        let json = |t: &str| {
            CloseReason::ContentType {
                content_type: t.into(),
            }
            .to_string()
        };
        assert!(json("application/json; charset=utf-8").contains("\"stream\": true"));
        assert!(json("Application/JSON").contains("\"stream\": true"));
        assert!(
            !json("text/html").contains("stream\": true"),
            "{}",
            json("text/html")
        );
        assert!(!json("").contains("stream\": true"));
    }

    #[test]
    fn giving_up_on_an_error_answer_tells_what_it_said() {
        // What broke (a review): a request whose policy gave up on a 429 (as
        // `max_attempts(0)` does at once) said only "the server answered HTTP 429": the
        // API's error body, which `CloseReason::HttpStatus` shows, was left out.
        let gave_up = CloseReason::GaveUp {
            attempts: 0,
            cause: ReconnectCause::HttpStatus {
                status: 429,
                status_text: "Too Many Requests".into(),
                retry_after: None,
                body: Some(r#" {"error":{"message":"Rate limit reached"}} "#.into()),
            },
        }
        .to_string();
        assert!(
            gave_up.starts_with(r#"gave up at the first failure (the server answered HTTP 429 Too Many Requests; it said: {"error":{"message":"Rate limit reached"}}); "#),
            "{gave_up}"
        );
    }

    #[test]
    fn a_failures_sentence_names_the_wait_it_asked_for() {
        // What broke: a failure's sentence said only the status of an answer that
        // asked for a wait (`Retry-After`), as a cause of `Reconnecting` or `GaveUp`.
        let gave_up = CloseReason::GaveUp {
            attempts: 0,
            cause: ReconnectCause::HttpStatus {
                status: 503,
                status_text: "Service Unavailable".into(),
                retry_after: Some(std::time::Duration::from_secs(3600)),
                body: None,
            },
        }
        .to_string();
        assert!(
            gave_up.starts_with("gave up at the first failure (the server answered HTTP 503 Service Unavailable asking for a wait of 3600 s (Retry-After)); "),
            "{gave_up}"
        );
        // A date a moment away is not "0 s", one already past is no wait at all, and
        // part of a second rounds up.
        let wait = |ms| {
            ReconnectCause::HttpStatus {
                status: 503,
                status_text: String::new(),
                retry_after: Some(std::time::Duration::from_millis(ms)),
                body: None,
            }
            .to_string()
        };
        assert_eq!(
            wait(400),
            "the server answered HTTP 503 asking for a wait of 400 ms (Retry-After)"
        );
        assert_eq!(wait(0), "the server answered HTTP 503");
        assert_eq!(
            wait(1_001),
            "the server answered HTTP 503 asking for a wait of 2 s (Retry-After)"
        );
    }

    #[test]
    fn giving_up_counts_the_failures_not_only_the_retries() {
        // What broke (a review): `attempts` counts the failed retries, and the sentence
        // called them "failed attempts": "gave up after 0 failed attempts in a row (the
        // last: …)" with no retry allowed, 3 where 4 requests had failed.
        let gave_up = |attempts| {
            CloseReason::GaveUp {
                attempts,
                cause: ReconnectCause::NoContent,
            }
            .to_string()
        };
        assert!(
            gave_up(0).starts_with("gave up at the first failure (the server answered 204"),
            "{}",
            gave_up(0)
        );
        assert!(
            gave_up(3).starts_with("gave up after 4 failures in a row (3 of them retries; the last: the server answered 204"),
            "{}",
            gave_up(3)
        );
    }
}
