//! What the transports share: the [`Sink`] they push events and states into, the
//! [`TransportHandle`] the source keeps, and the reconnection loop ([`drive`]) that
//! runs a [`Connector`] under the [`ReconnectPolicy`].
//!
//! `native.rs` and `fetch.rs` import this module, never `source.rs`: the source
//! implements [`Sink`] and owns a `Box<dyn TransportHandle>`.

pub(crate) mod dom;
#[cfg(feature = "fetch")]
pub(crate) mod fetch;
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) mod http;
#[cfg(feature = "native")]
pub(crate) mod native;
#[cfg(feature = "share")]
pub(crate) mod share;

use self::dom::Listener;
use crate::core::attempts::Attempts;
use crate::core::failure::{Failure, ReconnectCause};
#[cfg(any(feature = "fetch", feature = "share"))]
use crate::core::parse::LastId;
use crate::core::retry::{Decision, ReconnectPolicy};
use crate::core::state::{CloseReason, ConnectionState};
use crate::decode::RawEvent;
use crate::options::Options;
use futures_util::future::{select, AbortHandle, Abortable, Either};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Where a transport delivers what it reads. Implemented by the source.
pub(crate) trait Sink {
    /// Hands an event to its handlers (the source filters duplicates, tracks the id).
    /// Returns whether it was delivered: not dropped as a repeat, nor after close. A
    /// connection that delivers nothing new is not healthy (see `Attempts::event`).
    fn dispatch(&self, event: RawEvent) -> bool;
    /// Hands a comment to the comment handlers.
    #[cfg(feature = "fetch")]
    fn comment(&self, text: &str);
    /// Moves to `state` (ignored once closed).
    fn set_state(&self, state: ConnectionState);
    /// Ends the source for good.
    fn close(&self, reason: CloseReason);
    /// Whether the source is closed.
    fn is_closed(&self) -> bool;
    /// The id a new connection resumes after.
    #[cfg(any(feature = "native", feature = "share"))]
    fn last_event_id(&self) -> String;
    /// Whether the id a new connection resumes after is `id` (without copying a long
    /// one: the fetch transport asks after every chunk).
    #[cfg(feature = "share")]
    fn last_event_id_is(&self, id: &str) -> bool;
    /// The current state (a shared source's leader tells it to new followers).
    #[cfg(feature = "share")]
    fn state(&self) -> ConnectionState;
    /// The part played in a connection shared across tabs changed.
    #[cfg(feature = "share")]
    fn set_share_role(&self, role: crate::core::state::ShareRole);
    /// The stream set the last event id without an event (an id-only block); a long
    /// one is shared, not copied.
    #[cfg(any(feature = "fetch", feature = "share"))]
    fn set_last_event_id(&self, id: &LastId);
    /// A connection opened: events from here on are a new connection's.
    fn connection_opened(&self);
    /// The events dispatched from here to [`end_batch`](Self::end_batch) came in one
    /// chunk: handlers that batch may hold them until then.
    #[cfg(feature = "fetch")]
    fn begin_batch(&self);
    /// The chunk's events are all dispatched.
    #[cfg(feature = "fetch")]
    fn end_batch(&self);
}

/// A source as the transports hold it: weakly, so only handles keep it alive.
pub(crate) type WeakSink = Weak<dyn Sink>;

/// A running transport, owned by the source. Dropping it ends the connection at once
/// and cancels any pending timer.
pub(crate) trait TransportHandle {
    /// A handler for `event_type` was added (native: listen for it).
    fn listen(&self, _event_type: &str) {}
    /// The last handler for `event_type` went (native: stop listening).
    fn unlisten(&self, _event_type: &str) {}
    /// Drops the current connection and connects again now.
    fn reconnect(&self);
}

/// A wake-up that any number of futures can wait for; each [`notified`](Self::notified)
/// future resolves at the next [`notify`](Self::notify) after it was made.
#[derive(Default)]
pub(crate) struct Notify {
    generation: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    pub fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.generation.get(),
        }
    }
}

