//! Named channels: a ring buffer of recent events, which streams read for their replay
//! and their live events alike, and the per-channel fault switches used by `/control`.
//!
//! The ring buffers of all channels share one byte budget ([`crate::Config::channel_budget`]):
//! each event counts its type, id and data plus [`crate::EVENT_BUDGET_OVERHEAD`], and while they hold
//! more, the globally oldest events (whatever their channel) are evicted first, all but
//! the newest event, which stays even when it alone is over the budget (streams read
//! their live events from the rings too: one evicted as it is stored would reach none
//! of them). Each channel also keeps at most [`REPLAY_BUFFER`] events. The id of each
//! channel's newest evicted event, which it keeps so that a client that saw it resumes
//! without a `reset`, counts too; when only the newest event is left, those ids go,
//! oldest first.
//!
//! A stream reads its channel's ring through a cursor ([`Cursor`]), a small batch at a
//! time as the response is written: first the replay, the events after the client's
//! Last-Event-ID, then, woken by a `watch` that each publish updates, every event
//! published since, through the same cursor. No event is copied for a stream or
//! carried to it on a queue of its own, so a client that stops reading holds at most
//! the batch being written, and the budget bounds the memory events take. When the
//! ring (its budget, or its cap of [`REPLAY_BUFFER`]) evicts an event a stream has not
//! reached yet, the stream ends: the client resumes with its Last-Event-ID and gets the
//! `reset` event.
//!
//! # Channels in use and idle channels
//!
//! A request works on a channel through a [`ChannelHandle`]; a channel with a handle
//! (an open `/events` stream, a `/publish` or `/control/fail` being answered, the
//! ticker) is in use and is never freed. When its last handle goes, a channel that never
//! stored an event and has no pending `/control/fail` is freed at once: it holds
//! nothing a later request could need. Other idle channels stay (their events are there
//! for replay, or a failure is armed for the next connect) until a request names a new
//! channel while the server holds [`MAX_CHANNELS`]: then the idle channel that loses
//! least is freed, in this order: one without a pending failure before one with, then
//! one that holds no event now before one that does, and among equals the one used
//! least recently (a use is a handle taken or released). A freed channel's events go with
//! it, as if the byte budget had evicted them: a client resuming there gets the
//! `reset` event. Only when every channel is in use does a new name get a 503.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::StatusCode;
use axum::response::sse::Event;
use tokio::sync::watch;

use crate::error::ApiError;

/// How many past events each channel keeps for replay (fewer when the byte budget of
/// all channels together runs out first).
pub(crate) const REPLAY_BUFFER: usize = 1000;

/// Most events one batch takes from a ring (see [`Cursor::next_batch`]).
const REPLAY_BATCH: usize = 64;

/// Most bytes, as counted against the budget, one batch takes, unless its first event
/// alone counts more. So a stream whose client stopped reading holds this much at most,
/// or one event (whose data a `/publish` body of at most [`crate::PUBLISH_BODY_LIMIT`]
/// carries), whatever the budget evicted since.
const REPLAY_BATCH_BYTES: usize = 64 * 1024;

/// Longest accepted channel name.
pub(crate) const MAX_CHANNEL_NAME: usize = 64;

/// Most channels the server holds; beyond this, a request naming a new channel frees an
/// idle one, or gets a 503 when all are in use (see the module docs).
pub const MAX_CHANNELS: usize = 1000;

use crate::EVENT_BUDGET_OVERHEAD as EVENT_OVERHEAD;

/// One published event.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    /// The `id:` field: the explicit id given to publish, or else the event's position
    /// in the channel (1, 2, ...) as text.
    pub(crate) id: String,
    /// The `event:` field; `None` for the default `message` type.
    pub(crate) event: Option<String>,
    /// The `data:` field: compact JSON from `/publish`; from the Redis broker, any
    /// text, whose LF line breaks are written as several `data:` lines (never CR).
    pub(crate) data: String,
    /// A `retry:` value sent with the event (only Flask-SSE messages set one).
    pub(crate) retry: Option<u64>,
}

impl StoredEvent {
    /// Encodes the event for the wire: `event:` (if any), `id:`, `data:`.
    pub(crate) fn to_sse(&self) -> Event {
        let event = crate::sse::event(self.event.as_deref(), &self.id, &self.data);
        match self.retry {
            Some(ms) => event.retry(std::time::Duration::from_millis(ms)),
            None => event,
        }
    }

    /// What the event counts against the channel budget: the bytes its strings hold
    /// (their capacity, which a string grown by pushing can have up to twice its length
    /// of), and the overhead.
    pub(crate) fn budget_bytes(&self) -> usize {
        self.event.as_ref().map_or(0, String::capacity)
            + self.id.capacity()
            + self.data.capacity()
            + EVENT_OVERHEAD
    }
}

/// What a new `/events` stream starts from.
pub(crate) struct Subscription {
    /// The stream's place in the channel's ring: its replay (the buffered events after
    /// the client's Last-Event-ID, oldest first), then every event published later.
    pub(crate) cursor: Cursor,
    /// `Some` when the client's Last-Event-ID is not buffered (evicted, or never
    /// seen): the replay is then every buffered event, and this is the oldest id held
    /// (`None` when the buffer is empty).
    pub(crate) history_lost: Option<Option<String>>,
    /// Changes when `/control/drop` asks every stream of the channel to end.
    pub(crate) dropped: watch::Receiver<u64>,
}

/// The part of a stream not read yet: a cursor into the channel's ring, holding no
/// event, so that a stream whose client stops reading keeps none alive after the
/// ring evicts it (beyond the batch it is writing), and a receiver of the channel's
/// newest order, which wakes the stream when an event is published.
pub(crate) struct Cursor {
    buffers: Arc<Buffers>,
    /// Key of the channel's ring in the [`Store`].
    key: u64,
    /// Every event of the channel with an eviction order ([`Buffered::order`]) below
    /// this was read (or is before the stream's start); the next one to read is the
    /// channel's first at or after it.
    next: u64,
    /// [`Channel::newest`]: one past the order of the channel's newest event.
    newest: watch::Receiver<u64>,
}

/// A stream's next event was evicted before the stream sent it (see
/// [`Cursor::next_batch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overtaken;

