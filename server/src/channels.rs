//! Named channels: a ring buffer of recent events for replay plus a broadcast for live
//! delivery, and the per-channel fault switches used by `/control`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::StatusCode;
use axum::response::sse::Event;
use tokio::sync::{broadcast, watch};

/// How many past events each channel keeps for replay.
pub(crate) const REPLAY_BUFFER: usize = 1000;

/// Capacity of the live broadcast. Kept well below [`REPLAY_BUFFER`] so that a reader
/// that lags behind is cut off while the events it missed are still in the buffer, and
/// resuming with its Last-Event-ID loses nothing.
const LIVE_CAPACITY: usize = 256;

/// Longest accepted channel name.
pub(crate) const MAX_CHANNEL_NAME: usize = 64;

/// One published event.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    /// Position in the channel, 1, 2, ...; orders replay against live delivery.
    pub(crate) seq: u64,
    /// The `id:` field: the explicit id given to publish, or `seq` as text.
    pub(crate) id: String,
    /// The `event:` field; `None` for the default `message` type.
    pub(crate) event: Option<String>,
    /// The `data:` field, compact JSON (never contains CR or LF).
    pub(crate) data: String,
}

impl StoredEvent {
    /// Encodes the event for the wire: `event:` (if any), `id:`, `data:`.
    pub(crate) fn to_sse(&self) -> Event {
        let mut event = Event::default();
        if let Some(kind) = &self.event {
            event = event.event(kind);
        }
        event.id(&self.id).data(&self.data)
    }
}

/// What a new `/events` stream starts from.
pub(crate) struct Subscription {
    /// Buffered events after the client's Last-Event-ID, oldest first.
    pub(crate) replay: Vec<Arc<StoredEvent>>,
    /// Live events; those with `seq < min_seq` were already covered by `replay`.
    pub(crate) live: broadcast::Receiver<Arc<StoredEvent>>,
    /// The first sequence number the live receiver must deliver.
    pub(crate) min_seq: u64,
    /// Changes when `/control/drop` asks every stream of the channel to end.
    pub(crate) dropped: watch::Receiver<u64>,
}

struct Ring {
    events: VecDeque<Arc<StoredEvent>>,
    next_seq: u64,
}

/// Pending forced failures for `/control/fail`.
#[derive(Debug, Clone, Copy)]
struct Failures {
    remaining: u32,
    status: StatusCode,
}

/// One channel.
pub(crate) struct Channel {
    ring: Mutex<Ring>,
    live: broadcast::Sender<Arc<StoredEvent>>,
    drops: watch::Sender<u64>,
    failures: Mutex<Option<Failures>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Channel {
    fn new() -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let (drops, _) = watch::channel(0);
        Self {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(REPLAY_BUFFER),
                next_seq: 1,
            }),
            live,
            drops,
            failures: Mutex::new(None),
        }
    }

    /// Stores and broadcasts an event. Returns it and the number of live receivers.
    ///
    /// The caller has checked that `event` and `id` hold no CR, LF (or NUL for `id`).
    pub(crate) fn publish(
        &self,
        event: Option<String>,
        data: String,
        id: Option<String>,
    ) -> (Arc<StoredEvent>, usize) {
        // Storing and sending under one lock keeps the buffer and the broadcast in the
        // same order as `subscribe` sees them.
        let mut ring = lock(&self.ring);
        let seq = ring.next_seq;
        ring.next_seq += 1;
        let stored = Arc::new(StoredEvent {
            seq,
            id: id.unwrap_or_else(|| seq.to_string()),
            event,
            data,
        });
        if ring.events.len() == REPLAY_BUFFER {
            ring.events.pop_front();
        }
        ring.events.push_back(Arc::clone(&stored));
        let receivers = self.live.send(Arc::clone(&stored)).unwrap_or(0);
        (stored, receivers)
    }

    /// Subscribes to live events, then reads the buffer for replay: subscribing first
    /// means nothing published in between is lost, and `min_seq` tells the stream which
    /// live events the replay already covered.
    ///
    /// The replay is the buffered events after the newest event whose id equals
    /// `last_event_id`; if that id is no longer (or never was) buffered, it is empty.
    pub(crate) fn subscribe(&self, last_event_id: Option<&str>) -> Subscription {
        let live = self.live.subscribe();
        let dropped = self.drops.subscribe();
        let ring = lock(&self.ring);
        let replay = match last_event_id {
            None => Vec::new(),
            Some(last) => match ring.events.iter().rposition(|e| e.id == last) {
                Some(pos) => ring.events.iter().skip(pos + 1).cloned().collect(),
                None => Vec::new(),
            },
        };
        Subscription {
            replay,
            live,
            min_seq: ring.next_seq,
            dropped,
        }
    }

    /// Ends every live stream of this channel; returns how many there were.
    pub(crate) fn drop_streams(&self) -> usize {
        let open = self.drops.receiver_count();
        self.drops.send_modify(|epoch| *epoch += 1);
        open
    }

    /// Makes the next `count` connection attempts fail with `status`.
    pub(crate) fn fail_next(&self, count: u32, status: StatusCode) {
        *lock(&self.failures) = (count > 0).then_some(Failures {
            remaining: count,
            status,
        });
    }

    /// Consumes one pending forced failure, if any.
    pub(crate) fn take_failure(&self) -> Option<(StatusCode, u32)> {
        let mut failures = lock(&self.failures);
        let current = (*failures)?;
        let remaining = current.remaining.saturating_sub(1);
        *failures = (remaining > 0).then_some(Failures {
            remaining,
            status: current.status,
        });
        Some((current.status, remaining))
    }
}