/// The future of [`Notify::notified`].
pub(crate) struct Notified<'a> {
    notify: &'a Notify,
    generation: u64,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.generation {
            return Poll::Ready(());
        }
        let mut wakers = self.notify.wakers.borrow_mut();
        // At most one waker per task: select() polls this again on every other wake.
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Requests from the handle and the page to the reconnection loop.
#[derive(Default)]
pub(crate) struct Control {
    reconnect: Cell<bool>,
    changed: Notify,
}

impl Control {
    fn request_reconnect(&self) {
        self.reconnect.set(true);
        self.changed.notify();
    }

    /// Back online: a wait for the network, or a backoff, may end
    /// ([`Attempts::came_online`]).
    fn online(&self, attempts: &RefCell<Attempts>) {
        if let Ok(mut attempts) = attempts.try_borrow_mut() {
            attempts.came_online();
        }
        self.changed.notify();
    }

    fn visibility(&self, _: &RefCell<Attempts>) {
        self.changed.notify();
    }
}

/// How one connection ended.
#[derive(Debug, PartialEq)]
pub(crate) enum AttemptEnd {
    /// The policy decides: retry or close.
    Failed(Failure),
    /// Close with this reason, whatever the policy says.
    Fatal(CloseReason),
    /// The source was closed or dropped: stop quietly.
    Gone,
    /// A connection lost offline, whose loss spent no attempt, to be replaced (native,
    /// `reconnect_on_online`): at once when the network is back, else once it is. No
    /// failure, as the browser's own retry would not have been one. Also a heartbeat
    /// that ran out while the browser waited to retry a loss already counted: the retry
    /// is made now, as that attempt.
    #[cfg(feature = "native")]
    Replaced(Failure),
}

/// One transport's way of making a connection.
pub(crate) trait Connector {
    /// Connects and runs the connection until it ends. Reports `Open` itself.
    fn connect<'a>(&'a mut self, attempts: &'a Rc<RefCell<Attempts>>) -> Connecting<'a>;
    /// The reconnection time the server set with `retry:`, if it did.
    fn server_retry(&self) -> Option<Duration>;
    /// How the attempt that `reconnect()` (or a hidden page) just interrupted ended,
    /// where that is not simply "interrupted": the server had already answered with an
    /// error, or the request failed and why is being looked into (the policy judges
    /// either), or the attempt was a request whose answer cannot resume, which the
    /// server already has (it closes). `None` otherwise.
    fn interrupted(&self) -> Option<AttemptEnd> {
        None
    }
}