impl Cursor {
    /// The next events of the stream, oldest first, read under the buffers' lock: at
    /// most [`REPLAY_BATCH`] events and [`REPLAY_BATCH_BYTES`] (at least one event);
    /// empty when the stream has read every event published so far (then
    /// [`Cursor::published`] waits for the next). Events evicted after the cursor
    /// passed them change nothing.
    ///
    /// # Errors
    ///
    /// [`Overtaken`] when the ring evicted the next event to read (or the channel was
    /// freed) before the stream got to it: the stream must end, so that the client
    /// resumes with its Last-Event-ID and gets the `reset` event rather than a silent
    /// gap. It stays overtaken.
    pub(crate) fn next_batch(&mut self) -> Result<Vec<Arc<StoredEvent>>, Overtaken> {
        // Marked seen before the ring is read: an event published after this wakes
        // `published`, and one published before is in the ring.
        if *self.newest.borrow_and_update() <= self.next {
            return Ok(Vec::new());
        }
        let store = lock(&self.buffers.store);
        let ring = store.rings.get(&self.key).ok_or(Overtaken)?;
        // A ring's events are in eviction order, and only its oldest are evicted.
        if ring.gone_before > self.next {
            return Err(Overtaken);
        }
        let start = ring.events.partition_point(|b| b.order < self.next);
        let mut batch = Vec::new();
        let mut bytes = 0;
        for buffered in ring.events.range(start..) {
            let full = batch.len() == REPLAY_BATCH
                || (!batch.is_empty() && bytes + buffered.bytes > REPLAY_BATCH_BYTES);
            if full {
                break;
            }
            bytes += buffered.bytes;
            self.next = buffered.order + 1;
            batch.push(Arc::clone(&buffered.event));
        }
        Ok(batch)
    }

    /// Waits until an event is published on the channel after the last
    /// [`Cursor::next_batch`]; `false` if the channel is gone.
    pub(crate) async fn published(&mut self) -> bool {
        self.newest.changed().await.is_ok()
    }
}

struct Buffered {
    /// Position among the events of all channels: the eviction order.
    order: u64,
    bytes: usize,
    event: Arc<StoredEvent>,
}

#[derive(Default)]
struct Ring {
    events: VecDeque<Buffered>,
    /// The sequence number of the channel's latest event: how many events it has had,
    /// or the largest explicit numeric id published on it if that is more.
    next_seq: u64,
    /// The id of the newest event evicted from `events`: a client that saw it has
    /// missed nothing the buffer no longer holds. Counted in [`Store::bytes`] (an id
    /// can be as long as a `/publish` body, and a channel keeps it for as long as it
    /// lives); `None` too once the budget forgot it to make room (see
    /// [`Store::forget_oldest_evicted`]), and a client resuming from it then gets the
    /// `reset` event.
    evicted: Option<String>,
    /// One past the order of the newest event evicted from `events` (0 if none): a
    /// cursor below it missed an event.
    gone_before: u64,
}

/// The replay buffers of all channels, under one lock and one byte budget.
#[derive(Default)]
struct Store {
    rings: HashMap<u64, Ring>,
    /// Every buffered event's order number with its channel, oldest first.
    order: BTreeMap<u64, u64>,
    /// The ring of every [`Ring::evicted`] id kept, by the order of its event, oldest
    /// first.
    evicted: BTreeMap<u64, u64>,
    /// What the buffered events and the kept evicted ids count together.
    bytes: usize,
    next_order: u64,
}

impl Store {
    /// Removes a channel's ring, its events and its evicted id.
    fn remove_ring(&mut self, key: u64) {
        if let Some(ring) = self.rings.remove(&key) {
            for old in ring.events {
                self.order.remove(&old.order);
                self.bytes -= old.bytes;
            }
            if let Some(id) = ring.evicted {
                self.evicted.remove(&(ring.gone_before - 1));
                self.bytes -= id.capacity();
            }
        }
    }

    /// Removes the oldest event of the ring `key`, keeping its id as the ring's
    /// [`Ring::evicted`] in place of the one before; whether there was one.
    fn evict_front(&mut self, key: u64) -> bool {
        let Some(ring) = self.rings.get_mut(&key) else {
            return false;
        };
        let Some(old) = ring.events.pop_front() else {
            return false;
        };
        self.order.remove(&old.order);
        self.bytes -= old.bytes;
        if let Some(previous) = ring.evicted.take() {
            self.evicted.remove(&(ring.gone_before - 1));
            self.bytes -= previous.capacity();
        }
        ring.gone_before = old.order + 1;
        let id = old.event.id.clone();
        self.bytes += id.capacity();
        ring.evicted = Some(id);
        self.evicted.insert(old.order, key);
        true
    }

    /// Removes the oldest buffered event of all channels; whether there was one.
    fn evict_oldest(&mut self) -> bool {
        let Some((order, channel)) = self.order.pop_first() else {
            return false;
        };
        let front = self
            .rings
            .get(&channel)
            .and_then(|ring| ring.events.front());
        if front.is_some_and(|b| b.order == order) {
            self.evict_front(channel);
        }
        true
    }

    /// Forgets the oldest [`Ring::evicted`] id kept; whether there was one. Only when
    /// no event is left to evict: it costs a client that saw that event a `reset`.
    fn forget_oldest_evicted(&mut self) -> bool {
        let Some((_, key)) = self.evicted.pop_first() else {
            return false;
        };
        if let Some(id) = self
            .rings
            .get_mut(&key)
            .and_then(|ring| ring.evicted.take())
        {
            self.bytes -= id.capacity();
        }
        true
    }
}

/// The replay buffers of all channels with their byte budget.
struct Buffers {
    store: Mutex<Store>,
    budget: usize,
}

/// Pending forced failures for `/control/fail`.
#[derive(Debug, Clone, Copy)]
struct Failures {
    remaining: u32,
    status: StatusCode,
}

/// One channel.
pub(crate) struct Channel {
    /// Key of this channel's ring in the shared [`Store`].
    key: u64,
    buffers: Arc<Buffers>,
    /// One past the order of the channel's newest event, sent under the buffers' lock
    /// after the event is stored: it wakes the channel's streams ([`Cursor`]).
    newest: watch::Sender<u64>,
    drops: watch::Sender<u64>,
    failures: Mutex<Option<Failures>>,
}

