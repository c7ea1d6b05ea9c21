//! Connection states, why a connection closed or is reconnecting, and the ordered
//! delivery of state changes to observers.

use crate::handlers::Handlers;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// Where a connection is. Observe it with
/// [`EventSource::on_state`](crate::EventSource::on_state).
///
/// ```text
/// new ──> Connecting{attempt:0} ──open──> Open
/// Open ──stream ends / network error──> Reconnecting{attempt, delay, cause}
/// Reconnecting ──> Open (or Connecting{attempt} first, where the transport knows)
/// any ──close() / Drop──> Closed{reason: ClosedByClient}
/// any ──fatal error──> Closed{reason}
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
        /// The number of this retry since the connection was last healthy, from 1.
        /// It resets once a connection has delivered an event or stayed open for
        /// [`HEALTHY_AFTER`].
        attempt: u32,
        /// How long until the retry, when the transport decides it. `None` with the
        /// native transport, where the browser keeps its delay to itself.
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

/// How long a connection must stay open, with no event, to count as healthy and reset
/// the attempt counter. A connection that delivers an event is healthy at once.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(5);

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
                    write!(f, " in {} ms", delay.as_millis())?;
                }
                write!(f, ") after {cause}")
            }
            ConnectionState::Closed { reason } => write!(f, "closed: {reason}"),
        }
    }
}

/// Why a connection is being retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectCause {
    /// The browser reported the connection lost or unreachable and is retrying it
    /// (native transport: the browser does not say which).
    ConnectionLost,
    /// The server ended the response (fetch transport).
    StreamEnded,
    /// The request failed or the body broke off: the server is unreachable, the
    /// network dropped, or CORS refused the response (fetch transport).
    Network {
        /// The browser's message.
        message: String,
    },
    /// No bytes arrived for the heartbeat timeout (fetch transport).
    HeartbeatTimeout {
        /// The timeout that passed.
        after: Duration,
    },
}

impl fmt::Display for ReconnectCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReconnectCause::ConnectionLost => write!(f, "the connection was lost"),
            ReconnectCause::StreamEnded => write!(f, "the server ended the stream"),
            ReconnectCause::Network { message } => write!(f, "a network error ({message})"),
            ReconnectCause::HeartbeatTimeout { after } => {
                write!(
                    f,
                    "no bytes for {} ms (heartbeat timeout)",
                    after.as_millis()
                )
            }
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
    /// The browser failed the connection and will not retry it: an HTTP status other
    /// than 200, a content type other than `text/event-stream`, or a request it could
    /// not make. The native EventSource does not say which; the fetch transport
    /// reports the precise reason instead.
    Failed,
    /// The server answered with an HTTP status other than 200 and 204 (fetch transport).
    HttpStatus {
        /// The status code.
        status: u16,
        /// The status text, such as `Internal Server Error` (may be empty).
        status_text: String,
    },
    /// The server answered 200 with a content type other than `text/event-stream`
    /// (fetch transport).
    ContentType {
        /// The `Content-Type` it sent (empty when it sent none).
        content_type: String,
    },
    /// The server answered 204 No Content: the SSE way to say "stop reconnecting"
    /// (fetch transport).
    NoContent,
    /// The request could not be built, for example a header callback returned an
    /// invalid header name (fetch transport).
    InvalidRequest {
        /// What the browser said.
        message: String,
    },
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClosedByClient => write!(f, "closed by the client"),
            CloseReason::Failed => write!(
                f,
                "the browser failed the connection (an HTTP status other than 200, a content \
                 type other than text/event-stream, or a request it could not make) and will \
                 not retry; check the server's response to this URL"
            ),
            CloseReason::HttpStatus {
                status,
                status_text,
            } => write!(
                f,
                "the server answered HTTP {status} {status_text}; an event stream needs 200"
            ),
            CloseReason::ContentType { content_type } => write!(
                f,
                "the server answered with content type {content_type:?}; an event stream needs \
                 text/event-stream"
            ),
            CloseReason::NoContent => write!(
                f,
                "the server answered 204 No Content: it asked the client to stop"
            ),
            CloseReason::InvalidRequest { message } => {
                write!(f, "the request could not be made: {message}")
            }
        }
    }
}

/// Decides the next attempt number when a connection is lost.
///
/// `healthy` says whether the lost connection delivered an event or stayed open for
/// [`HEALTHY_AFTER`]; a healthy connection starts the count again.
pub(crate) fn next_attempt(previous: u32, healthy: bool) -> u32 {
    if healthy {
        1
    } else {
        previous.saturating_add(1)
    }
}