/// Opens the transport that `options` names, for `sink`; `None` when that transport
/// is not compiled in. One place for the source and a shared source's leader, so the
/// transports' set-up is compiled once.
#[inline(never)]
pub(crate) fn open(
    url: String,
    options: Rc<Options>,
    sink: WeakSink,
) -> Option<Box<dyn TransportHandle>> {
    Some(match options.transport {
        #[cfg(feature = "native")]
        crate::Transport::Native => Box::new(native::Native::open(url, options, sink)),
        #[cfg(feature = "fetch")]
        crate::Transport::Fetch => Box::new(fetch::Fetch::open(url, options, sink)),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Whether the transport `options` name is compiled in ([`open`] would open it).
pub(crate) fn compiled_in(options: &Options) -> bool {
    match options.transport {
        #[cfg(feature = "native")]
        crate::Transport::Native => true,
        #[cfg(feature = "fetch")]
        crate::Transport::Fetch => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// A connection attempt, boxed: [`drive`] runs either transport's through one
/// `dyn Connector`, so that its state machine is compiled once, not once per transport
/// (a copy of it was 9 KB of the npm build's wasm). One allocation per attempt.
pub(crate) type Connecting<'a> = std::pin::Pin<Box<dyn Future<Output = AttemptEnd> + 'a>>;

/// Whether the page reads as offline and `reconnect_on_online` says to wait for the
/// network rather than spend attempts (the loop, and native's own retries, ask).
pub(crate) fn waits_for_network(options: &Options) -> bool {
    options.reconnect_on_online && dom::is_offline()
}

/// Sets the state unless the source is gone or closed; returns whether it still runs.
pub(crate) fn set_state(sink: &WeakSink, state: ConnectionState) -> bool {
    match sink.upgrade() {
        Some(sink) if !sink.is_closed() => {
            sink.set_state(state);
            !sink.is_closed()
        }
        _ => false,
    }
}

fn close(sink: &WeakSink, reason: CloseReason) {
    if let Some(sink) = sink.upgrade() {
        sink.close(reason);
    }
}

/// Listens to the page for the lifecycle options: `online` (reconnect at once) and
/// `visibilitychange` (pause while hidden).
struct Lifecycle {
    _online: Option<Listener>,
    _visibility: Option<Listener>,
}

impl Lifecycle {
    fn new(options: &Options, control: &Rc<Control>, attempts: &Rc<RefCell<Attempts>>) -> Self {
        // A listener that tells `control` while it lives, if `on` and there is a target.
        let listen = |on: bool,
                      target: fn() -> Option<web_sys::EventTarget>,
                      event_type,
                      tell: fn(&Control, &RefCell<Attempts>)| {
            let target = target().filter(|_| on)?;
            let (control, attempts) = (Rc::downgrade(control), Rc::downgrade(attempts));
            Some(Listener::new(&target, event_type, move |_| {
                if let (Some(control), Some(attempts)) = (control.upgrade(), attempts.upgrade()) {
                    tell(&control, &attempts);
                }
            }))
        };
        Lifecycle {
            _online: listen(
                options.reconnect_on_online,
                dom::global_target,
                "online",
                Control::online,
            ),
            _visibility: listen(
                options.pause_when_hidden,
                dom::document_target,
                "visibilitychange",
                Control::visibility,
            ),
        }
    }
}

/// Why a connection was interrupted from outside.
enum Interrupt {
    Reconnect,
    Hidden,
}

/// Resolves when `reconnect()` is called, or the page is hidden with
/// `pause_when_hidden`.
async fn interrupted(control: &Control, pause_when_hidden: bool) -> Interrupt {
    loop {
        let changed = control.changed.notified();
        if control.reconnect.replace(false) {
            return Interrupt::Reconnect;
        }
        if pause_when_hidden && dom::is_hidden() {
            return Interrupt::Hidden;
        }
        changed.await;
    }
}

/// Waits `delay`, or less when `reconnect()` is called or the browser comes back
/// online (with `reconnect_on_online`). Coming online ends only the part past
/// `minimum`, what the server asked for (`retry:`, `Retry-After`): the server's
/// reasons to be left alone do not change with the client's network.
async fn backoff(
    control: &Control,
    attempts: &RefCell<Attempts>,
    delay: Duration,
    minimum: Duration,
    reconnect_on_online: bool,
) {
    let minimum = minimum.min(delay);
    if !wait(control, attempts, minimum, false).await {
        let rest = delay.saturating_sub(minimum);
        wait(control, attempts, rest, reconnect_on_online).await;
    }
}

/// Waits `delay`; true when `reconnect()` (or, with `online`, coming back online) cut it
/// short. A zero delay starts no timer (most retries have no server minimum). A
/// `reconnect()` is kept for the connection it asks for: the loop's waits for the
/// network and for the server's minimum let it through.
async fn wait(
    control: &Control,
    attempts: &RefCell<Attempts>,
    delay: Duration,
    online: bool,
) -> bool {
    if delay.is_zero() {
        return false;
    }
    // Chromium fires no `online` in a worker (the flag changes all the same): there
    // the flag is looked at every `OFFLINE_POLL`, and read online after offline counts
    // as the event. (Each wake sets a timer for what is left, or the poll's tick.)
    let poll = online && dom::document_target().is_none();
    let end = dom::now() + crate::core::retry::millis(delay) as f64;
    let mut was_offline = false;
    loop {
        let changed = pin!(control.changed.notified());
        if control.reconnect.get() || (online && attempts.borrow_mut().take_online()) {
            return true;
        }
        if poll {
            let offline = dom::is_offline();
            if was_offline && !offline {
                return true;
            }
            was_offline = offline;
        }
        let left = end - dom::now();
        if left <= 0.0 {
            return false;
        }
        let step = Duration::from_millis(left.ceil() as u64);
        let timer = pin!(dom::sleep(if poll { step.min(OFFLINE_POLL) } else { step }));
        // (The order of `wait_while`'s select: one instantiation for both.)
        if let (Either::Right(_), false) = (select(changed, timer).await, poll) {
            return false;
        }
    }
}

/// How often a wait for the network looks at `navigator.onLine` again where no event
/// says it changed: in a worker, Chromium fires no `online` (the flag changes all the
/// same).
const OFFLINE_POLL: Duration = Duration::from_secs(1);

/// Waits while `blocked()` holds, waking on every page change, and every `poll` if
/// given. A `reconnect()` meanwhile ends the wait when `reconnect_ends_it` (and is kept
/// for the connection it asks for), else it is dropped.
async fn wait_while(
    control: &Control,
    blocked: impl Fn() -> bool,
    reconnect_ends_it: bool,
    poll: Option<Duration>,
) {
    while blocked() {
        // (Asked before the wait as well: a `reconnect()` made before it began counts.)
        if control.reconnect.get() {
            if reconnect_ends_it {
                return;
            }
            control.reconnect.set(false);
        }
        match poll {
            Some(every) => {
                select(pin!(control.changed.notified()), pin!(dom::sleep(every))).await;
            }
            None => control.changed.notified().await,
        }
    }
}

/// A running reconnection loop: its task and the requests to it. Dropping it aborts
/// the task, which drops the connection's future and cancels any pending timer.
pub(crate) struct Running {
    control: Rc<Control>,
    task: AbortHandle,
}

impl Running {
    /// Spawns [`drive`] for `connector` on the browser's microtask queue.
    pub fn spawn(
        sink: WeakSink,
        options: Rc<Options>,
        connector: impl Connector + 'static,
    ) -> Self {
        let connector: Box<dyn Connector> = Box::new(connector);
        let control = Rc::new(Control::default());
        let (task, registration) = AbortHandle::new_pair();
        let run = drive(sink, options, Rc::clone(&control), connector);
        dom::spawn(async move {
            let _ = Abortable::new(run, registration).await;
        });
        Running { control, task }
    }

    /// `reconnect()`: drop the connection (or skip the backoff) and connect now.
    pub fn reconnect(&self) {
        self.control.request_reconnect();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The reconnection loop, shared by both transports: connect, and when the connection
/// ends, let the policy decide between a retry after a delay and the end.
///
/// The loop holds the source weakly; the source's transport guard aborts it.
async fn drive(
    sink: WeakSink,
    options: Rc<Options>,
    control: Rc<Control>,
    mut connector: Box<dyn Connector>,
) {
    let attempts = Rc::new(RefCell::new(Attempts::default()));
    let policy: &ReconnectPolicy = &options.reconnect;
    let _lifecycle = Lifecycle::new(&options, &control, &attempts);
    // What ended the last connection, for the state shown while waiting offline; none
    // before the first connection, which waits as `Connecting` (no connection was
    // lost yet, so there is nothing to report as reconnecting, and no `error` in JS).
    let mut last_cause: Option<ReconnectCause> = None;
    // When a retry was decided offline: the time (`dom::now()`) before which the server
    // asked not to be called again (`retry:`, `Retry-After`), still owed once online.
    let mut not_before: Option<f64> = None;
    // A new leader of a shared connection waits out what its group's server asked for.
    #[cfg(feature = "share")]
    if let Some((at, cause)) = &options.not_before {
        not_before = Some(*at);
        last_cause = Some(cause.clone());
    }
    loop {
        if options.pause_when_hidden && dom::is_hidden() {
            if last_cause.is_some() {
                let paused = ConnectionState::Reconnecting {
                    attempt: attempts.borrow().attempt(),
                    delay: None,
                    cause: ReconnectCause::PageHidden,
                };
                if !set_state(&sink, paused) {
                    return;
                }
            }
            attempts.borrow_mut().pause(dom::now());
            wait_while(&control, dom::is_hidden, false, None).await;
            attempts.borrow_mut().resume(dom::now());
        }
        // (A `reconnect()` asked for connects all the same: the browser may be wrong
        // about the network, a VPN or a VM, and the app asked for it.)
        if waits_for_network(&options) && !control.reconnect.get() {
            // Spend no attempt while there is no network: wait for it.
            if let Some(cause) = &last_cause {
                let cause = match cause {
                    ReconnectCause::PageHidden | ReconnectCause::Requested => {
                        ReconnectCause::Network {
                            message: "the browser is offline".into(),
                        }
                    }
                    failure => failure.clone(),
                };
                let waiting = ConnectionState::Reconnecting {
                    attempt: attempts.borrow().attempt(),
                    delay: None,
                    cause,
                };
                if !set_state(&sink, waiting) {
                    return;
                }
            }
            attempts.borrow_mut().pause(dom::now());
            // (A page hears `online`; a worker looks again now and then.)
            let poll = dom::document_target().is_none().then_some(OFFLINE_POLL);
            wait_while(&control, dom::is_offline, true, poll).await;
            attempts.borrow_mut().resume(dom::now());
            if options.pause_when_hidden && dom::is_hidden() {
                // The page went hidden while the network was away: pause first.
                continue;
            }
        }
        if let Some(at) = not_before.take() {
            // Back online, still within what the server asked for: wait the rest
            // (unless `reconnect()` asked for a connection now, as it cuts a backoff).
            let left = Duration::from_millis((at - dom::now()).max(0.0) as u64);
            let asked = control.reconnect.get();
            if let (false, false, Some(cause)) = (left.is_zero(), asked, &last_cause) {
                let waiting = ConnectionState::Reconnecting {
                    attempt: attempts.borrow().attempt(),
                    delay: Some(left),
                    cause: cause.clone(),
                };
                if !set_state(&sink, waiting) {
                    return;
                }
                wait(&control, &attempts, left, false).await;
                // The page may have gone hidden or offline meanwhile: check again.
                continue;
            }
        }
        control.reconnect.set(false);
        attempts.borrow_mut().take_online();
        let connecting = ConnectionState::Connecting {
            attempt: attempts.borrow().attempt(),
        };
        if !set_state(&sink, connecting) {
            return;
        }
        let end = {
            let connection = pin!(connector.connect(&attempts));
            let interrupt = pin!(interrupted(&control, options.pause_when_hidden));
            match select(connection, interrupt).await {
                Either::Left((end, _)) => Ok(end),
                Either::Right((interrupt, _)) => Err(interrupt),
            }
        };
        // Whether the page went hidden while an error's body was read: the retry the
        // policy makes then waits for the page, as one offline waits for the network.
        let mut hid_an_answer = false;
        let end = match end {
            Err(interrupt) => match connector.interrupted() {
                Some(AttemptEnd::Fatal(reason)) => return close(&sink, reason),
                Some(answered) => {
                    match interrupt {
                        // The retry, if the policy makes one, is made now.
                        Interrupt::Reconnect => control.reconnect.set(true),
                        Interrupt::Hidden => hid_an_answer = true,
                    }
                    Ok(answered)
                }
                None => Err(interrupt),
            },
            end => end,
        };
        let failure = match end {
            Ok(AttemptEnd::Failed(failure)) => failure,
            Ok(AttemptEnd::Fatal(reason)) => return close(&sink, reason),
            Ok(AttemptEnd::Gone) => return,
            #[cfg(feature = "native")]
            Ok(AttemptEnd::Replaced(cause)) => {
                // Shown as waiting for the network until now; the next state is the
                // connection's, as after the fetch transport's wait for the network.
                // (The browser hides `retry:` from native: no server minimum to wait.)
                attempts.borrow_mut().resume(dom::now());
                last_cause = Some(cause);
                continue;
            }
            // Ended on purpose: no failure, but a healthy connection ends the streak of
            // failures before it (else the next quick loss would count as its next).
            Err(Interrupt::Hidden) => {
                // (Native's browser may be retrying a connection that opened and was
                // lost, offline or not: the transport told the attempts, before this
                // loop hears of any failure.)
                let lost = {
                    let attempts = attempts.borrow();
                    attempts.is_open() || attempts.lost_since_open()
                } || last_cause.is_some();
                attempts.borrow_mut().interrupted(dom::now());
                // A first connection that had not opened yet lost nothing: it waits as
                // `Connecting`, as one the page hid before it began does.
                if lost {
                    last_cause = Some(ReconnectCause::PageHidden);
                }
                continue;
            }
            Err(Interrupt::Reconnect) => {
                attempts.borrow_mut().interrupted(dom::now());
                last_cause = Some(ReconnectCause::Requested);
                // Kept for the connection it asks for, past the wait for the network.
                control.reconnect.set(true);
                let state = ConnectionState::Reconnecting {
                    attempt: attempts.borrow().attempt(),
                    delay: Some(Duration::ZERO),
                    cause: ReconnectCause::Requested,
                };
                if !set_state(&sink, state) {
                    return;
                }
                continue;
            }
        };
        let now = dom::now();
        // Lost to the network while the browser reads as offline: with
        // `reconnect_on_online` the loss spends no attempt, as on native, where the
        // browser's retries spend none. (A request's every send counts: `max_attempts(0)`
        // must never send it again.)
        let no_network = waits_for_network(&options);
        // An `online` heard during the attempt came before its failure: the network
        // was back, and the server failed the attempt all the same (a 502, a wrong
        // type), so it must not cut the backoff after it short (native's own retries
        // drop it alike). A failure of the network itself after it (a request that
        // was on its way across the outage) keeps it: the retry goes at once.
        let network_failure = matches!(
            failure,
            Failure::Network { .. } | Failure::ConnectionLost | Failure::HeartbeatTimeout { .. }
        );
        if !no_network && !network_failure {
            attempts.borrow_mut().take_online();
        }
        let offline_loss = !options.request && no_network && network_failure;
        let (attempt, elapsed) = {
            let mut attempts = attempts.borrow_mut();
            let attempt = if offline_loss {
                attempts.lost_offline(now)
            } else {
                attempts.lost(now)
            };
            (attempt, attempts.failing_for(now))
        };
        last_cause = Some(failure.clone());
        let random = js_sys::Math::random();
        match policy.decide(&failure, attempt, elapsed, connector.server_retry(), random) {
            Decision::Stop => return close(&sink, CloseReason::from(failure)),
            Decision::GiveUp => {
                let attempts = attempt.saturating_sub(1);
                return close(
                    &sink,
                    CloseReason::GaveUp {
                        attempts,
                        cause: failure,
                    },
                );
            }
            Decision::Retry(delay) => {
                // (Within what a timer can wait: the wait owed offline is shown and
                // waited as it is, where the backoff clamps its own.)
                let minimum = connector
                    .server_retry()
                    .max(failure.retry_after())
                    .unwrap_or_default()
                    .min(crate::core::retry::MAX_TIMER);
                // Offline, or hidden during the answer's body: the retry waits for the
                // network or the page (at the loop's top), then for what is left of
                // the server's minimum (offline) or of the backoff (hidden); it has no
                // time to show until then.
                let offline = no_network || hid_an_answer;
                // A reconnect() already asked for (it interrupted the read of an error
                // body) ends the backoff at once; coming back online (it ended native's
                // wait for the browser's retry), all of it past the server's minimum.
                let wait = if control.reconnect.get() {
                    Duration::ZERO
                } else if attempts.borrow().online() {
                    minimum.min(delay)
                } else {
                    delay
                };
                // (Offline, the wait is for the network, unless a `reconnect()` asked
                // for a connection now, which the gate lets through.)
                let asked = control.reconnect.get();
                let state = ConnectionState::Reconnecting {
                    attempt,
                    delay: (!offline || asked).then_some(wait),
                    cause: failure,
                };
                if !set_state(&sink, state) {
                    return;
                }
                if offline && !asked {
                    // Back online, the server's minimum is owed; back in view, the
                    // whole wait (the page was away only a moment of it, maybe).
                    let owed = if hid_an_answer { wait } else { minimum };
                    not_before = Some(now + owed.as_millis() as f64);
                } else {
                    backoff(
                        &control,
                        &attempts,
                        delay,
                        minimum,
                        options.reconnect_on_online,
                    )
                    .await;
                }
            }
        }
    }
}
