//! [`Attempts`]: the reconnection attempt counter. Pure: times are passed in.

use crate::core::retry::HEALTHY_AFTER;
use std::time::Duration;

/// Counts reconnection attempts: up while connections fail or die young, back to
/// zero after a healthy one. Times are milliseconds (`performance.now()` in the browser:
/// `dom::now`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Attempts {
    attempt: u32,
    opened_at: Option<f64>,
    /// The browser came back online while no connection was open, and none has
    /// opened since: a backoff may end early (see [`take_online`](Self::take_online)).
    online: bool,
    events: u64,
    failing_since: Option<f64>,
    /// Since when the streak's clock has stood still: the page is offline (or hidden)
    /// and no attempt is made (see [`pause`](Self::pause)).
    paused_since: Option<f64>,
    /// A connection failed or was lost since one last opened (offline too, which
    /// spends no attempt): the source reports a reconnection.
    lost_since_open: bool,
    /// When the open connection's silence began, once its heartbeat found it silent
    /// (see [`went_silent`](Self::went_silent)).
    silent_since: Option<f64>,
}

impl Attempts {
    /// The attempt number of the connection being made now (0 for the first, and
    /// after a healthy connection).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// A connection opened at `now`.
    pub fn opened(&mut self, now: f64) {
        self.resume(now);
        self.opened_at = Some(now);
        self.silent_since = None;
        self.online = false;
        self.events = 0;
        self.lost_since_open = false;
    }

    /// The browser came back online. Not heard while a connection is open: it lost
    /// nothing, and the backoff after its loss stays whole. A connection that opens
    /// later forgets it too (native's browser retries open within one attempt).
    pub fn came_online(&mut self) {
        self.online |= self.opened_at.is_none();
    }

    /// Whether the browser came back online since no connection was open (see
    /// [`came_online`](Self::came_online)).
    pub fn online(&self) -> bool {
        self.online
    }

    /// [`online`](Self::online), forgotten.
    pub fn take_online(&mut self) -> bool {
        std::mem::take(&mut self.online)
    }

    /// The open connection delivered an event: it is healthy.
    pub fn event(&mut self) {
        self.events = self.events.saturating_add(1);
    }

    /// Whether the connection open now counts as healthy at `now`.
    fn healthy(&self, now: f64) -> bool {
        self.opened_at.is_some_and(|at| {
            self.events > 0 || Duration::from_millis((now - at).max(0.0) as u64) >= HEALTHY_AFTER
        })
    }

    /// Whether a connection is open now (opened, and not yet ended).
    pub fn is_open(&self) -> bool {
        self.opened_at.is_some()
    }

    /// Whether a connection failed or was lost since one last opened (see
    /// [`lost`](Self::lost), [`lost_offline`](Self::lost_offline)).
    pub fn lost_since_open(&self) -> bool {
        self.lost_since_open
    }

    /// The connection open now made no progress, whatever it delivered and however
    /// long it ran (a request's answer cut and sent again from its start): its end
    /// does not end the streak, so the policy's `max_attempts` and `max_elapsed`
    /// bound the sends.
    #[cfg(any(feature = "fetch", test))]
    pub fn no_progress(&mut self) {
        self.opened_at = None;
    }

    /// The connection was lost at `now`; returns the number of the retry to come
    /// (from 1).
    pub fn lost(&mut self, now: f64) -> u32 {
        self.resume(now);
        self.connection_ended(now);
        self.lost_since_open = true;
        self.failing_since.get_or_insert(now);
        self.attempt = self.attempt.saturating_add(1);
        self.attempt
    }

    /// The connection was lost at `now` while there is no network: as [`lost`](Self::lost),
    /// but the loss spends no attempt. Returns the attempt number to report.
    pub fn lost_offline(&mut self, now: f64) -> u32 {
        self.connection_ended(now);
        self.lost_since_open = true;
        self.pause(now);
        self.attempt
    }

    /// From `now` no attempt is made (the page is offline or hidden): the time until
    /// [`resume`](Self::resume) does not count towards the streak's length
    /// ([`failing_for`](Self::failing_for), which `max_elapsed` limits), since nothing
    /// failed in it.
    pub fn pause(&mut self, now: f64) {
        self.paused_since.get_or_insert(now);
    }