/// All channels, created on first use.
#[derive(Default)]
pub(crate) struct Channels {
    map: Mutex<HashMap<String, Arc<Channel>>>,
}

impl Channels {
    /// The channel called `name`, created if it does not exist yet.
    pub(crate) fn get(&self, name: &str) -> Arc<Channel> {
        let mut map = lock(&self.map);
        Arc::clone(
            map.entry(name.to_owned())
                .or_insert_with(|| Arc::new(Channel::new())),
        )
    }
}

/// Checks a channel name: 1 to 64 characters of `A-Z a-z 0-9 _ . -`.
pub(crate) fn validate_channel_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > MAX_CHANNEL_NAME || !name.chars().all(allowed) {
        let shown: String = name.chars().take(80).collect();
        return Err(format!(
            "invalid channel name `{shown}`; use 1 to {MAX_CHANNEL_NAME} characters of letters, digits, `_`, `.` and `-`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(events: &[Arc<StoredEvent>]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn replay_starts_after_the_given_id() {
        let channel = Channel::new();
        for n in 0..3 {
            channel.publish(None, n.to_string(), None);
        }
        assert_eq!(ids(&channel.subscribe(Some("1")).replay), ["2", "3"]);
        assert!(channel.subscribe(Some("3")).replay.is_empty());
        assert!(channel.subscribe(Some("unknown")).replay.is_empty());
        assert!(channel.subscribe(None).replay.is_empty());
        assert_eq!(channel.subscribe(None).min_seq, 4);
    }

    #[test]
    fn buffer_keeps_the_newest_thousand() {
        let channel = Channel::new();
        for _ in 0..REPLAY_BUFFER + 5 {
            channel.publish(None, "x".into(), None);
        }
        assert!(channel.subscribe(Some("5")).replay.is_empty());
        let replay = channel.subscribe(Some("6")).replay;
        assert_eq!(replay.len(), REPLAY_BUFFER - 1);
        assert_eq!(replay.last().map(|e| e.seq), Some(REPLAY_BUFFER as u64 + 5));
    }

    #[test]
    fn explicit_ids_and_failures() {
        let channel = Channel::new();
        channel.publish(None, "a".into(), Some("x".into()));
        channel.publish(None, "b".into(), None);
        assert_eq!(ids(&channel.subscribe(Some("x")).replay), ["2"]);

        channel.fail_next(2, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            channel.take_failure(),
            Some((StatusCode::SERVICE_UNAVAILABLE, 1))
        );
        assert_eq!(
            channel.take_failure(),
            Some((StatusCode::SERVICE_UNAVAILABLE, 0))
        );
        assert_eq!(channel.take_failure(), None);
    }

    #[test]
    fn channel_names() {
        assert!(validate_channel_name("news_1.a-b").is_ok());
        assert!(validate_channel_name(&"a".repeat(64)).is_ok());
        assert!(validate_channel_name(&"a".repeat(65)).is_err());
        assert!(validate_channel_name("").is_err());
        assert!(validate_channel_name("a b").is_err());
        assert!(validate_channel_name("é").is_err());
    }
}