/// The number an explicit id spells as an automatic id would (decimal digits, no
/// leading zero), up to 2^53 (the largest integer a JavaScript number holds exactly),
/// which keeps the sequence far from overflowing.
fn sequence_number(id: &str) -> Option<u64> {
    const MAX: u64 = 1 << 53;
    let number: u64 = id.parse().ok()?;
    (number <= MAX && number.to_string() == id).then_some(number)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Channel {
    fn new(key: u64, buffers: Arc<Buffers>) -> Self {
        let (newest, _) = watch::channel(0);
        let (drops, _) = watch::channel(0);
        Self {
            key,
            buffers,
            newest,
            drops,
            failures: Mutex::new(None),
        }
    }

    /// Stores an event and wakes the channel's streams. Returns it and the number of
    /// streams.
    /// While the buffers of all channels hold more than the budget, the oldest events
    /// of all channels are evicted, but never this one (see the module docs).
    ///
    /// The caller has checked that `event` and `id` hold no CR, LF (or NUL for `id`).
    pub(crate) fn publish(
        &self,
        event: Option<String>,
        data: String,
        id: Option<String>,
    ) -> (Arc<StoredEvent>, usize) {
        // Held for as long as the ring keeps the event: without the spare room that
        // `Value::to_string()` and the like leave (up to as much again), which the
        // budget would count. (Before the lock: it may copy up to 64 KiB.)
        let shrunk = |mut text: String| {
            text.shrink_to_fit();
            text
        };
        let (event, data, id) = (event.map(shrunk), shrunk(data), id.map(shrunk));
        let mut guard = lock(&self.buffers.store);
        let store = &mut *guard;
        let order = store.next_order;
        store.next_order += 1;
        if store
            .rings
            .get(&self.key)
            .is_some_and(|ring| ring.events.len() >= REPLAY_BUFFER)
        {
            store.evict_front(self.key);
        }
        let ring = store.rings.entry(self.key).or_default();
        ring.next_seq += 1;
        // An explicit id that reads as a sequence number moves the sequence on to it, so
        // that no later automatic id repeats it: a resume from the repeated id would
        // find the newer event and skip the ones in between.
        if let Some(number) = id.as_deref().and_then(sequence_number) {
            ring.next_seq = ring.next_seq.max(number);
        }
        let stored = Arc::new(StoredEvent {
            id: id.unwrap_or_else(|| shrunk(ring.next_seq.to_string())),
            event,
            data,
            retry: None,
        });
        let bytes = stored.budget_bytes();
        ring.events.push_back(Buffered {
            order,
            bytes,
            event: Arc::clone(&stored),
        });
        store.order.insert(order, self.key);
        store.bytes += bytes;
        // Events first, all but this one, then the evicted ids kept: each eviction
        // frees more than the id it keeps (the overhead at least).
        while store.bytes > self.buffers.budget
            && ((store.order.len() > 1 && store.evict_oldest()) || store.forget_oldest_evicted())
        {
        }
        // Under the lock, so that the orders it tells come in order.
        self.newest.send_replace(order + 1);
        // (Counted under the lock too: a stream that subscribes after it starts after
        // this event.)
        let receivers = self.newest.receiver_count();
        drop(guard);
        (stored, receivers)
    }

    /// Places the stream's cursor under the buffers' lock, where [`Channel::publish`]
    /// stores events, so that the stream reads, with no gap and no duplicate, the
    /// replay and then every event published after this call, through that one cursor.
    ///
    /// The replay is the buffered events after the oldest event whose id equals
    /// `last_event_id` (an explicit id may be given twice, as a server replaying
    /// inclusively does: after the newest, a client that saw the older one would skip
    /// the events in between, so it gets them again instead); if that id is not
    /// buffered (evicted or never seen), it is every buffered event and
    /// [`Subscription::history_lost`] says so, unless the id is that of the newest
    /// event evicted: the client then missed nothing that went (and when a held event
    /// has that id too, it may have seen the evicted one: every held event goes, as a
    /// repeat rather than a loss). Events the ring evicts before the stream reaches
    /// them end it (see [`Cursor::next_batch`]).
    pub(crate) fn subscribe(&self, last_event_id: Option<&str>) -> Subscription {
        let dropped = self.drops.subscribe();
        let mut guard = lock(&self.buffers.store);
        let store = &mut *guard;
        let newest = self.newest.subscribe();
        // Made now if the channel never had an event, so that a cursor finds no ring
        // only once the channel is freed.
        let ring = store.rings.entry(self.key).or_default();
        let events = &ring.events;
        let evicted = ring.evicted.as_deref();
        // The index of the first buffered event to replay (past the last: none).
        let (from, history_lost) = match last_event_id {
            None => (usize::MAX, None),
            Some(last) => match events.iter().position(|b| b.event.id == last) {
                // Held, but also the id of the newest event evicted (an id given twice):
                // the client may have seen that older one, so it gets all that is held,
                // a repeat rather than a loss.
                Some(_) if evicted == Some(last) => (0, None),
                Some(pos) => (pos + 1, None),
                // The last event evicted: every later one is still held.
                None if evicted == Some(last) => (0, None),
                None => {
                    let oldest = events.front().map(|b| b.event.id.clone());
                    (0, Some(oldest))
                }
            },
        };
        let next = events
            .get(from)
            .map_or(store.next_order, |buffered| buffered.order);
        Subscription {
            cursor: Cursor {
                buffers: Arc::clone(&self.buffers),
                key: self.key,
                next,
                newest,
            },
            history_lost,
            dropped,
        }
    }

    /// Changes when `/control/drop` asks every stream of the channel to end.
    pub(crate) fn dropped(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
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

    /// Whether `/control/fail` armed a failure not consumed yet.
    fn failure_armed(&self) -> bool {
        lock(&self.failures).is_some()
    }
}

/// All channels, created on first use, at most [`MAX_CHANNELS`], freed when idle (see
/// the module docs), their replay buffers within one byte budget.
pub(crate) struct Channels {
    registry: Arc<Registry>,
}

struct Registry {
    map: Mutex<Map>,
    buffers: Arc<Buffers>,
    /// Bumped whenever a channel is made or freed or a stream opens or closes.
    changes: watch::Sender<u64>,
}

#[derive(Default)]
struct Map {
    entries: HashMap<String, Entry>,
    /// The key of the next channel's ring; keys are never reused.
    next_key: u64,
    /// Counts uses (handles taken and released): the least recently used order.
    clock: u64,
    /// Open `/events` streams of all channels.
    streams: usize,
}

struct Entry {
    channel: Arc<Channel>,
    /// Live [`ChannelHandle`]s: the channel is in use while this is not 0.
    users: usize,
    /// Open `/events` streams.
    streams: usize,
    /// [`Map::clock`] at the last use.
    last_used: u64,
}

/// Open `/events` streams and channels, as `GET /stats` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Open `/events` responses, all channels together.
    pub connections: usize,
    /// Channels the server holds.
    pub channels: usize,
    /// Open `/events` responses per channel, for the channels with at least one (at
    /// most [`MAX_CHANNELS`] entries).
    pub per_channel: BTreeMap<String, usize>,
}

impl Stats {
    /// The JSON body of `GET /stats`:
    /// `{"connections": N, "channels": M, "perChannel": {"name": n, ...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "connections": self.connections,
            "channels": self.channels,
            "perChannel": self.per_channel,
        })
    }
}