    /// Attempts go on from `now` (see [`pause`](Self::pause)).
    pub fn resume(&mut self, now: f64) {
        if let (Some(at), Some(since)) = (self.paused_since.take(), self.failing_since.as_mut()) {
            *since += (now - at).max(0.0);
        }
    }

    /// The connection was ended on purpose at `now` (`reconnect()`, a hidden page): no
    /// failure, but a healthy connection ends the streak all the same.
    pub fn interrupted(&mut self, now: f64) {
        self.connection_ended(now);
    }

    /// The heartbeat found the open connection silent since `since` (its last byte or
    /// event, measured: a timer in a hidden tab fires late): it was alive until then,
    /// and its health is judged then when it ends. (A stream that a proxy holds open
    /// with nothing coming was otherwise healthy at each heartbeat past
    /// [`HEALTHY_AFTER`]: the streak started over every time, and `max_attempts` never
    /// ended it.)
    pub fn went_silent(&mut self, since: f64) {
        if self.opened_at.is_some() {
            self.silent_since = Some(since);
        }
    }

    /// The open connection (if any) ended at `now` (or went silent before, see
    /// [`went_silent`](Self::went_silent)): a healthy one ends the streak.
    fn connection_ended(&mut self, now: f64) {
        let alive_until = self.silent_since.take().map_or(now, |since| since.min(now));
        if self.healthy(alive_until) {
            self.attempt = 0;
            self.failing_since = None;
        }
        self.opened_at = None;
    }