/// Whether a connection that was open for `open_for` and delivered `events` counts as
/// healthy.
pub(crate) fn was_healthy(open_for: Duration, events: u64) -> bool {
    events > 0 || open_for >= HEALTHY_AFTER
}

/// Counts reconnection attempts for a transport: up while connections fail or die
/// young, back to 1 after a healthy one. Times are `Date.now()` milliseconds.
#[derive(Debug, Default)]
pub(crate) struct Health {
    attempt: Cell<u32>,
    opened_at: Cell<Option<f64>>,
    events: Cell<u64>,
}

impl Health {
    /// The attempt number of the connection being made now (0 for the first).
    pub fn attempt(&self) -> u32 {
        self.attempt.get()
    }

    /// A connection opened at `now`.
    pub fn opened(&self, now: f64) {
        self.opened_at.set(Some(now));
        self.events.set(0);
    }

    /// The open connection delivered an event.
    pub fn event(&self) {
        self.events.set(self.events.get().saturating_add(1));
    }

    /// The connection was lost at `now`; returns the number of the retry to come.
    pub fn lost(&self, now: f64) -> u32 {
        let healthy = self.opened_at.take().is_some_and(|at| {
            let open_for = Duration::from_millis((now - at).max(0.0) as u64);
            was_healthy(open_for, self.events.get())
        });
        let attempt = next_attempt(self.attempt.get(), healthy);
        self.attempt.set(attempt);
        attempt
    }
}

/// The current state and its observers. Every change reaches every observer, in order,
/// even when an observer changes the state from inside its callback: changes made
/// during a delivery are queued and delivered after it.
pub(crate) struct StateCell {
    current: RefCell<ConnectionState>,
    observers: RefCell<Handlers<ConnectionState>>,
    queue: RefCell<VecDeque<(ConnectionState, Option<u64>)>>,
    delivering: Cell<bool>,
}

impl Default for StateCell {
    /// Every source starts `Connecting { attempt: 0 }`.
    fn default() -> Self {
        StateCell {
            current: RefCell::new(ConnectionState::Connecting { attempt: 0 }),
            observers: RefCell::default(),
            queue: RefCell::default(),
            delivering: Cell::new(false),
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
        self.queue.borrow_mut().push_back((state, None));
        self.deliver();
        true
    }

    /// Adds an observer and hands it the current state at once.
    pub fn observe(&self, id: u64, f: Box<dyn FnMut(&ConnectionState)>) {
        self.observers.borrow_mut().push(id, f);
        self.queue.borrow_mut().push_back((self.get(), Some(id)));
        self.deliver();
    }

    pub fn remove(&self, id: u64) -> bool {
        self.observers.borrow_mut().remove(id)
    }

    fn deliver(&self) {
        if self.delivering.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some((state, only)) = next else { break };
            let observers = self.observers.borrow().snapshot();
            for slot in observers.iter() {
                if only.is_none_or(|id| id == slot.id()) {
                    slot.call(&state);
                }
            }
        }
        self.delivering.set(false);
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
    fn setting_the_same_state_again_is_not_a_change() {
        let cell = StateCell::default();
        let seen = recorder(&cell, 1);
        assert!(!cell.set(ConnectionState::Connecting { attempt: 0 }));
        assert!(cell.set(ConnectionState::Open));
        assert!(!cell.set(ConnectionState::Open));
        assert_eq!(seen.borrow().len(), 2);
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
    fn attempts_count_up_and_reset_after_a_healthy_connection() {
        assert_eq!(next_attempt(0, false), 1);
        assert_eq!(next_attempt(3, false), 4);
        assert_eq!(next_attempt(3, true), 1);
        assert_eq!(next_attempt(u32::MAX, false), u32::MAX);
        assert!(was_healthy(Duration::ZERO, 1));
        assert!(was_healthy(HEALTHY_AFTER, 0));
        assert!(!was_healthy(Duration::from_millis(10), 0));
    }

    #[test]
    fn health_counts_failures_and_resets_after_a_healthy_connection() {
        let health = Health::default();
        assert_eq!(health.attempt(), 0);
        // Never opened: each loss counts.
        assert_eq!(health.lost(0.0), 1);
        assert_eq!(health.lost(10.0), 2);
        // Opened but died young with no event: still counts.
        health.opened(100.0);
        assert_eq!(health.lost(200.0), 3);
        // Opened and delivered an event: healthy, start again.
        health.opened(300.0);
        health.event();
        assert_eq!(health.lost(301.0), 1);
        // Opened and stayed up long enough: healthy.
        health.opened(1_000.0);
        assert_eq!(health.lost(1_000.0 + HEALTHY_AFTER.as_millis() as f64), 1);
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
        assert!(closed.to_string().contains("will not retry"));
    }
}