/// A channel in use: while a handle lives, its channel is not freed. Dereferences to
/// the [`Channel`].
pub(crate) struct ChannelHandle {
    registry: Arc<Registry>,
    name: String,
    channel: Arc<Channel>,
    /// Whether this handle counts as an open `/events` stream.
    stream: bool,
}

impl ChannelHandle {
    /// The channel.
    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// Counts this handle as an open `/events` stream until it is dropped.
    pub(crate) fn open_stream(&mut self) {
        if self.stream {
            return;
        }
        self.stream = true;
        let mut map = lock(&self.registry.map);
        map.streams += 1;
        if let Some(entry) = map.entries.get_mut(&self.name) {
            entry.streams += 1;
        }
        drop(map);
        self.registry.changed();
    }
}

impl std::ops::Deref for ChannelHandle {
    type Target = Channel;

    fn deref(&self) -> &Channel {
        &self.channel
    }
}

impl Drop for ChannelHandle {
    fn drop(&mut self) {
        let mut guard = lock(&self.registry.map);
        let map = &mut *guard;
        map.clock += 1;
        let clock = map.clock;
        if self.stream {
            map.streams -= 1;
        }
        // A handle's channel stays in the map while the handle lives.
        let freed = match map
            .entries
            .get_mut(&self.name)
            .filter(|entry| Arc::ptr_eq(&entry.channel, &self.channel))
        {
            None => false,
            Some(entry) => {
                entry.users -= 1;
                if self.stream {
                    entry.streams -= 1;
                }
                entry.last_used = clock;
                entry.users == 0 && !entry.channel.failure_armed() && {
                    let store = lock(&self.registry.buffers.store);
                    store
                        .rings
                        .get(&self.channel.key)
                        .is_none_or(|ring| ring.next_seq == 0)
                }
            }
        };
        if freed {
            self.registry.free(map, &self.name);
        }
        drop(guard);
        if self.stream || freed {
            self.registry.changed();
        }
    }
}

impl Registry {
    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Removes the channel `name` and its events.
    fn free(&self, map: &mut Map, name: &str) {
        if let Some(entry) = map.entries.remove(name) {
            lock(&self.buffers.store).remove_ring(entry.channel.key);
        }
    }

    /// The idle channel to free for a new one (see the module docs), if any.
    fn victim(&self, map: &Map) -> Option<String> {
        let store = lock(&self.buffers.store);
        map.entries
            .iter()
            .filter(|(_, entry)| entry.users == 0)
            .min_by_key(|(_, entry)| {
                let holds = store
                    .rings
                    .get(&entry.channel.key)
                    .is_some_and(|ring| !ring.events.is_empty());
                (entry.channel.failure_armed(), holds, entry.last_used)
            })
            .map(|(name, _)| name.clone())
    }
}