    /// How long the current streak of failures has lasted at `now`.
    pub fn failing_for(&self, now: f64) -> Duration {
        self.failing_since.map_or(Duration::ZERO, |since| {
            Duration::from_millis((now - since).max(0.0) as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_that_made_no_progress_does_not_end_the_streak() {
        let mut attempts = Attempts::default();
        assert_eq!(attempts.lost(0.0), 1);
        // Events delivered, and open past HEALTHY_AFTER: healthy, unless it made no
        // progress (its answer starts over).
        attempts.opened(100.0);
        attempts.event();
        attempts.no_progress();
        let later = 100.0 + HEALTHY_AFTER.as_millis() as f64 * 2.0;
        assert_eq!(attempts.lost(later), 2);
        assert_eq!(
            attempts.failing_for(later),
            Duration::from_millis(later as u64)
        );
        // The next one that progresses ends it.
        attempts.opened(later);
        attempts.event();
        assert_eq!(attempts.lost(later + 1.0), 1);
    }

    #[test]
    fn a_connection_lost_to_silence_is_judged_when_the_silence_began() {
        let heartbeat = HEALTHY_AFTER.as_millis() as f64 + 1_000.0;
        let mut attempts = Attempts::default();
        assert_eq!(attempts.lost(0.0), 1);
        // Open, then nothing: at the heartbeat it has been open past HEALTHY_AFTER,
        // and alive for none of it.
        attempts.opened(100.0);
        attempts.went_silent(100.0);
        assert_eq!(attempts.lost(100.0 + heartbeat), 2);
        assert_eq!(
            attempts.failing_for(100.0 + heartbeat),
            Duration::from_millis(100 + heartbeat as u64)
        );
        // A heartbeat that fired a minute late (a hidden tab) changes nothing.
        attempts.opened(10_000.0);
        attempts.went_silent(10_000.0);
        assert_eq!(attempts.lost(70_000.0 + heartbeat), 3);
        // Alive for HEALTHY_AFTER before it went silent: healthy.
        let opened = 100_000.0;
        attempts.opened(opened);
        let began = opened + HEALTHY_AFTER.as_millis() as f64;
        attempts.went_silent(began);
        assert_eq!(attempts.lost(began + heartbeat), 1);
        // An event is a sign of life too.
        attempts.opened(200_000.0);
        attempts.event();
        attempts.went_silent(200_000.0);
        assert_eq!(attempts.lost(200_000.0 + heartbeat), 1);
        // A silence noted with no connection open, or before the next one opened, is
        // not that one's.
        attempts.went_silent(300_000.0);
        attempts.opened(300_000.0);
        assert_eq!(attempts.lost(300_000.0 + heartbeat), 1);
    }

    #[test]
    fn health_counts_failures_and_resets_after_a_healthy_connection() {
        let mut attempts = Attempts::default();
        assert_eq!(attempts.attempt(), 0);
        // Never opened: each loss counts, and the streak's time runs from the first.
        assert_eq!(attempts.lost(0.0), 1);
        assert_eq!(attempts.lost(10.0), 2);
        assert_eq!(attempts.failing_for(1000.0), Duration::from_secs(1));
        // Opened but died young with no event: still counts.
        attempts.opened(100.0);
        assert_eq!(attempts.lost(200.0), 3);
        // Opened and delivered an event: healthy, start again.
        attempts.opened(300.0);
        attempts.event();
        assert_eq!(attempts.lost(301.0), 1);
        assert_eq!(attempts.failing_for(301.0), Duration::ZERO);
        // Opened and stayed up long enough: healthy.
        attempts.opened(1_000.0);
        assert_eq!(attempts.lost(1_000.0 + HEALTHY_AFTER.as_millis() as f64), 1);
        assert_eq!(attempts.attempt(), 1);
    }

    #[test]
    fn an_interrupt_spends_no_attempt_but_ends_a_healthy_streak() {
        let mut attempts = Attempts::default();
        assert_eq!(attempts.lost(0.0), 1);
        // A young connection ended on purpose: the streak goes on.
        attempts.opened(10.0);
        attempts.interrupted(20.0);
        assert_eq!(attempts.attempt(), 1);
        // A healthy one ended on purpose: the next quick loss starts a new streak.
        attempts.opened(30.0);
        attempts.event();
        attempts.interrupted(3_600_000.0);
        assert_eq!(attempts.attempt(), 0);
        attempts.opened(3_600_001.0);
        assert_eq!(attempts.lost(3_600_002.0), 1);
        assert_eq!(attempts.failing_for(3_600_002.0), Duration::ZERO);
    }

    #[test]
    fn a_loss_offline_spends_no_attempt_but_ends_a_healthy_streak() {
        // What broke: the state of a loss offline read the attempt number of failures
        // before the last healthy connection.
        let mut attempts = Attempts::default();
        assert_eq!(attempts.lost(0.0), 1);
        assert_eq!(attempts.lost(10.0), 2);
        attempts.opened(20.0);
        attempts.event();
        assert_eq!(attempts.lost_offline(30.0), 0);
        // Not healthy, offline again: nothing spent.
        assert_eq!(attempts.lost_offline(40.0), 0);
        // Back online, a failure: the first retry of a new streak.
        assert_eq!(attempts.lost(50.0), 1);
        // Failing, then lost offline: the count stays.
        assert_eq!(attempts.lost_offline(60.0), 1);
    }

    #[test]
    fn time_offline_or_hidden_is_not_part_of_a_failing_streak() {
        // What broke: `max_elapsed` counted the time a source waited for the network
        // (or a visible page), so after an hour offline the first failure on return
        // gave up.
        let mut attempts = Attempts::default();
        assert_eq!(attempts.lost(0.0), 1);
        attempts.pause(100.0);
        attempts.resume(3_600_100.0);
        assert_eq!(attempts.lost(3_600_150.0), 2);
        assert_eq!(
            attempts.failing_for(3_600_150.0),
            Duration::from_millis(150)
        );
        // Native: a loss offline pauses the clock until the next attempt's end or open.
        assert_eq!(attempts.lost_offline(3_600_200.0), 2);
        attempts.opened(7_200_200.0);
        assert_eq!(attempts.lost(7_200_300.0), 3);
        assert_eq!(
            attempts.failing_for(7_200_300.0),
            Duration::from_millis(300)
        );
        // No streak: nothing to move.
        let mut fresh = Attempts::default();
        fresh.pause(0.0);
        fresh.resume(10.0);
        assert_eq!(fresh.failing_for(20.0), Duration::ZERO);
    }

    #[test]
    fn an_online_counts_until_a_connection_opens() {
        // What broke: the loop kept an `online` heard before a connection that then
        // opened (and, on native, was lost again within the attempt), and it cut the
        // backoff after that connection short.
        let mut attempts = Attempts::default();
        attempts.came_online();
        assert!(attempts.online());
        attempts.opened(20.0);
        assert!(!attempts.online());
        // Heard while a connection is open: nothing.
        attempts.came_online();
        assert!(!attempts.online());
        attempts.lost(40.0);
        assert!(!attempts.online());
        // Heard after the loss, then taken by the wait it ends.
        attempts.came_online();
        assert!(attempts.take_online());
        assert!(!attempts.online());
    }
}