impl Channels {
    /// No channels yet; their buffers will hold at most `budget` bytes together.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            registry: Arc::new(Registry {
                map: Mutex::new(Map::default()),
                buffers: Arc::new(Buffers {
                    store: Mutex::new(Store::default()),
                    budget,
                }),
                changes: watch::channel(0).0,
            }),
        }
    }

    /// A handle on the channel called `name`, created if it does not exist yet. At
    /// [`MAX_CHANNELS`], a new name frees an idle channel first (see the module docs).
    ///
    /// # Errors
    ///
    /// A 503 when `name` is new, the server holds [`MAX_CHANNELS`] and every one of
    /// them is in use.
    pub(crate) fn get_or_create(&self, name: &str) -> Result<ChannelHandle, ApiError> {
        let registry = &self.registry;
        let mut guard = lock(&registry.map);
        let map = &mut *guard;
        map.clock += 1;
        let clock = map.clock;
        if let Some(entry) = map.entries.get_mut(name) {
            entry.users += 1;
            entry.last_used = clock;
            return Ok(ChannelHandle {
                registry: Arc::clone(registry),
                name: name.to_owned(),
                channel: Arc::clone(&entry.channel),
                stream: false,
            });
        }
        if map.entries.len() >= MAX_CHANNELS {
            let Some(victim) = registry.victim(map) else {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the server holds {MAX_CHANNELS} channels and every one has an open stream or a request in progress; use one of the existing channel names, or close some streams and try again"
                    ),
                ));
            };
            registry.free(map, &victim);
        }
        let key = map.next_key;
        map.next_key += 1;
        let channel = Arc::new(Channel::new(key, Arc::clone(&registry.buffers)));
        map.entries.insert(
            name.to_owned(),
            Entry {
                channel: Arc::clone(&channel),
                users: 1,
                streams: 0,
                last_used: clock,
            },
        );
        drop(guard);
        registry.changed();
        Ok(ChannelHandle {
            registry: Arc::clone(registry),
            name: name.to_owned(),
            channel,
            stream: false,
        })
    }

    /// The channel called `name`, if it exists; never creates one.
    pub(crate) fn find(&self, name: &str) -> Option<Arc<Channel>> {
        lock(&self.registry.map)
            .entries
            .get(name)
            .map(|entry| Arc::clone(&entry.channel))
    }

    /// Bytes the buffers of all channels hold, as counted against the budget.
    pub(crate) fn bytes(&self) -> usize {
        lock(&self.registry.buffers.store).bytes
    }

    /// Open streams and channels now.
    pub(crate) fn stats(&self) -> Stats {
        let map = lock(&self.registry.map);
        Stats {
            connections: map.streams,
            channels: map.entries.len(),
            per_channel: map
                .entries
                .iter()
                .filter(|(_, entry)| entry.streams > 0)
                .map(|(name, entry)| (name.clone(), entry.streams))
                .collect(),
        }
    }

    /// Resolves once `done` holds for [`Channels::stats`], checking again after every
    /// change.
    pub(crate) async fn wait_for_stats(&self, done: impl Fn(&Stats) -> bool) {
        let mut changes = self.registry.changes.subscribe();
        loop {
            changes.borrow_and_update();
            if done(&self.stats()) {
                return;
            }
            // The sender lives as long as `self`.
            if changes.changed().await.is_err() {
                return;
            }
        }
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
    use axum::response::IntoResponse;
    use futures::FutureExt;

    use super::*;

    /// The ids of every event the cursor reaches now, read a batch at a time.
    fn ids(mut replay: Cursor) -> Vec<String> {
        let mut ids = Vec::new();
        loop {
            let batch = replay.next_batch().expect("not overtaken");
            if batch.is_empty() {
                return ids;
            }
            ids.extend(batch.iter().map(|e| e.id.clone()));
        }
    }

    fn channel_with_budget(budget: usize) -> Channel {
        Channel::new(
            0,
            Arc::new(Buffers {
                store: Mutex::new(Store::default()),
                budget,
            }),
        )
    }

    fn unbounded_channel() -> Channel {
        channel_with_budget(usize::MAX)
    }

    #[test]
    fn an_event_over_the_whole_budget_still_reaches_the_live_streams() {
        // What broke (a review): streams read their live events from the ring, and an
        // event larger than the whole budget was evicted as it was stored: it reached
        // no stream, and each one ended as overtaken, losing it silently.
        let channel = channel_with_budget(1024);
        let mut live = channel.subscribe(None).cursor;
        channel.publish(None, "x".repeat(2048), None);
        let batch = live.next_batch().expect("not overtaken");
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].data.len(), 2048);
        // The next one takes its place.
        channel.publish(None, "y".repeat(2048), None);
        let batch = live.next_batch().expect("not overtaken");
        assert_eq!(
            batch.iter().map(|e| e.data.len()).collect::<Vec<_>>(),
            [2048]
        );
    }

    // What broke (a review): an event counted the length of its strings, but
    // `/publish` makes its data with `Value::to_string()`, whose buffer grows by
    // doubling: the ring held up to twice the bytes the budget counted.
    #[test]
    fn an_event_counts_at_least_the_bytes_it_holds() {
        let grown = |text: &str| {
            let mut grown = String::with_capacity(64 * 1024);
            grown.push_str(text);
            grown
        };
        let channels = Channels::new(usize::MAX);
        let channel = channels.get_or_create("c").expect("c");
        let (stored, _) = channel.publish(
            Some(grown("chat")),
            grown(r#"{"n":1}"#),
            Some(grown("id-1")),
        );
        let held = stored.event.as_ref().map_or(0, String::capacity)
            + stored.id.capacity()
            + stored.data.capacity();
        assert!(
            held + EVENT_OVERHEAD <= channels.bytes(),
            "{held} bytes held, {} counted",
            channels.bytes()
        );
        // And the spare room is not kept, taking the budget's place.
        assert!(held < 64, "{held} bytes held for 15 bytes of text");
    }

    fn publish_many(channel: &Channel, count: usize) {
        for _ in 0..count {
            channel.publish(None, "x".into(), None);
        }
    }

    fn numbers(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
        range.map(|n| n.to_string()).collect()
    }

    /// The ids of the replay's next batch.
    fn batch_ids(replay: &mut Cursor) -> Result<Vec<String>, Overtaken> {
        let batch = replay.next_batch()?;
        Ok(batch.iter().map(|e| e.id.clone()).collect())
    }

    /// The id of the oldest event the channel holds.
    fn oldest(channel: &Channel) -> Option<String> {
        let store = lock(&channel.buffers.store);
        let ring = store.rings.get(&channel.key)?;
        ring.events.front().map(|b| b.event.id.clone())
    }

    fn head(channel: &Channel) -> u64 {
        let store = lock(&channel.buffers.store);
        store
            .rings
            .get(&channel.key)
            .map_or(0, |ring| ring.next_seq)
    }

    #[test]
    fn replay_starts_after_the_given_id() {
        let channel = unbounded_channel();
        for n in 0..3 {
            channel.publish(None, n.to_string(), None);
        }
        assert_eq!(ids(channel.subscribe(Some("1")).cursor), ["2", "3"]);
        assert!(channel.subscribe(Some("1")).history_lost.is_none());
        assert!(ids(channel.subscribe(Some("3")).cursor).is_empty());
        assert!(channel.subscribe(Some("3")).history_lost.is_none());
        assert!(ids(channel.subscribe(None).cursor).is_empty());
        assert!(channel.subscribe(None).history_lost.is_none());
        // Regression: an unknown id used to replay nothing, silently.
        let unknown = channel.subscribe(Some("unknown"));
        assert_eq!(ids(unknown.cursor), ["1", "2", "3"]);
        assert_eq!(unknown.history_lost, Some(Some("1".to_owned())));
        let empty = unbounded_channel().subscribe(Some("7"));
        assert!(ids(empty.cursor).is_empty());
        assert_eq!(empty.history_lost, Some(None));
    }

    /// A cursor reads exactly the events after the resume point, however `subscribe`
    /// interleaves with a concurrent publisher.
    #[test]
    fn resuming_while_publishing_has_no_gap_or_duplicate() {
        const TOTAL: u64 = 200;
        for _ in 0..20 {
            let channel = Arc::new(unbounded_channel());
            channel.publish(None, "0".into(), None);
            let publisher = {
                let channel = Arc::clone(&channel);
                std::thread::spawn(move || {
                    for n in 2..=TOTAL {
                        channel.publish(None, n.to_string(), None);
                    }
                })
            };
            let mut subscriptions = Vec::new();
            while !publisher.is_finished() || subscriptions.is_empty() {
                let head = head(&channel);
                let last = head.saturating_sub(subscriptions.len() as u64 % 4).max(1);
                subscriptions.push((last, channel.subscribe(Some(&last.to_string()))));
            }
            publisher.join().expect("publisher");
            for (last, subscription) in subscriptions {
                let got = ids(subscription.cursor);
                let expected: Vec<String> = (last + 1..=TOTAL).map(|n| n.to_string()).collect();
                assert_eq!(got, expected, "resumed after {last}");
            }
        }
    }

    #[test]
    fn a_cursor_reads_the_replay_then_later_events_in_batches() {
        let channel = unbounded_channel();
        publish_many(&channel, 2 * REPLAY_BATCH + 3);
        let mut subscription = channel.subscribe(Some("1"));
        // Published after the subscription: read through the same cursor.
        channel.publish(None, "late".into(), None);
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let batch = subscription.cursor.next_batch().expect("not overtaken");
            if batch.is_empty() {
                break;
            }
            sizes.push(batch.len());
            got.extend(batch.iter().map(|e| e.id.clone()));
        }
        assert_eq!(sizes, [REPLAY_BATCH, REPLAY_BATCH, 3]);
        assert_eq!(got, numbers(2..=2 * REPLAY_BATCH + 4));
        assert_eq!(batch_ids(&mut subscription.cursor), Ok(Vec::new()));
        // Having read everything, it waits for the next publish, and reads it.
        let cursor = &mut subscription.cursor;
        assert_eq!(cursor.published().now_or_never(), None);
        channel.publish(None, "later".into(), None);
        assert_eq!(cursor.published().now_or_never(), Some(true));
        let later = (2 * REPLAY_BATCH + 5).to_string();
        assert_eq!(batch_ids(cursor), Ok(vec![later]));
        assert_eq!(cursor.published().now_or_never(), None);

        // Big events: as many as REPLAY_BATCH_BYTES holds, and one alone when it is
        // bigger.
        let channel = unbounded_channel();
        let third = "x".repeat(REPLAY_BATCH_BYTES / 3 - EVENT_OVERHEAD - 1);
        for data in [
            &third,
            &third,
            &third,
            &third,
            &"y".repeat(REPLAY_BATCH_BYTES),
        ] {
            channel.publish(None, data.clone(), None);
        }
        channel.publish(None, "z".into(), None);
        let mut replay = channel.subscribe(Some("unknown")).cursor;
        let sizes: Vec<usize> = std::iter::from_fn(|| {
            let batch = replay.next_batch().expect("not overtaken");
            (!batch.is_empty()).then_some(batch.len())
        })
        .collect();
        assert_eq!(sizes, [3, 1, 1, 1]);
    }

    #[test]
    fn eviction_of_events_a_cursor_has_not_reached_ends_it() {
        // Ten events of 1000 bytes with three-digit ids, and the id kept of the newest
        // evicted one, fill the budget.
        let channel = channel_with_budget(10 * (EVENT_OVERHEAD + 1003) + 3);
        let data = "x".repeat(1000);
        for _ in 0..2 * REPLAY_BATCH {
            channel.publish(None, data.clone(), None);
        }
        let newest = 2 * REPLAY_BATCH;
        assert_eq!(oldest(&channel), Some((newest - 9).to_string()));
        // One replay starts at the oldest event held, one after it.
        let mut from_oldest = channel.subscribe(Some("unknown")).cursor;
        let mut after_oldest = channel.subscribe(Some(&(newest - 9).to_string())).cursor;
        channel.publish(None, data.clone(), None);
        assert_eq!(oldest(&channel), Some((newest - 8).to_string()));
        assert_eq!(batch_ids(&mut from_oldest), Err(Overtaken));
        assert_eq!(
            batch_ids(&mut after_oldest),
            Ok(numbers(newest - 8..=newest + 1)),
            "what went was before its start"
        );
        // Overtaken for good, whatever is published next.
        channel.publish(None, data.clone(), None);
        assert_eq!(batch_ids(&mut from_oldest), Err(Overtaken));
        // A cursor that read every event, then stalled while the budget evicted ones
        // published later, is overtaken too.
        assert_eq!(
            batch_ids(&mut after_oldest),
            Ok(numbers(newest + 2..=newest + 2))
        );
        // Ten more evict what it read, the eleventh the first one it did not.
        for _ in 0..11 {
            channel.publish(None, data.clone(), None);
        }
        assert_eq!(batch_ids(&mut after_oldest), Err(Overtaken));

        // A replay read one batch, then the budget evicted the next one (room for two
        // batches, and the id kept of the newest evicted event).
        let channel = channel_with_budget(2 * REPLAY_BATCH * (EVENT_OVERHEAD + 1003) + 3);
        publish_many(&channel, 2 * REPLAY_BATCH);
        let mut replay = channel.subscribe(Some("1")).cursor;
        let sent = batch_ids(&mut replay).expect("held");
        assert_eq!(sent, numbers(2..=REPLAY_BATCH + 1));
        for _ in 0..2 * REPLAY_BATCH {
            channel.publish(None, data.clone(), None);
        }
        assert_eq!(batch_ids(&mut replay), Err(Overtaken));
        // Its client resumes with the last id it got, whose next event is gone: it
        // gets `reset`.
        let resumed = channel.subscribe(sent.last().map(String::as_str));
        let oldest_held = (2 * REPLAY_BATCH + 1).to_string();
        assert_eq!(resumed.history_lost, Some(Some(oldest_held)));
    }

    #[test]
    fn eviction_of_events_a_cursor_passed_changes_nothing() {
        let channel = unbounded_channel();
        publish_many(&channel, 200);
        let mut replay = channel.subscribe(Some("1")).cursor;
        assert_eq!(batch_ids(&mut replay), Ok(numbers(2..=REPLAY_BATCH + 1)));
        // The per-channel cap evicts every event up to the last one read.
        publish_many(&channel, REPLAY_BUFFER - 200 + REPLAY_BATCH + 1);
        assert_eq!(oldest(&channel), Some((REPLAY_BATCH + 2).to_string()));
        assert_eq!(
            ids(replay),
            numbers(REPLAY_BATCH + 2..=REPLAY_BUFFER + REPLAY_BATCH + 1)
        );

        // The same when the budget evicts them for another channel.
        let channels = Channels::new(200 * (EVENT_OVERHEAD + 4));
        let quiet = channels.get_or_create("quiet").expect("quiet");
        let busy = channels.get_or_create("busy").expect("busy");
        publish_many(&quiet, 100);
        let mut replay = quiet.subscribe(Some("1")).cursor;
        assert_eq!(batch_ids(&mut replay), Ok(numbers(2..=REPLAY_BATCH + 1)));
        let next = (REPLAY_BATCH + 2).to_string();
        for _ in 0..1000 {
            if oldest(&quiet).as_ref() == Some(&next) {
                break;
            }
            busy.publish(None, "x".into(), None);
        }
        assert_eq!(oldest(&quiet), Some(next));
        assert_eq!(ids(replay), numbers(REPLAY_BATCH + 2..=100));
    }

    // Regression: a subscription copied its whole replay as `Arc`s at connect time, so a
    // client that stopped reading kept every event of it alive after the budget evicted
    // it: about 60 MB per stalled reader with 60 KiB events, outside the budget.
    // What broke next (a review): the events published after the subscription came
    // through a broadcast whose slots a stalled stream never read, so each one stayed
    // alive there (256 of them) after the budget evicted it.
    #[test]
    fn a_stalled_replay_keeps_no_evicted_event_alive() {
        let data = "x".repeat(60 * 1024);
        let per_event = EVENT_OVERHEAD + data.len() + 2;
        let channels = Channels::new(10 * per_event);
        let channel = channels.get_or_create("stalled").expect("stalled");
        let publish = |count: usize| -> Vec<Arc<StoredEvent>> {
            (0..count)
                .map(|_| channel.publish(None, data.clone(), None).0)
                .collect()
        };
        let before = publish(10);
        let stalled = channel.subscribe(Some("1"));
        let after = publish(10);
        // These evict the ten published after the subscription.
        publish(10);
        assert!(channels.bytes() <= 10 * per_event);
        let alive = |events: &[Arc<StoredEvent>]| {
            events.iter().filter(|e| Arc::strong_count(e) > 1).count()
        };
        assert_eq!(
            alive(&before),
            0,
            "evicted events of its replay the stalled subscription still holds"
        );
        assert_eq!(
            alive(&after),
            0,
            "evicted events published after it that the stalled subscription still holds"
        );
        drop(stalled);
    }

    // What broke (a review): each channel kept the id of its newest evicted event (up to
    // a `/publish` body, 64 KiB) outside the budget for as long as it lived, so a
    // thousand channels held 64 MiB more than the budget said.
    #[test]
    fn the_evicted_ids_kept_count_against_the_budget() {
        let budget = 256 * 1024;
        let channels = Channels::new(budget);
        let held = |channels: &Channels| {
            let store = lock(&channels.registry.buffers.store);
            let events: usize = store
                .rings
                .values()
                .flat_map(|ring| ring.events.iter())
                .map(|buffered| buffered.event.budget_bytes())
                .sum();
            let ids: usize = store
                .rings
                .values()
                .filter_map(|ring| ring.evicted.as_ref())
                .map(String::capacity)
                .sum();
            (events + ids, store.bytes)
        };
        let mut handles = Vec::new();
        for n in 0..200 {
            let channel = channels.get_or_create(&format!("c{n}")).expect("c");
            // Its first event, with a long id, is evicted by the ones after it.
            channel.publish(
                None,
                "1".into(),
                Some(format!("{n}-{}", "x".repeat(10_000))),
            );
            channel.publish(None, "2".into(), None);
            handles.push(channel);
            let (held, counted) = held(&channels);
            assert_eq!(held, counted, "the count is what is held");
            assert!(held <= budget, "{held} bytes held for a budget of {budget}");
        }
        // Freeing the channels gives back what their evicted ids counted.
        let mut store = lock(&channels.registry.buffers.store);
        for handle in &handles {
            store.remove_ring(handle.key);
        }
        assert_eq!(store.bytes, 0);
    }

    #[test]
    fn channel_count_is_capped_while_all_are_in_use() {
        let channels = Channels::new(usize::MAX);
        assert!(channels.find("a").is_none());
        let mut handles: Vec<ChannelHandle> = (0..MAX_CHANNELS)
            .map(|n| {
                channels
                    .get_or_create(&n.to_string())
                    .expect("under the cap")
            })
            .collect();
        let Err(error) = channels.get_or_create("one-more") else {
            panic!("a channel over the cap was created");
        };
        assert_eq!(
            error.into_response().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(channels.find("one-more").is_none());
        // Existing channels are still served.
        assert!(channels.get_or_create("0").is_ok());
        assert!(channels.find("0").is_some());
        // Once one is idle, a new name takes its place.
        handles.swap_remove(7);
        assert!(channels.find("7").is_none());
        let _more = channels
            .get_or_create("one-more")
            .expect("room for one more");
        assert_eq!(channels.stats().channels, MAX_CHANNELS);
    }

    // Regression: a channel was made by any request naming it and never freed, so a
    // thousand `<img src=/events?channel=rN>` filled MAX_CHANNELS for good.
    #[test]
    fn idle_channels_that_hold_nothing_are_freed() {
        let channels = Channels::new(usize::MAX);
        let mut stream = channels.get_or_create("a").expect("a");
        stream.open_stream();
        let second = channels.get_or_create("a").expect("a again");
        assert_eq!(
            channels.stats(),
            Stats {
                connections: 1,
                channels: 1,
                per_channel: [("a".to_owned(), 1)].into_iter().collect(),
            }
        );
        drop(stream);
        assert_eq!(channels.stats().connections, 0);
        assert!(channels.find("a").is_some(), "in use by `second`");
        drop(second);
        assert!(channels.find("a").is_none());
        assert_eq!(channels.stats(), Stats::default());

        // Kept: a channel that stored an event (for replay), one with a pending
        // failure.
        channels
            .get_or_create("held")
            .expect("held")
            .publish(None, "1".into(), None);
        channels
            .get_or_create("armed")
            .expect("armed")
            .fail_next(1, StatusCode::BAD_GATEWAY);
        assert!(channels.find("held").is_some());
        assert!(channels.find("armed").is_some());
        // The failure consumed, the armed channel holds nothing: freed.
        let armed = channels.get_or_create("armed").expect("armed");
        assert!(armed.take_failure().is_some());
        drop(armed);
        assert!(channels.find("armed").is_none());
        for n in 0..2 * MAX_CHANNELS {
            channels
                .get_or_create(&format!("r{n}"))
                .expect("idle channels never fill the server");
        }
        assert_eq!(channels.stats().channels, 1);
    }

    #[test]
    fn at_the_cap_the_idle_channel_that_loses_least_goes_first() {
        let channels = Channels::new(usize::MAX);
        let streamed = channels.get_or_create("streamed").expect("streamed");
        streamed.publish(None, "s".into(), None);
        channels
            .get_or_create("armed")
            .expect("armed")
            .fail_next(1, StatusCode::BAD_GATEWAY);
        for n in 0..MAX_CHANNELS - 2 {
            channels
                .get_or_create(&format!("c{n}"))
                .expect("c")
                .publish(None, n.to_string(), None);
        }
        let bytes = channels.bytes();
        // Every idle channel holds an event: the least recently used goes, with its
        // events.
        drop(channels.get_or_create("c0").expect("use c0 again"));
        drop(channels.get_or_create("new1").expect("frees c1"));
        assert!(channels.find("c1").is_none());
        assert!(channels.find("c0").is_some());
        assert!(channels.bytes() < bytes);
        // A channel whose events are gone goes before those that hold some.
        channels
            .get_or_create("new2")
            .expect("new2")
            .publish(None, "x".into(), None);
        {
            let mut store = lock(&channels.registry.buffers.store);
            let key = channels.find("c500").expect("c500").key;
            store.remove_ring(key);
            store.rings.insert(
                key,
                Ring {
                    events: VecDeque::new(),
                    next_seq: 1,
                    evicted: None,
                    gone_before: 0,
                },
            );
        }
        drop(channels.get_or_create("new3").expect("frees c500"));
        assert!(channels.find("c500").is_none());
        assert!(channels.find("c2").is_some());
        // The armed channel goes last; the streamed one never.
        for n in 0..MAX_CHANNELS {
            channels
                .get_or_create(&format!("more{n}"))
                .expect("more")
                .publish(None, n.to_string(), None);
        }
        assert!(channels.find("c0").is_none());
        assert_eq!(channels.stats().channels, MAX_CHANNELS);
        assert!(channels.find("streamed").is_some());
        assert!(channels.find("armed").is_some());
        let store = lock(&channels.registry.buffers.store);
        assert_eq!(
            store.order.len(),
            store.rings.values().map(|r| r.events.len()).sum::<usize>()
        );
    }

    #[test]
    fn buffer_keeps_the_newest_thousand() {
        let channel = unbounded_channel();
        for _ in 0..REPLAY_BUFFER + 5 {
            channel.publish(None, "x".into(), None);
        }
        assert_eq!(
            channel.subscribe(Some("4")).history_lost,
            Some(Some("6".to_owned()))
        );
        // Regression: the newest id evicted was a lost history too, though the client
        // that saw it missed nothing (a false `reset`).
        let after_evicted = channel.subscribe(Some("5"));
        assert!(after_evicted.history_lost.is_none());
        assert_eq!(ids(after_evicted.cursor).len(), REPLAY_BUFFER);
        let replay = ids(channel.subscribe(Some("6")).cursor);
        assert_eq!(replay.len(), REPLAY_BUFFER - 1);
        let newest = (REPLAY_BUFFER + 5).to_string();
        assert_eq!(replay.last(), Some(&newest));
    }

    // Regression: a quiet channel's events are the oldest of all, so a busy channel's
    // evict them first; a client that had seen its newest one got a `reset` saying
    // history was lost when nothing was.
    #[test]
    fn a_client_that_saw_the_newest_evicted_event_lost_nothing() {
        let channels = Channels::new(4 * (EVENT_OVERHEAD + 2));
        let quiet = channels.get_or_create("quiet").expect("quiet");
        let busy = channels.get_or_create("busy").expect("busy");
        quiet.publish(None, "q".into(), None);
        quiet.publish(None, "q".into(), None);
        for _ in 0..4 {
            busy.publish(None, "b".into(), None);
        }
        assert!(ids(quiet.subscribe(None).cursor).is_empty() && head(&quiet) == 2);
        let resumed = quiet.subscribe(Some("2"));
        assert!(resumed.history_lost.is_none());
        assert!(ids(resumed.cursor).is_empty());
        // The one before it went unseen.
        assert_eq!(quiet.subscribe(Some("1")).history_lost, Some(None));
        // Held again: the replay after it.
        quiet.publish(None, "q".into(), None);
        let resumed = quiet.subscribe(Some("2"));
        assert!(resumed.history_lost.is_none());
        assert_eq!(ids(resumed.cursor), ["3"]);
    }

    #[test]
    fn explicit_ids_and_failures() {
        let channel = unbounded_channel();
        channel.publish(None, "a".into(), Some("x".into()));
        channel.publish(None, "b".into(), None);
        assert_eq!(ids(channel.subscribe(Some("x")).cursor), ["2"]);

        // What broke: an explicit numeric id was later given again as an automatic id,
        // and a resume from the first one started after the second, losing what came
        // between.
        channel.publish(None, "c".into(), Some("5".into()));
        for data in ["d", "e", "f"] {
            channel.publish(None, data.into(), None);
        }
        assert_eq!(ids(channel.subscribe(Some("5")).cursor), ["6", "7", "8"]);
        // Ids that are not written as the sequence writes numbers do not move it.
        for id in ["09", "+10", "9007199254740993"] {
            channel.publish(None, "g".into(), Some(id.into()));
        }
        channel.publish(None, "h".into(), None);
        assert_eq!(
            ids(channel.subscribe(Some("8")).cursor),
            ["09", "+10", "9007199254740993", "12"]
        );

        // What broke (a review): an id given twice resumed after its newest event, so a
        // client that had seen the older one skipped the events in between; it resumes
        // after the oldest (what it may have seen again is a repeat, never a loss).
        channel.publish(None, "again".into(), Some("+10".into()));
        assert_eq!(
            ids(channel.subscribe(Some("+10")).cursor),
            ["9007199254740993", "12", "+10"]
        );

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
