//! The Redis broker: one Redis stream per channel, shared by every instance.
//!
//! - Publish: `XADD wes:stream:<channel> MAXLEN ~ 1000 * event <type> data <data>`; the
//!   entry id (`1700000000000-0`) is the SSE `id:`. An explicit `id` from `/publish` is
//!   passed to `XADD`, so it must be a stream id greater than the channel's newest.
//!   Each publish, and each read of a channel's reader, sets the stream to expire
//!   [`STREAM_TTL_MS`] (a day) later, so that channels no one publishes to or streams any
//!   more leave Redis.
//! - Replay: pages of `XRANGE key (<id> + COUNT n` (at most 64 entries and 64 KiB, or
//!   one bigger entry), read as the stream is written, never all at connect time, so
//!   that a stream whose client stops reading holds one page of its replay at most. Each page is
//!   read in one script with the check (`XRANGE key <id> <id>`) that the stream still
//!   holds the id it follows: first the client's Last-Event-ID, then each page's last
//!   entry. If the client's id is not held (trimmed, never seen, not a stream id), the
//!   stream starts with the same `reset` event as the in-memory broker, then every
//!   entry held. If a later page's id went (trimmed while the client read the page
//!   before), entries after it may have gone unsent: the stream ends, as when it lags
//!   behind live entries, and the client resumes with its Last-Event-ID, getting the
//!   `reset` if that id is gone, so no entry trimmed unsent is skipped without a
//!   `reset`. A later page Redis does not answer is asked again, with the same comments
//!   as a reader's outage below.
//! - Live: one reader task per channel per instance reads the stream on its own
//!   connection (a script that reads a page after its cursor, then `XREAD BLOCK` to
//!   wait for more; where Redis refuses the blocking `XREAD`, as a user without that
//!   right, it reads a page every second instead) and puts entries in the channel's
//!   live ring on this instance (`LiveRing`), which its streams read through cursors
//!   a batch at a time, woken by a `watch`. The ring holds only what some stream has
//!   not read yet, and at most 4,096 entries and 4 MiB (`LIVE_CAPACITY`, `LIVE_BYTES`),
//!   besides the page of entries the reader is adding (at most 1,000 entries and 1 MiB,
//!   or one bigger entry: `READ_COUNT`, `READ_PAGE_BYTES`); and the rings of all
//!   channels together hold at most the channel budget
//!   ([`crate::Config::channel_budget`], counted as memory mode counts events): over
//!   it, the ring that holds the most drops its oldest items, pages included, down to
//!   its newest. A stream that falls further behind (its client stopped reading, or it
//!   is still sending its replay) finds its next entry gone and ends, and its client
//!   resumes by Last-Event-ID from Redis. So stalled streams hold at most that much
//!   together, and each one page of its replay. A stream skips live entries it already
//!   replayed (stream ids are ordered), so replay plus live has no gap and no
//!   duplicate. The reader stops when the channel's last local stream closes (its
//!   connection closes once a command in flight is answered), and an instance has at
//!   most [`MAX_CHANNELS`] readers: a stream on another channel gets a 503 then.
//!
//! Faults: commands time out after [`COMMAND_TIMEOUT`]; a publish or a new stream that
//! cannot reach Redis gets a 503 with a JSON error. A reader that loses Redis sends
//! `: broker unavailable, retrying` to its streams (which stay open), retries with
//! backoff from [`BACKOFF_MIN`] to [`BACKOFF_MAX`] (a new stream of its channel has it
//! try at once, and is answered by what it finds: Redis may be back before the backoff
//! ends), sends `: broker available` once it reads again (and the unavailable comment
//! again at the next loss), and goes on from its cursor, so nothing acknowledged is skipped. If
//! Redis deleted (trimmed) entries after the reader's cursor before it read them, it
//! ends its streams so that their clients resume by Last-Event-ID (and get a `reset`
//! if that id is gone); so too when the stream went away and began again (a `DEL`, a
//! Redis restarted without persistence) and that shows (fewer entries ever added than
//! the reader read, or a greatest id below its cursor: a new stream with as many
//! entries, whose ids reach past the cursor, passes for the old one), which the reader
//! then reads from its start. The check is exact for trimming with Redis 7 and later: the
//! script that reads a page also reads the stream's `entries-added` and length, and
//! the reader knows how many of the entries ever added it has read, so entries were
//! lost exactly when more were removed than that (trimming removes the oldest first).
//! A burst that trims only entries already read, the cursor entry included, or the
//! first read of a stream that was empty, ends nothing. An `XDEL` by another writer is
//! seen through `max-deleted-entry-id`. Before Redis 7 the check is the conservative
//! "the oldest entry held is newer than the cursor" (see `Page::lost`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Client, RedisError};
use tokio::sync::watch;

use super::{Broker, Health, Live, NewEvent, Published, Subscription};
use crate::channels::{Channel, StoredEvent, MAX_CHANNELS};
use crate::error::ApiError;

/// Prefix of the stream key of each channel: `wes:stream:<channel>`.
pub const STREAM_PREFIX: &str = "wes:stream:";

/// The `MAXLEN ~` of every channel's stream: about this many entries are kept for
/// replay (Redis trims whole nodes, so a few more may stay).
pub const STREAM_MAXLEN: usize = 1000;

/// How long, in milliseconds, a channel's stream outlives its last publish or read (a
/// day): every `XADD`, and every read of a reader, sets the key to expire then, so that
/// channels nobody publishes to or streams any more do not hold Redis memory for good
/// (a publish to a new channel makes a key; input can make any number).
pub const STREAM_TTL_MS: u64 = 24 * 60 * 60 * 1000;

/// Longest wait for one Redis command (and for a connection).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// First delay before a reader reconnects after an error; doubled up to
/// [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);

/// Longest delay between a reader's reconnection attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// The `BLOCK` of each `XREAD`: how long a reader waits for new entries before it
/// checks whether it still has streams to serve.
const BLOCK: Duration = Duration::from_millis(1000);

/// Entries per page a reader reads.
const READ_COUNT: usize = 1000;

/// Most bytes of entries (their field names and values) per page a reader reads,
/// unless its first entry alone has more: the page goes into the live ring whole,
/// beyond the ring's own bounds (see [`Reader::send`]).
const READ_PAGE_BYTES: usize = 1024 * 1024;

/// Most entries per `XRANGE` page of a replay.
const REPLAY_PAGE: usize = 64;

/// Most bytes of entries (their field names and values) per page of a replay, unless
/// its first entry alone has more: with [`REPLAY_PAGE`], what a stream whose client
/// stopped reading holds of its replay.
const REPLAY_PAGE_BYTES: usize = 64 * 1024;

/// Most entries (and comments) a channel's live ring holds; a stream that falls further
/// behind ends and its client resumes by Last-Event-ID.
const LIVE_CAPACITY: usize = 4096;

/// Most bytes (as [`crate::Config::channel_budget`] counts an event) a channel's live
/// ring holds, unless its newest entry alone has more; a stream that falls further
/// behind ends and its client resumes by Last-Event-ID.
const LIVE_BYTES: usize = 4 * 1024 * 1024;

/// Most items a stream takes from the live ring at once (and bytes:
/// [`REPLAY_PAGE_BYTES`], unless the first item alone has more).
const LIVE_BATCH: usize = 64;

/// The comment sent to open streams when their reader loses Redis.
pub const UNAVAILABLE_COMMENT: &str = "broker unavailable, retrying";

/// The comment sent to open streams when their reader reads from Redis again.
pub const AVAILABLE_COMMENT: &str = "broker available";

/// The Redis key of a channel's stream.
pub(crate) fn stream_key(channel: &str) -> String {
    format!("{STREAM_PREFIX}{channel}")
}

/// A stream entry id `MS-SEQ` (or `MS`, meaning `MS-0`) as a pair that orders like
/// Redis orders ids; `None` if it is not one.
pub(crate) fn parse_stream_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    // At most a u64's 20 digits: Redis refuses a longer id (leading zeros too), which
    // read as Redis being down (a 503 that ends an EventSource for good), where an id
    // not held gets a `reset`.
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(ms) || !digits(seq) {
        return None;
    }
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The largest milliseconds part of an explicit id (2^53 - 1, the largest integer a
/// JavaScript number holds exactly, as the memory broker's numeric ids): past it, an
/// id such as `18446744073709551615-18446744073709551615` leaves Redis no id to assign
/// after it, and every later publish of the channel fails.
const MAX_ID_MS: u64 = (1 << 53) - 1;

/// How the text of an error begins when Redis answered a command with a refusal
/// (see [`describe`]), rather than not answering.
const REFUSED: &str = "redis refused the command";

/// Redis's codes for a command it refuses because of how it or its data are set up: a
/// key of another type, a user without the rights, no memory left, snapshots failing,
/// no or a wrong password. Busy scripts, loading, failovers, full client lists and the
/// like pass by themselves, and count as unreachable meanwhile.
const REFUSALS: [&str; 6] = [
    "WRONGTYPE",
    "NOPERM",
    "OOM",
    "MISCONF",
    "NOAUTH",
    "WRONGPASS",
];

/// Whether Redis refused `error`'s command (see [`REFUSALS`]). Before Redis 7 an error
/// inside a script comes as `ERR Error running script … WRONGTYPE …`: the code is then
/// looked for in the text.
fn is_refusal(error: &RedisError) -> bool {
    if error.kind() == redis::ErrorKind::AuthenticationFailed {
        return true;
    }
    let text = error.to_string();
    REFUSALS.iter().any(|code| {
        error.code() == Some(*code)
            || text.contains(&format!("{code} "))
            || text.contains(&format!("\"{code}\""))
    })
}

/// The text of a Redis error: a refusal begins with [`REFUSED`].
fn describe(error: &RedisError) -> String {
    if is_refusal(error) {
        format!("{REFUSED} ({error})")
    } else {
        error.to_string()
    }
}

/// What a refusal by Redis (see [`REFUSED`]) comes from, for the 503s that tell one.
fn refusal_causes() -> String {
    format!(
        "that is Redis's setup, not the network: a key of another type in place of a \
         channel's stream (`{STREAM_PREFIX}NAME`), a user without the rights, no memory \
         left, failing snapshots or a wrong password"
    )
}

/// The 503 answered when Redis cannot be reached, or refused what was asked.
pub(crate) fn unavailable(error: &str) -> ApiError {
    let message = if error.starts_with(REFUSED) {
        format!(
            "the redis broker is reachable but {error}; {}. The server keeps trying, but \
             fix it in Redis first",
            refusal_causes()
        )
    } else {
        format!(
            "the redis broker is unreachable ({error}); the server keeps retrying it, so try again in a moment"
        )
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
}

/// The 503 of a publish whose `XADD` Redis refused or could not be sent: the event
/// is not stored, and nothing sends it later ([`unavailable`]'s "keeps trying" is
/// the channel's reader, not this event).
fn not_stored(error: &RedisError) -> ApiError {
    let message = if is_refusal(error) {
        format!(
            "the redis broker is reachable but {}, so the event was not stored; {}. Fix \
             it in Redis, then publish the event again",
            describe(error),
            refusal_causes()
        )
    } else {
        format!(
            "the redis broker is unreachable ({error}), so the event was most likely not \
             stored: publish it again in a moment (with an `id`, which redis refuses to \
             store twice, a retry cannot deliver it twice)"
        )
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
}

/// A publish Redis did not answer in time: its `XADD` may still be applied.
fn stalled() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the redis broker gave no answer within {} ms, so the event may have been \
             stored (and is then delivered); publishing it again may deliver it twice, \
             unless it carries an `id`, which redis refuses to store twice",
            COMMAND_TIMEOUT.as_millis()
        ),
    )
}

/// Runs a Redis command future with [`COMMAND_TIMEOUT`]; errors become text.
pub(crate) async fn timed<T>(
    future: impl std::future::Future<Output = Result<T, RedisError>>,
) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(describe(&error)),
        Err(_) => Err(format!(
            "no answer within {} ms",
            COMMAND_TIMEOUT.as_millis()
        )),
    }
}

/// Reconnection delays: doubling from [`BACKOFF_MIN`], clamped to [`BACKOFF_MAX`].
#[derive(Debug)]
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub(crate) fn new() -> Self {
        Self(BACKOFF_MIN)
    }

    /// The delay to wait now; the next one is twice as long, at most [`BACKOFF_MAX`].
    pub(crate) fn next_delay(&mut self) -> Duration {
        let now = self.0.clamp(BACKOFF_MIN, BACKOFF_MAX);
        self.0 = now.saturating_mul(2).min(BACKOFF_MAX);
        now
    }

    pub(crate) fn reset(&mut self) {
        self.0 = BACKOFF_MIN;
    }
}

/// Where a channel's reader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReaderState {
    /// Finding the stream's newest id, where live delivery starts.
    Starting,
    /// Reading: every entry after its start point is or will be in the live ring.
    Ready,
    /// Redis is unreachable; retrying.
    Down,
    /// Redis refused the reader's commands (see [`is_refusal`]); retrying.
    Refused,
}

struct Reader {
    /// What every ring holds counts in [`Shared::live_bytes`] too (see [`LiveRing`]).
    live: Mutex<LiveRing>,
    /// [`LiveRing::end`], sent under the ring's lock after each change: it wakes the
    /// channel's streams, and counts them.
    newest: watch::Sender<u64>,
    state: watch::Receiver<ReaderState>,
    /// Ends the reader's backoff: a stream that joins while it is down has it try
    /// Redis now (the backoff may have grown to [`BACKOFF_MAX`]).
    wake: tokio::sync::Notify,
    /// What Redis (or the connection) said when the reader last failed: a stream
    /// refused meanwhile is told it.
    last_error: Mutex<String>,
}

impl Reader {
    /// A reader whose ring counts in `total`, in `state`.
    fn new(total: Arc<AtomicUsize>, state: watch::Receiver<ReaderState>) -> Self {
        Self {
            live: Mutex::new(LiveRing::new(total)),
            newest: watch::channel(0).0,
            state,
            wake: tokio::sync::Notify::new(),
            last_error: Mutex::default(),
        }
    }

    /// Puts `items` in the live ring and wakes the streams. (The budget of all rings is
    /// the caller's: see [`Shared::send`].)
    fn send(&self, items: impl IntoIterator<Item = Live>) {
        let mut ring = lock(&self.live);
        let (from, before) = (ring.end(), ring.bytes);
        for item in items {
            ring.push(item);
        }
        // (A round that read nothing wakes no stream.)
        if ring.end() == from {
            return;
        }
        // The bounds never drop the last page sent: a page over them would end every
        // stream of the channel, caught-up ones too, before any could read it. So the
        // ring holds at most the bounds and a page.
        ring.last_page = from;
        ring.page_bytes = ring.bytes - before;
        ring.prune();
        self.newest.send_replace(ring.end());
    }

    /// A cursor at the ring's end: the next item sent is the first it reads.
    fn cursor(self: &Arc<Self>) -> LiveCursor {
        let mut ring = lock(&self.live);
        let next = ring.end();
        *ring.cursors.entry(next).or_default() += 1;
        ring.joined += 1;
        LiveCursor {
            reader: Arc::clone(self),
            next,
            newest: self.newest.subscribe(),
            home: None,
        }
    }
}

/// A channel's live items on this instance: every item some stream has not read yet
/// (items every stream read go at once), at most [`LIVE_CAPACITY`] of them and
/// [`LIVE_BYTES`] besides the page the reader sends last (see [`Reader::send`]), and,
/// when the rings of all channels hold more than their budget, fewer (see
/// [`Shared::hold_budget`]); the oldest go first, and a stream whose next item went
/// ends.
struct LiveRing {
    /// Each item with what it counts against [`LIVE_BYTES`].
    items: VecDeque<(Live, usize)>,
    /// The sequence number of `items[0]`; items are numbered from 0 as they are sent.
    first: u64,
    bytes: usize,
    /// What the rings of all channels hold: `bytes` counts in it.
    total: Arc<AtomicUsize>,
    /// How many streams' cursors stand at each sequence number (the next item they
    /// read); those below `first` are dropped (their streams were overtaken).
    cursors: BTreeMap<u64, usize>,
    /// The sequence number of the first item of the last page sent, which the bounds
    /// do not drop.
    last_page: u64,
    /// What the items of the last page still held count: `bytes` less this is what
    /// the bounds may drop.
    page_bytes: usize,
    /// How many [`LiveCursor`]s the ring has, overtaken ones too.
    joined: usize,
}

impl LiveRing {
    /// An empty ring whose bytes count in `total`.
    fn new(total: Arc<AtomicUsize>) -> Self {
        Self {
            items: VecDeque::new(),
            first: 0,
            bytes: 0,
            total,
            cursors: BTreeMap::new(),
            last_page: 0,
            page_bytes: 0,
            joined: 0,
        }
    }

    /// One past the sequence number of the newest item.
    fn end(&self) -> u64 {
        self.first + self.items.len() as u64
    }

    fn push(&mut self, item: Live) {
        let bytes = match &item {
            Live::Event(event) => event.budget_bytes(),
            Live::Comment(_) | Live::Resume => crate::EVENT_BUDGET_OVERHEAD,
        };
        self.items.push_back((item, bytes));
        self.bytes += bytes;
        self.total.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Drops the oldest item, if any.
    fn pop_front(&mut self) {
        if let Some((_, bytes)) = self.items.pop_front() {
            self.bytes -= bytes;
            self.total.fetch_sub(bytes, Ordering::Relaxed);
            if self.first >= self.last_page {
                self.page_bytes -= bytes;
            }
            self.first += 1;
        }
    }

    /// What the items before the last page count: what the budget may drop.
    fn older_bytes(&self) -> usize {
        self.bytes - self.page_bytes
    }

    /// Drops the oldest items until `excess` bytes went or only the last page is left
    /// (as the ring's own bounds: a stream that read up to it is not behind), and
    /// forgets the cursors those were the next item of; whether it dropped any.
    fn shed(&mut self, excess: usize) -> bool {
        let (before, mut shed) = (self.first, 0);
        while shed < excess && self.first < self.last_page && !self.items.is_empty() {
            shed += self.items.front().map_or(0, |(_, bytes)| *bytes);
            self.pop_front();
        }
        self.forget_overtaken();
        self.first > before
    }

    /// Forgets the cursors whose next item went: their streams end.
    fn forget_overtaken(&mut self) {
        while let Some(entry) = self.cursors.first_entry() {
            if *entry.key() >= self.first {
                break;
            }
            entry.remove();
        }
    }

    /// Drops the items every cursor passed, then the oldest while over the bounds (but
    /// none of the last page sent), and forgets the cursors those were the next item
    /// of.
    fn prune(&mut self) {
        let read = self.cursors.keys().next().copied().unwrap_or(u64::MAX);
        while (self.first < self.last_page
            && (self.items.len() > LIVE_CAPACITY
                || (self.bytes > LIVE_BYTES && self.items.len() > 1)))
            || (self.first < read && !self.items.is_empty())
        {
            self.pop_front();
        }
        self.forget_overtaken();
    }

    /// Moves one cursor from `from` to `to`.
    fn moved(&mut self, from: u64, to: u64) {
        self.leave(from);
        *self.cursors.entry(to).or_default() += 1;
        self.prune();
    }

    /// Forgets one cursor at `at` (if the ring did not already).
    fn leave(&mut self, at: u64) {
        if let std::collections::btree_map::Entry::Occupied(mut entry) = self.cursors.entry(at) {
            *entry.get_mut() -= 1;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }
}

impl Drop for LiveRing {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A stream's place in its channel's [`LiveRing`].
struct LiveCursor {
    reader: Arc<Reader>,
    /// The sequence number of the next item to read.
    next: u64,
    newest: watch::Receiver<u64>,
    /// The readers the reader is one of, and its channel's name there: the last
    /// cursor of a channel to go takes its reader out (see [`RedisBroker::join`]).
    home: Option<(Arc<Shared>, String)>,
}

impl LiveCursor {
    /// The next items, oldest first: at most [`LIVE_BATCH`] and [`REPLAY_PAGE_BYTES`]
    /// (at least one); empty when every item sent so far is read. `None` when the
    /// ring dropped the next item before the stream read it: the stream must end.
    fn next_batch(&mut self) -> Option<Vec<Live>> {
        // Marked seen before the ring is read: an item sent after this wakes
        // `published`, and one sent before is in the ring.
        if *self.newest.borrow_and_update() <= self.next {
            return Some(Vec::new());
        }
        let mut ring = lock(&self.reader.live);
        if self.next < ring.first {
            return None;
        }
        let start = usize::try_from(self.next - ring.first).unwrap_or(usize::MAX);
        let mut batch = Vec::new();
        let mut bytes = 0;
        for (item, size) in ring.items.iter().skip(start) {
            if batch.len() == LIVE_BATCH || (!batch.is_empty() && bytes + size > REPLAY_PAGE_BYTES)
            {
                break;
            }
            bytes += size;
            batch.push(item.clone());
        }
        let to = self.next + batch.len() as u64;
        ring.moved(self.next, to);
        self.next = to;
        Some(batch)
    }

    /// Waits until an item is sent after the last [`LiveCursor::next_batch`].
    async fn published(&mut self) -> bool {
        self.newest.changed().await.is_ok()
    }
}

impl Drop for LiveCursor {
    fn drop(&mut self) {
        // The readers' lock first, as `join` takes it, so that no stream joins the
        // reader while it is taken out.
        let readers = self
            .home
            .as_ref()
            .map(|(shared, name)| (lock(&shared.readers), name));
        let mut ring = lock(&self.reader.live);
        ring.leave(self.next);
        ring.prune();
        ring.joined -= 1;
        let last = ring.joined == 0;
        drop(ring);
        // The channel's last stream on this instance: its reader goes now, rather than
        // at its task's next round (up to a `BLOCK` and more), so that streams opened
        // and closed on ever new names do not pile readers up; its task, woken, ends
        // and closes its connection (see `run_reader`).
        if let (true, Some((mut readers, name))) = (last, readers) {
            if readers
                .get(name.as_str())
                .is_some_and(|r| Arc::ptr_eq(r, &self.reader))
            {
                readers.remove(name.as_str());
            }
        }
    }
}

struct Shared {
    client: Client,
    manager: ConnectionManager,
    readers: Mutex<HashMap<String, Arc<Reader>>>,
    shutdown: watch::Receiver<bool>,
    /// What the live rings of all channels hold together.
    live_bytes: Arc<AtomicUsize>,
    /// The most [`Shared::live_bytes`] may be after a send: the channel budget.
    live_budget: usize,
}

impl Shared {
    /// Puts `items` in `reader`'s live ring (see [`Reader::send`]), then holds the
    /// budget of all rings.
    fn send(&self, reader: &Reader, items: impl IntoIterator<Item = Live>) {
        reader.send(items);
        self.hold_budget();
    }

    /// While the live rings of all channels hold more than [`Shared::live_budget`],
    /// drops the oldest items of the ring that holds the most before its last page,
    /// down to that page: as in memory mode, streams that lag behind the most data end
    /// first, and their clients resume from Redis. The last pages stay (a stream that
    /// read up to one is not behind), so the rings hold at most the budget and a page
    /// ([`READ_PAGE_BYTES`], or one bigger entry) per channel.
    fn hold_budget(&self) {
        let over = || {
            self.live_bytes
                .load(Ordering::Relaxed)
                .checked_sub(self.live_budget)
                .filter(|excess| *excess > 0)
        };
        if over().is_none() {
            return;
        }
        let readers = lock(&self.readers);
        while let Some(excess) = over() {
            let fullest = readers
                .values()
                .filter_map(|reader| {
                    let older = lock(&reader.live).older_bytes();
                    (older > 0).then_some((older, reader))
                })
                .max_by_key(|(bytes, _)| *bytes);
            let Some((_, reader)) = fullest else {
                return;
            };
            if !lock(&reader.live).shed(excess) {
                return;
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The Redis broker (`--redis URL`).
pub(crate) struct RedisBroker {
    shared: Arc<Shared>,
}

impl RedisBroker {
    /// A broker for the Redis at `url`; connects lazily and reconnects by itself.
    /// Reader tasks stop when `shutdown` turns true. The live rings of all channels
    /// hold at most `live_budget` bytes together (the channel budget).
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    pub(crate) fn new(
        url: &str,
        shutdown: watch::Receiver<bool>,
        live_budget: usize,
    ) -> Result<Self, String> {
        let client = open_client(url)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(BACKOFF_MIN)
            .set_max_delay(BACKOFF_MAX)
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("cannot set up the redis connection: {e}"))?;
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                manager,
                readers: Mutex::new(HashMap::new()),
                shutdown,
                live_bytes: Arc::default(),
                live_budget,
            }),
        })
    }

    /// The client, for the Flask-SSE bridge's own connections.
    pub(crate) fn client(&self) -> &Client {
        &self.shared.client
    }

    /// A handle on the shared command connection.
    pub(crate) fn manager(&self) -> ConnectionManager {
        self.shared.manager.clone()
    }

    /// Names of the channels this instance streams now.
    pub(crate) fn streamed_channels(&self) -> Vec<String> {
        lock(&self.shared.readers).keys().cloned().collect()
    }

    /// The channel's reader (started if needed) and a cursor at the end of its live
    /// ring, taken under the readers' lock so that the reader cannot stop in between.
    /// The channel's last cursor to go takes the reader out of the readers.
    ///
    /// # Errors
    ///
    /// A 503 when the channel has no reader and [`MAX_CHANNELS`] channels have one:
    /// each reader holds a Redis connection.
    fn join(&self, name: &str) -> Result<(Arc<Reader>, LiveCursor), ApiError> {
        let mut readers = lock(&self.shared.readers);
        let home = Some((Arc::clone(&self.shared), name.to_owned()));
        if let Some(reader) = readers.get(name) {
            let mut rx = reader.cursor();
            rx.home = home;
            return Ok((Arc::clone(reader), rx));
        }
        if readers.len() >= MAX_CHANNELS {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "this instance streams {MAX_CHANNELS} channels from redis, the most it \
                     reads at once (each on a redis connection of its own); use a channel \
                     that already has a stream, or close some streams and try again"
                ),
            ));
        }
        let (state_tx, state) = watch::channel(ReaderState::Starting);
        let reader = Arc::new(Reader::new(Arc::clone(&self.shared.live_bytes), state));
        let mut rx = reader.cursor();
        rx.home = home;
        readers.insert(name.to_owned(), Arc::clone(&reader));
        tokio::spawn(run_reader(
            Arc::clone(&self.shared),
            name.to_owned(),
            Arc::clone(&reader),
            state_tx,
        ));
        Ok((reader, rx))
    }
}

/// Opens a Redis client for `url`, with an error sentence if it is not a Redis URL.
/// The sentence never holds the URL's user name or password: it goes to the log.
pub(crate) fn open_client(url: &str) -> Result<Client, String> {
    Client::open(url).map_err(|e| {
        format!(
            "`{}` is not a redis url ({e}); pass one like redis://127.0.0.1:6379/0",
            without_credentials(url)
        )
    })
}

/// `url` with what stands between its `scheme://` and an `@` before the next `/`
/// (a user name and password) as `***`.
fn without_credentials(url: &str) -> String {
    let Some(start) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..].find('/').map_or(url.len(), |at| start + at);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// Checks a Redis URL without connecting (for the command line).
pub fn check_url(url: &str) -> Result<(), String> {
    open_client(url).map(|_| ())
}

/// `XADD`s an entry and sets the stream to expire [`STREAM_TTL_MS`] later, in one step:
/// `KEYS[1]` is the stream, `ARGV[1]` the `MAXLEN ~`, `ARGV[2]` the id (`*` for Redis
/// to assign one), `ARGV[3]` the expiry in milliseconds, `ARGV[4..]` the entry's fields
/// and values. Returns the entry id.
const XADD_SCRIPT: &str = r"
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ARGV[2], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id";

/// `XADD`s `event` to the channel's stream (see [`XADD_SCRIPT`]); returns the entry id.
pub(crate) async fn xadd(
    manager: &mut ConnectionManager,
    name: &str,
    event: &NewEvent,
) -> Result<String, RedisError> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(XADD_SCRIPT)
        .arg(1)
        .arg(stream_key(name))
        .arg(STREAM_MAXLEN)
        .arg(event.id.as_deref().unwrap_or("*"))
        .arg(STREAM_TTL_MS);
    if let Some(kind) = &event.event {
        cmd.arg("event").arg(kind);
    }
    if let Some(retry) = event.retry {
        cmd.arg("retry").arg(retry);
    }
    cmd.arg("data").arg(&event.data);
    cmd.query_async(manager).await
}

/// A stream entry as an event. The type is dropped if it holds a line break (only
/// another writer of the key could put one there); CR and CRLF in the data become LF.
fn to_event(entry: StreamId) -> Arc<StoredEvent> {
    let StreamId { id, map, .. } = entry;
    let text = |name: &str| {
        map.get(name)
            .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
    };
    let event = text("event").filter(|e| !e.contains(['\r', '\n']));
    let data = text("data").unwrap_or_default();
    let data = if data.contains('\r') {
        data.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        data
    };
    let retry = text("retry").and_then(|r| r.parse().ok());
    Arc::new(StoredEvent {
        id,
        event,
        data,
        retry,
    })
}

impl Broker for RedisBroker {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn publish<'a>(
        &'a self,
        _channel: &'a Arc<Channel>,
        name: &'a str,
        event: NewEvent,
    ) -> BoxFuture<'a, Result<Published, ApiError>> {
        async move {
            // (`MS-*` asks Redis 7 for the next sequence number of `MS`: its milliseconds
            // count the same.)
            let ms = event.id.as_deref().and_then(|id| {
                let explicit = id.strip_suffix("-*").unwrap_or(id);
                parse_stream_id(explicit).map(|(ms, _)| ms)
            });
            if let Some(ms) = ms {
                if ms > MAX_ID_MS {
                    return Err(ApiError::bad_request(format!(
                        "`id` {ms} ms is too far ahead: with the redis broker an id's \
                         milliseconds may be at most {MAX_ID_MS}, or every id redis assigns \
                         after it (publishes without an id, the ticker) could run out; use \
                         a time in milliseconds (like 1700000000000-1), or leave `id` out"
                    )));
                }
            }
            let mut manager = self.manager();
            let id = match tokio::time::timeout(COMMAND_TIMEOUT, xadd(&mut manager, name, &event))
                .await
            {
                Ok(Ok(id)) => id,
                // Redis's words for a refused id name it ("The ID specified in XADD is
                // equal or smaller than...", "Invalid stream ID"); a key of another
                // type or no memory do not.
                Ok(Err(error)) if error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) && event.id.is_some() && error.to_string().contains(" ID ") => {
                    return Err(ApiError::bad_request(format!(
                        "redis refused the id ({error}); with the redis broker, `id` must be a stream id greater than the channel's newest (like 1700000000000-1), or left out so that redis assigns one"
                    )))
                }
                // Redis may still apply the XADD (a stall, a fork): say so, so that a
                // publisher retrying knows what a retry risks.
                Ok(Err(error)) if error.is_timeout() => return Err(stalled()),
                Ok(Err(error)) => return Err(not_stored(&error)),
                Err(_) => return Err(stalled()),
            };
            let receivers = lock(&self.shared.readers)
                .get(name)
                .map_or(0, |reader| reader.newest.receiver_count());
            Ok(Published { id, receivers })
        }
        .boxed()
    }

    fn subscribe<'a>(
        &'a self,
        channel: &'a Arc<Channel>,
        name: &'a str,
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, ApiError>> {
        async move {
            let dropped = channel.dropped();
            let (reader, rx) = self.join(name)?;
            // Live delivery starts at the reader's start point: wait until it has one,
            // so that the replay below reaches at least that far.
            let mut state = reader.state.clone();
            if matches!(
                *state.borrow_and_update(),
                ReaderState::Down | ReaderState::Refused
            ) {
                // The reader waits out a backoff of up to BACKOFF_MAX between tries,
                // and Redis may be back meanwhile (a 503 makes a browser's EventSource
                // give up for good): have it try now, and answer with what it finds.
                reader.wake.notify_one();
                let _ = tokio::time::timeout(COMMAND_TIMEOUT, state.changed()).await;
            }
            let ready = tokio::time::timeout(
                COMMAND_TIMEOUT,
                state.wait_for(|s| *s != ReaderState::Starting),
            )
            .await
            .map(|state| state.map(|s| *s));
            match ready {
                Ok(Ok(ReaderState::Ready)) => {}
                // (What Redis said: a refusal's text begins with REFUSED.)
                Ok(Ok(ReaderState::Refused)) => {
                    return Err(unavailable(&lock(&reader.last_error).clone()))
                }
                Ok(Ok(_)) => {
                    return Err(unavailable(&format!(
                        "the channel's reader cannot reach it: {}",
                        lock(&reader.last_error)
                    )))
                }
                Ok(Err(_)) => return Err(unavailable("the channel's reader stopped")),
                Err(_) => return Err(unavailable("the channel's reader got no answer")),
            }
            let (replay, history_lost) = Replay::start(
                self.manager(),
                name,
                last_event_id,
                REPLAY_PAGE,
                REPLAY_PAGE_BYTES,
            )
            .await
            .map_err(|e| unavailable(&e))?;
            // Live entries up to the client's id, when held, are already sent.
            let after = match history_lost {
                None => last_event_id.and_then(parse_stream_id),
                Some(_) => None,
            };
            Ok(Subscription {
                history_lost,
                events: events(replay, rx, after),
                dropped,
            })
        }
        .boxed()
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        async move {
            let mut manager = self.manager();
            let ping = timed(redis::cmd("PING").query_async::<String>(&mut manager)).await;
            Health {
                broker: self.kind(),
                error: ping.err(),
            }
        }
        .boxed()
    }
}

/// A subscription's stream: its replay, then the reader's live ring without the
/// entries up to `after` or the last one replayed (already sent). Ends when the replay
/// finds entries it had not sent trimmed, when the live ring dropped an item before the
/// stream read it, or when the reader asks for a resume.
fn events(
    replay: Replay,
    live: LiveCursor,
    after: Option<(u64, u64)>,
) -> futures::stream::BoxStream<'static, Live> {
    let state = Streamed {
        replay: Some(replay),
        live,
        batch: Vec::new().into_iter(),
        after,
    };
    stream::unfold(state, |mut state| async move {
        if let Some(pages) = state.replay.as_mut() {
            match pages.next().await {
                Some(Live::Event(event)) => {
                    state.after = parse_stream_id(&event.id).or(state.after);
                    return Some((Live::Event(event), state));
                }
                Some(Live::Resume) => return None,
                Some(comment @ Live::Comment(_)) => return Some((comment, state)),
                // Over: its connection handle goes.
                None => state.replay = None,
            }
        }
        loop {
            let Some(item) = state.batch.next() else {
                let batch = state.live.next_batch()?;
                if batch.is_empty() && !state.live.published().await {
                    return None;
                }
                state.batch = batch.into_iter();
                continue;
            };
            match item {
                Live::Event(event) => {
                    let id = parse_stream_id(&event.id);
                    if state.after.is_some() && id <= state.after {
                        continue;
                    }
                    state.after = id.or(state.after);
                    return Some((Live::Event(event), state));
                }
                Live::Resume => return None,
                comment @ Live::Comment(_) => return Some((comment, state)),
            }
        }
    })
    .boxed()
}

/// Where a subscription's stream stands (see [`events`]).
struct Streamed {
    /// `None` once the replay is sent.
    replay: Option<Replay>,
    live: LiveCursor,
    /// The items of the live ring taken and not sent yet.
    batch: std::vec::IntoIter<Live>,
    /// The id of the last entry sent (or the client's, when held).
    after: Option<(u64, u64)>,
}

/// Reads one page of a replay atomically with the check that the stream still holds
/// the entry the page follows, so that nothing trimmed between the client's id and the
/// page, or between two pages, is skipped unseen. `KEYS[1]` is the stream, `ARGV[1]`
/// the id the page follows (`-` for the stream's start), `ARGV[2]` the most entries,
/// `ARGV[3]` the most bytes of their fields and values (passed by the first entry
/// alone). Returns 0 and no entries when that id is not held (trimmed, or never there),
/// else 1, the entries after it, and 1 when the byte limit cut the page (0 otherwise).
const REPLAY_SCRIPT: &str = r"
local from = ARGV[1]
if from ~= '-' then
  if not redis.call('XRANGE', KEYS[1], from, from)[1] then return {0, {}, 0} end
  from = '(' .. from
end
local page = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', ARGV[2])
local limit, bytes = tonumber(ARGV[3]), 0
for i = 1, #page do
  for _, text in ipairs(page[i][2]) do bytes = bytes + #text end
  if i > 1 and bytes > limit then return {1, {unpack(page, 1, i - 1)}, 1} end
end
return {1, page, 0}";

/// The part of a replay not sent yet: the page being sent and the id the next one
/// follows, read as the stream is read rather than all at connect time, so that a
/// stream whose client stops reading holds one page of it at most (and, until it ends,
/// what the channel's [`LiveRing`] keeps for it).
struct Replay {
    manager: ConnectionManager,
    key: String,
    /// The entries of the current page not sent yet.
    page: std::vec::IntoIter<Arc<StoredEvent>>,
    /// The id the next page follows (the current page's last); `None` once a page
    /// held every entry left.
    next: Option<String>,
    page_size: usize,
    page_bytes: usize,
    /// Whether the last read failed (and the stream was told so).
    down: bool,
    backoff: Backoff,
}

impl Replay {
    /// The replay after `last_event_id` and whether history was lost (see
    /// [`Subscription`]), its first page read, in pages of at most `page_size` entries
    /// and `page_bytes` ([`REPLAY_SCRIPT`]). When the client's id is not held, the
    /// replay is every entry held and the history is lost (the stream starts with a
    /// `reset`).
    async fn start(
        manager: ConnectionManager,
        name: &str,
        last_event_id: Option<&str>,
        page_size: usize,
        page_bytes: usize,
    ) -> Result<(Self, Option<Option<String>>), String> {
        let mut replay = Self {
            manager,
            key: stream_key(name),
            page: Vec::new().into_iter(),
            next: None,
            page_size: page_size.max(1),
            page_bytes,
            down: false,
            backoff: Backoff::new(),
        };
        let Some(last) = last_event_id else {
            return Ok((replay, None));
        };
        let held = match parse_stream_id(last) {
            Some(_) => replay.read(last).await?,
            None => None,
        };
        let history_lost = match held {
            Some(page) => {
                replay.turn(page);
                None
            }
            None => {
                // From the stream's start: always held.
                let page = replay.read("-").await?.unwrap_or_default();
                let oldest = page.0.first().map(|e| e.id.clone());
                replay.turn(page);
                Some(oldest)
            }
        };
        Ok((replay, history_lost))
    }

    /// Runs [`REPLAY_SCRIPT`] after `from`: `None` when `from` is not held, else the
    /// entries and whether more may follow.
    async fn read(&mut self, from: &str) -> Result<Option<(Vec<StreamId>, bool)>, String> {
        let (held, page, cut): (u8, StreamRangeReply, u8) = timed(
            redis::cmd("EVAL")
                .arg(REPLAY_SCRIPT)
                .arg(1)
                .arg(&self.key)
                .arg(from)
                .arg(self.page_size)
                .arg(self.page_bytes)
                .query_async(&mut self.manager),
        )
        .await?;
        let more = cut == 1 || page.ids.len() >= self.page_size;
        Ok((held == 1).then_some((page.ids, more)))
    }

    /// Makes `page` the one being sent.
    fn turn(&mut self, (entries, more): (Vec<StreamId>, bool)) {
        self.next = entries.last().filter(|_| more).map(|e| e.id.clone());
        self.page = entries
            .into_iter()
            .map(to_event)
            .collect::<Vec<_>>()
            .into_iter();
    }

    /// The next item of the replay: an event; a comment when Redis stops or starts
    /// answering (the page is asked again with backoff meanwhile); [`Live::Resume`]
    /// when the entry the next page follows was trimmed, so that entries after it may
    /// have gone unsent; `None` once every entry is sent.
    async fn next(&mut self) -> Option<Live> {
        loop {
            if let Some(event) = self.page.next() {
                return Some(Live::Event(event));
            }
            let from = self.next.take()?;
            if self.down {
                tokio::time::sleep(self.backoff.next_delay()).await;
            }
            match self.read(&from).await {
                Ok(Some(page)) => {
                    self.turn(page);
                    if self.down {
                        self.down = false;
                        self.backoff.reset();
                        return Some(Live::Comment(AVAILABLE_COMMENT));
                    }
                }
                Ok(None) => return Some(Live::Resume),
                Err(_) => {
                    self.next = Some(from);
                    if !self.down {
                        self.down = true;
                        return Some(Live::Comment(UNAVAILABLE_COMMENT));
                    }
                }
            }
        }
    }
}

/// Connects a reader's own connection (an `XREAD BLOCK` holds a connection, so readers
/// do not share the command connection).
async fn connect_reader(client: &Client) -> Result<MultiplexedConnection, String> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(COMMAND_TIMEOUT))
        .set_response_timeout(Some(BLOCK + COMMAND_TIMEOUT));
    timed(client.get_multiplexed_async_connection_with_config(&config)).await
}

/// Reads a page of a channel's stream after a cursor, atomically (in one script) with
/// the counters that tell whether entries after the cursor were removed. `KEYS[1]` is
/// the stream, `ARGV[1]` the cursor (empty to start: the cursor is then the stream's
/// last generated id, `0-0` when there is no stream), `ARGV[2]` the page size, `ARGV[3]`
/// the stream's expiry in milliseconds (renewed: a channel that someone streams does not
/// expire however quiet it is, and its readers never see it vanish), `ARGV[4]` the most
/// bytes of the page's field names and values (passed by its first entry alone). Returns
/// the cursor used, `entries-added` (every entry the stream ever had; -1 where Redis
/// does not report it, before 7.0), the length, `max-deleted-entry-id` (the greatest id
/// `XDEL` removed; empty before 7.0), the oldest id held (only before 7.0, else empty),
/// the entries after the cursor, 1 when the byte limit cut the page (0 otherwise), and
/// the stream's last generated id (`0-0` when there is no stream).
const READ_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {ARGV[1] == '' and '0-0' or ARGV[1], 0, 0, '0-0', '', {}, 0, '0-0'}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, added, length, deleted = '0-0', -1, 0, ''
for i = 1, #info, 2 do
  local name = info[i]
  if name == 'last-generated-id' then last = info[i + 1]
  elseif name == 'entries-added' then added = info[i + 1]
  elseif name == 'length' then length = info[i + 1]
  elseif name == 'max-deleted-entry-id' then deleted = info[i + 1] end
end
local from = ARGV[1] == '' and last or ARGV[1]
local oldest = ''
if added == -1 then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if first[1] then oldest = first[1][1] end
end
local page = redis.call('XRANGE', KEYS[1], '(' .. from, '+', 'COUNT', ARGV[2])
local limit, bytes = tonumber(ARGV[4]), 0
for i = 1, #page do
  for _, text in ipairs(page[i][2]) do bytes = bytes + #text end
  if i > 1 and bytes > limit then
    return {from, added, length, deleted, oldest, {unpack(page, 1, i - 1)}, 1, last}
  end
end
return {from, added, length, deleted, oldest, page, 0, last}";

/// What the stream's counters say, read with a page (see [`READ_SCRIPT`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Counters {
    /// Every entry the stream ever had (`entries-added`), if Redis reports it.
    added: Option<u64>,
    /// Entries held now.
    length: u64,
    /// The greatest id `XDEL` removed (`max-deleted-entry-id`), if Redis reports it.
    deleted: Option<String>,
    /// The oldest id held, where Redis reports neither of the above (before 7.0).
    oldest: Option<String>,
    /// The greatest id the stream ever had (`last-generated-id`), if known.
    last: Option<String>,
}

/// A page of [`READ_SCRIPT`].
struct Page {
    /// The cursor the page was read after.
    from: String,
    counters: Counters,
    /// The entries after `from`, oldest first.
    entries: Vec<StreamId>,
    /// Whether `entries` are all the entries after `from` (the page is not full, nor
    /// cut by [`READ_PAGE_BYTES`]).
    complete: bool,
}

/// Where a reader stands in its stream: the last id it read, and how many entries the
/// stream had had up to it (its `entries-added` position), so that the reader knows
/// how many of the entries ever added it has accounted for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    id: String,
    /// Entries added up to and including `id`: all read, or removed before the reader
    /// got to them (and reported).
    position: u64,
}

impl Page {
    /// Whether the stream went away and began again (a Redis restarted without
    /// persistence, a FLUSHDB, a DEL): it has had fewer entries than the reader
    /// accounted for, or its greatest id ever is below the reader's cursor (explicit
    /// ids from `/publish`, a clock set back; a stream's ids never go down).
    fn began_again(&self, cursor: &Cursor) -> bool {
        // In a stream that did not, every entry after the cursor (the page's) was added
        // after the `position` the reader accounted for, so a new stream with as many
        // entries as the old one had is told too.
        let after = u64::try_from(self.entries.len()).unwrap_or(u64::MAX);
        let c = &self.counters;
        c.added
            .is_some_and(|added| added < cursor.position.saturating_add(after))
            || c.last
                .as_deref()
                .and_then(parse_stream_id)
                .zip(parse_stream_id(&cursor.id))
                .is_some_and(|(last, at)| last < at)
    }

    /// Whether entries after the cursor were removed before the reader read them: then
    /// the reader's streams must end so that their clients resume by Last-Event-ID.
    /// Also returns the position of the entry before the first one of the page, and
    /// the id the cursor must reach after the page so that an `XDEL` is reported once.
    ///
    /// Every entry after the cursor is one the reader has not delivered, so entries
    /// were lost exactly when one removed entry comes after the cursor:
    ///
    /// - Trimming removes the oldest entries. Of the `entries-added` entries the stream
    ///   ever had, `entries-added - length` were removed; the reader has accounted for
    ///   the first `position`, so more removed entries than that means some came after
    ///   the cursor (and when the removed ones are the oldest, as trimming leaves them,
    ///   exactly then). A burst that trims the cursor entry itself, or the first read of
    ///   a stream that was empty, loses nothing and ends nothing.
    /// - An `XDEL` by another writer can remove any entry: the greatest id removed that
    ///   way (`max-deleted-entry-id`) is reported with the page that reaches past it
    ///   (an older one behind it is not seen, and since the reader cannot tell how many
    ///   went, a later trim may end the streams once more than needed).
    /// - A stream that went away and began again (its key deleted, a Redis restarted
    ///   without persistence) has fewer entries added than the reader's position and
    ///   the entries after its cursor, or a greatest id below the cursor (see
    ///   [`Page::began_again`]): its streams end, as the reader cannot tell what it
    ///   held that was not read, and the reader reads the new stream from its start.
    /// - Before Redis 7, with neither counter, the check is the conservative "the
    ///   oldest entry held is newer than the cursor", which also ends streams when only
    ///   the cursor entry itself was trimmed (but not for a reader that started on an
    ///   empty stream, whose cursor `0-0` every entry is newer than).
    fn lost(&self, cursor: &Cursor) -> (bool, u64, Option<String>) {
        let at = parse_stream_id(&cursor.id);
        let last = self.entries.last().and_then(|e| parse_stream_id(&e.id));
        let c = &self.counters;
        let removed = c.added.map(|added| added.saturating_sub(c.length));
        // A stream that began again lost whatever it held that the reader had not read.
        let trimmed =
            self.began_again(cursor) || removed.is_some_and(|removed| removed > cursor.position);
        // A complete page holds every entry after the cursor, so it reaches any id.
        let deleted = c.deleted.as_deref().filter(|deleted| {
            let deleted = parse_stream_id(deleted);
            deleted > at && (self.complete || deleted < last)
        });
        // Not for a reader that started on a stream with no entries (cursor `0-0`):
        // every entry is newer than that, and none was lost.
        let older = c.added.is_none()
            && c.deleted.is_none()
            && at > Some((0, 0))
            && c.oldest.as_deref().map(parse_stream_id) > Some(at);
        let position = match removed {
            Some(removed) if trimmed => removed,
            _ => cursor.position,
        };
        let skip_to = deleted.filter(|d| parse_stream_id(d) > last.max(at));
        (
            trimmed || deleted.is_some() || older,
            position,
            skip_to.map(str::to_owned),
        )
    }
}

/// Runs [`READ_SCRIPT`] after `cursor` (`None` to start at the stream's end).
async fn read_page(
    conn: &mut MultiplexedConnection,
    key: &str,
    cursor: Option<&str>,
) -> Result<Page, String> {
    let (from, added, length, deleted, oldest, range, cut, last): (
        String,
        i64,
        u64,
        String,
        String,
        StreamRangeReply,
        u8,
        String,
    ) = timed(
        redis::cmd("EVAL")
            .arg(READ_SCRIPT)
            .arg(1)
            .arg(key)
            .arg(cursor.unwrap_or(""))
            .arg(READ_COUNT)
            .arg(STREAM_TTL_MS)
            .arg(READ_PAGE_BYTES)
            .query_async(conn),
    )
    .await?;
    let known = |id: String| (!id.is_empty()).then_some(id);
    Ok(Page {
        from,
        counters: Counters {
            added: u64::try_from(added).ok(),
            length,
            deleted: known(deleted),
            oldest: known(oldest),
            last: known(last),
        },
        complete: range.ids.len() < READ_COUNT && cut == 0,
        entries: range.ids,
    })
}

/// One round of a reader: reads a page after `cursor`, ends the streams if entries
/// after the cursor were lost, puts the page in the live ring (see [`Shared::send`])
/// and advances the cursor. After a page that is not full, returns the id to wait for
/// new entries after ([`wait_for_entries`]).
async fn read_round(
    conn: &mut MultiplexedConnection,
    key: &str,
    cursor: &mut Option<Cursor>,
    shared: &Shared,
    reader: &Reader,
    state: &watch::Sender<ReaderState>,
    recovering: bool,
) -> Result<Option<String>, String> {
    let mut page = read_page(conn, key, cursor.as_ref().map(|c| c.id.as_str())).await?;
    let mut at = match cursor.take() {
        Some(at) => at,
        // Starting: everything up to the stream's end counts as read.
        None => Cursor {
            id: page.from.clone(),
            position: page.counters.added.unwrap_or(0),
        },
    };
    state.send_replace(ReaderState::Ready);
    let mut items = Vec::with_capacity(page.entries.len() + 2);
    if recovering {
        items.push(Live::Comment(AVAILABLE_COMMENT));
    }
    let began_again = page.began_again(&at) && at.id != "0-0";
    let (lost, position, mut skip_to) = page.lost(&at);
    if lost {
        items.push(Live::Resume);
        at.position = position;
    }
    if began_again {
        // Read the new stream from its start: its ids may all be below the cursor,
        // which would then wait for entries after an id the stream never reaches.
        // Its entries go to the ring behind the resume, so no stream that joined
        // before the resume gets them twice, and none that joins after it misses one
        // (each skips what its replay sent).
        at = Cursor {
            id: "0-0".to_owned(),
            position: 0,
        };
        page = match read_page(conn, key, Some("0-0")).await {
            Ok(page) => page,
            Err(error) => {
                // The resume is told, and the next round reads from the start.
                shared.send(reader, items);
                *cursor = Some(at);
                return Err(error);
            }
        };
        let (_, position, skip) = page.lost(&at);
        at.position = position;
        skip_to = skip;
    }
    let full = !page.complete;
    for entry in page.entries {
        at.id = entry.id.clone();
        at.position += 1;
        items.push(Live::Event(to_event(entry)));
    }
    shared.send(reader, items);
    if let Some(deleted) = skip_to {
        // Past the deleted entry, so that it is reported once.
        at.id = deleted;
    }
    let wait_after = at.id.clone();
    *cursor = Some(at);
    Ok((!full).then_some(wait_after))
}

/// Waits up to [`BLOCK`] for an entry after `wait_after`; the next round reads it with
/// the check. Sets `polling` when Redis refuses the blocking wait.
async fn wait_for_entries(
    conn: &mut MultiplexedConnection,
    key: &str,
    wait_after: String,
    polling: &mut bool,
) -> Result<(), String> {
    let waited: Result<Option<StreamReadReply>, RedisError> = tokio::time::timeout(
        BLOCK + COMMAND_TIMEOUT,
        redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(key)
            .arg(wait_after)
            .query_async(conn),
    )
    .await
    .map_err(|_| "no answer to XREAD".to_owned())?;
    match waited {
        Ok(_) => Ok(()),
        // Redis read the page but refuses the blocking wait (a user whose rights leave
        // out `XREAD` or blocking commands): the reader still works, reading a page
        // every [`BLOCK`] instead of as entries come, so it says nothing to its streams.
        Err(error) if error.code() == Some("NOPERM") => {
            if !*polling {
                *polling = true;
                eprintln!(
                    "redis: `{key}`'s reader reads every {} ms, as redis refuses it the \
                     blocking XREAD ({error}); allow XREAD for new entries to arrive at once",
                    BLOCK.as_millis()
                );
            }
            tokio::time::sleep(BLOCK).await;
            Ok(())
        }
        Err(error) => Err(describe(&error)),
    }
}

/// A channel's reader task (see the module docs).
async fn run_reader(
    shared: Arc<Shared>,
    name: String,
    reader: Arc<Reader>,
    state: watch::Sender<ReaderState>,
) {
    let key = stream_key(&name);
    let mut cursor: Option<Cursor> = None;
    let mut backoff = Backoff::new();
    let mut conn: Option<MultiplexedConnection> = None;
    let mut down = false;
    // Whether Redis refused the blocking wait, so that the reader reads every `BLOCK`.
    let mut polling = false;
    let mut shutdown = shared.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            break;
        }
        {
            // Stop when no stream of this instance needs the channel; `join` takes the
            // same lock, so no stream can join in between.
            let mut readers = lock(&shared.readers);
            if reader.newest.receiver_count() == 0 {
                if readers.get(&name).is_some_and(|r| Arc::ptr_eq(r, &reader)) {
                    readers.remove(&name);
                }
                break;
            }
        }
        let result = match conn.as_mut() {
            Some(c) => {
                let round = read_round(c, &key, &mut cursor, &shared, &reader, &state, down);
                match round.await {
                    // Cut short when the channel's last stream goes (its cursor took
                    // the reader out of the readers: see `LiveCursor`'s drop), so that
                    // the reader ends and closes its connection now. The cursor is
                    // where the round left it.
                    Ok(Some(after)) => {
                        // The round told the streams when Redis was back: a failure
                        // from here on is told again.
                        down = false;
                        tokio::select! {
                            result = wait_for_entries(c, &key, after, &mut polling) => result,
                            () = reader.newest.closed() => Ok(()),
                        }
                    }
                    Ok(None) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            None => match connect_reader(&shared.client).await {
                Ok(c) => {
                    conn = Some(c);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => {
                down = false;
                backoff.reset();
            }
            Err(error) => {
                conn = None;
                error.clone_into(&mut lock(&reader.last_error));
                state.send_replace(if error.starts_with(REFUSED) {
                    ReaderState::Refused
                } else {
                    ReaderState::Down
                });
                if !down {
                    down = true;
                    // Once an outage: what Redis said (the 503 of a new stream can
                    // only guess at it).
                    eprintln!("redis: the reader of channel `{name}` failed, retrying: {error}");
                    shared.send(&reader, [Live::Comment(UNAVAILABLE_COMMENT)]);
                }
                let delay = backoff.next_delay();
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = reader.newest.closed() => {}
                    () = reader.wake.notified() => {}
                    _ = shutdown.wait_for(|s| *s) => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::Value;

    use super::*;

    #[test]
    fn a_bad_redis_url_is_told_without_its_password() {
        // What broke (a review): the sentence for a URL that does not parse held it
        // whole, and the server prints it at start-up: the password in the log.
        let err = open_client("redis://user:secret@host:notaport/0").expect_err("refused");
        assert!(!err.contains("secret"), "{err}");
        assert!(err.contains("`redis://***@host:notaport/0`"), "{err}");
        let err = open_client("nope://user:secret@host/x").expect_err("refused");
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(without_credentials("redis://host:1/0"), "redis://host:1/0");
        assert_eq!(without_credentials("not a url"), "not a url");
    }

    /// A Redis whose stream of the channel `pages` holds the entries `1-0`, `2-0`, ...
    /// with data of the given sizes, and a connection to it.
    async fn stream_of(sizes: &[usize]) -> (crate::testing::RedisProcess, ConnectionManager) {
        let redis = crate::testing::RedisProcess::start().unwrap_or_else(|e| panic!("{e}"));
        for (n, size) in (1..).zip(sizes) {
            let added: String = redis
                .query(
                    redis::cmd("XADD")
                        .arg(stream_key("pages"))
                        .arg(format!("{n}-0"))
                        .arg("data")
                        .arg("x".repeat(*size)),
                )
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(added, format!("{n}-0"));
        }
        let client = open_client(&redis.url()).unwrap_or_else(|e| panic!("{e}"));
        let manager = ConnectionManager::new(client)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (redis, manager)
    }

    /// The replay of `pages` after `last` in pages of `page` entries, and its
    /// `history_lost`.
    async fn start(
        manager: &ConnectionManager,
        last: Option<&str>,
        page: usize,
    ) -> (Replay, Option<Option<String>>) {
        Replay::start(manager.clone(), "pages", last, page, REPLAY_PAGE_BYTES)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The ids a replay gives until it ends, and whether it ended with a resume.
    async fn drain(replay: &mut Replay) -> (Vec<String>, bool) {
        let mut ids = Vec::new();
        loop {
            match replay.next().await {
                Some(Live::Event(event)) => ids.push(event.id.clone()),
                Some(Live::Resume) => return (ids, true),
                Some(Live::Comment(comment)) => panic!("redis is up: {comment}"),
                None => return (ids, false),
            }
        }
    }

    fn trim(redis: &crate::testing::RedisProcess, keep: u64) {
        let _: u64 = redis
            .query(
                redis::cmd("XTRIM")
                    .arg(stream_key("pages"))
                    .arg("MAXLEN")
                    .arg(keep),
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[tokio::test]
    async fn a_replay_reads_every_page_after_the_id() {
        let (_redis, manager) = stream_of(&[1; 6]).await;
        let (mut replay, lost) = start(&manager, Some("1-0"), 2).await;
        assert_eq!(lost, None);
        assert_eq!(
            drain(&mut replay).await,
            (
                vec![
                    "2-0".into(),
                    "3-0".into(),
                    "4-0".into(),
                    "5-0".into(),
                    "6-0".into()
                ],
                false
            )
        );
        for never_held in ["9-0", "not-an-id"] {
            let (mut replay, lost) = start(&manager, Some(never_held), 2).await;
            assert_eq!(lost, Some(Some("1-0".to_owned())), "{never_held}");
            assert_eq!(drain(&mut replay).await.0.len(), 6, "everything held");
        }
        let (mut replay, lost) = start(&manager, None, 2).await;
        assert_eq!((lost, drain(&mut replay).await), (None, (vec![], false)));
    }

    #[tokio::test]
    async fn a_trim_of_unsent_entries_between_two_pages_ends_the_replay() {
        // Broke: the replay read its pages in separate commands, each after the
        // previous page's last id, so a trim between two pages that removed that id and
        // entries after it skipped them without a `reset` (here 4-0).
        let (redis, manager) = stream_of(&[1; 6]).await;
        let (mut replay, _) = start(&manager, Some("1-0"), 2).await;
        let mut sent = Vec::new();
        for _ in 0..2 {
            match replay.next().await {
                Some(Live::Event(event)) => sent.push(event.id.clone()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sent, ["2-0", "3-0"]);
        trim(&redis, 2);
        assert_eq!(drain(&mut replay).await, (vec![], true));
        // Its client resumes from the last entry it got, which went: `reset`, then
        // what is held.
        let (mut resumed, lost) = start(&manager, Some("3-0"), 2).await;
        assert_eq!(lost, Some(Some("5-0".to_owned())));
        assert_eq!(
            drain(&mut resumed).await,
            (vec!["5-0".into(), "6-0".into()], false)
        );
    }

    #[tokio::test]
    async fn a_trim_of_sent_entries_changes_nothing() {
        let (redis, manager) = stream_of(&[1; 6]).await;
        let (mut replay, _) = start(&manager, Some("1-0"), 2).await;
        let first = replay.next().await;
        assert!(matches!(first, Some(Live::Event(e)) if e.id == "2-0"));
        // 3-0, the entry the next page follows, is still held.
        trim(&redis, 4);
        assert_eq!(
            drain(&mut replay).await,
            (
                vec!["3-0".into(), "4-0".into(), "5-0".into(), "6-0".into()],
                false
            )
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_redis_does_not_answer_is_asked_again() {
        let (mut redis, manager) = stream_of(&[1; 6]).await;
        let (mut replay, _) = start(&manager, Some("1-0"), 2).await;
        for _ in 0..2 {
            assert!(matches!(replay.next().await, Some(Live::Event(_))));
        }
        tokio::task::block_in_place(|| redis.stop_saving()).unwrap_or_else(|e| panic!("{e}"));
        let told = replay.next().await;
        assert!(
            matches!(told, Some(Live::Comment(UNAVAILABLE_COMMENT))),
            "{told:?}"
        );
        tokio::task::block_in_place(|| redis.restart()).unwrap_or_else(|e| panic!("{e}"));
        let told = tokio::time::timeout(Duration::from_secs(30), replay.next())
            .await
            .expect("read again in time");
        assert!(
            matches!(told, Some(Live::Comment(AVAILABLE_COMMENT))),
            "{told:?}"
        );
        assert_eq!(
            drain(&mut replay).await,
            (vec!["4-0".into(), "5-0".into(), "6-0".into()], false)
        );
    }

    #[tokio::test]
    async fn replay_pages_are_bounded_in_entries_and_bytes() {
        // Three entries of 30,000 bytes: two fit in 64 KiB; then one of 100,000 bytes,
        // alone in its page, and a small one.
        let (_redis, manager) = stream_of(&[30_000, 30_000, 30_000, 100_000, 10]).await;
        let (mut replay, _) = start(&manager, None, REPLAY_PAGE).await;
        let mut pages = Vec::new();
        let mut from = "-".to_owned();
        loop {
            let (entries, more) = replay
                .read(&from)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .expect("held");
            pages.push(entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
            match entries.last() {
                Some(last) if more => from = last.id.clone(),
                _ => break,
            }
        }
        assert_eq!(
            pages,
            [vec!["1-0", "2-0"], vec!["3-0"], vec!["4-0"], vec!["5-0"]]
        );
        // And in entries.
        let (_redis, manager) = stream_of(&[1; 5]).await;
        let (replay, _) = start(&manager, Some("not-an-id"), 2).await;
        assert_eq!(
            (replay.page.len(), replay.next.as_deref()),
            (2, Some("2-0"))
        );
    }

    // What broke (a review): a channel's live entries went through a broadcast of 4096
    // slots, and a slot keeps its entry until every receiver read it, so a stalled
    // stream kept up to 4096 entries alive (about 256 MiB of 64 KiB ones), outside any
    // budget, after every other stream had read them.
    /// A channel's reader, ready, with no task behind it: the tests send to it.
    fn ready_reader() -> Arc<Reader> {
        Arc::new(Reader::new(
            Arc::default(),
            watch::channel(ReaderState::Ready).1,
        ))
    }

    // What broke (a review): a reader's page (up to 1000 entries) had no byte limit,
    // unlike a replay's, and the live ring's bounds never drop the page the reader sent
    // last, so 1000 entries of 64 KiB (64 MiB) went into a ring bounded at 4 MiB.
    #[tokio::test]
    async fn a_reader_page_is_bounded_in_bytes() {
        let (redis, _manager) = stream_of(&[400_000, 400_000, 400_000, 400_000]).await;
        let client = open_client(&redis.url()).unwrap_or_else(|e| panic!("{e}"));
        let mut conn = connect_reader(&client)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let key = stream_key("pages");
        let mut pages = Vec::new();
        let mut cursor = "0-0".to_owned();
        loop {
            let page = read_page(&mut conn, &key, Some(&cursor))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let ids: Vec<String> = page.entries.iter().map(|e| e.id.clone()).collect();
            if let Some(last) = ids.last() {
                cursor.clone_from(last);
            }
            pages.push((ids, page.complete));
            if page.complete {
                break;
            }
        }
        let page =
            |ids: &[&str], complete| (ids.iter().map(|id| (*id).to_owned()).collect(), complete);
        assert_eq!(
            pages,
            [page(&["1-0", "2-0"], false), page(&["3-0", "4-0"], true)]
        );
        // An entry over the limit alone still comes, alone.
        let (redis, _manager) = stream_of(&[READ_PAGE_BYTES + 1, 1]).await;
        let client = open_client(&redis.url()).unwrap_or_else(|e| panic!("{e}"));
        let mut conn = connect_reader(&client)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let first = read_page(&mut conn, &key, Some("0-0"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((first.entries.len(), first.complete), (1, false));
    }

    // What broke (a review): a stream that went away and began again with ids below
    // its reader's cursor (explicit ids from `/publish` after a FLUSHDB) was not told
    // from the old one, and a reader that lived on through its resume (held by a
    // stream still behind) waited for entries after an id of the stream that went:
    // the streams that joined got nothing that was published.
    #[tokio::test]
    async fn a_reader_reads_a_stream_that_began_again_with_lower_ids() {
        let redis = crate::testing::RedisProcess::start().unwrap_or_else(|e| panic!("{e}"));
        let key = stream_key("again");
        let xadd = |id: &str| {
            let added: String = redis
                .query(redis::cmd("XADD").arg(&key).arg(id).arg("data").arg(id))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(added, id);
        };
        xadd("100-0");
        let broker = RedisBroker::new(&redis.url(), watch::channel(false).1, usize::MAX)
            .unwrap_or_else(|e| panic!("{e}"));
        let channels = crate::channels::Channels::new(usize::MAX);
        let channel = channels.get_or_create("again").expect("a channel");
        let subscribe = || broker.subscribe(channel.channel(), "again", None);
        let mut first = subscribe().await.expect("subscribed");
        // A stream that reads nothing holds the reader across the resume below.
        let _behind = broker.join("again").expect("joined");
        let _: i64 = redis
            .query(redis::cmd("DEL").arg(&key))
            .unwrap_or_else(|e| panic!("{e}"));
        // As many entries as the stream that went had: its count does not tell.
        xadd("1-0");
        let wait = Duration::from_secs(10);
        let ended = tokio::time::timeout(wait, first.events.next()).await;
        assert!(matches!(ended, Ok(None)), "not ended: {ended:?}");
        let mut second = subscribe().await.expect("subscribed");
        xadd("2-0");
        match tokio::time::timeout(wait, second.events.next()).await {
            Ok(Some(Live::Event(event))) => assert_eq!(event.id, "2-0"),
            other => panic!("not read: {other:?}"),
        }
    }

    // What broke (a review): a reader (each on a Redis connection of its own) left the
    // readers only when its task next looked, up to seconds after its channel's last
    // stream closed, so streams opened and closed on ever new names piled readers and
    // connections up, with no cap on their number.
    #[tokio::test]
    async fn a_reader_goes_with_its_channels_last_stream() {
        let redis = crate::testing::RedisProcess::start().unwrap_or_else(|e| panic!("{e}"));
        let broker = RedisBroker::new(&redis.url(), watch::channel(false).1, usize::MAX)
            .unwrap_or_else(|e| panic!("{e}"));
        let channels = crate::channels::Channels::new(usize::MAX);
        for n in 0..50 {
            let name = format!("c{n}");
            let channel = channels.get_or_create(&name).expect("a channel");
            let subscribe = || broker.subscribe(channel.channel(), &name, None);
            let first = subscribe().await.expect("subscribed");
            let second = subscribe().await.expect("subscribed");
            assert_eq!(broker.streamed_channels(), [name.as_str()]);
            drop(first);
            assert_eq!(
                broker.streamed_channels(),
                [name.as_str()],
                "one stream left"
            );
            drop(second);
            assert_eq!(broker.streamed_channels(), Vec::<String>::new());
        }
    }

    #[tokio::test]
    async fn readers_are_capped() {
        let broker = RedisBroker::new("redis://127.0.0.1:1/0", watch::channel(false).1, usize::MAX)
            .unwrap_or_else(|e| panic!("{e}"));
        {
            let mut readers = lock(&broker.shared.readers);
            for n in 0..MAX_CHANNELS {
                let state = watch::channel(ReaderState::Ready).1;
                let reader = Reader::new(Arc::clone(&broker.shared.live_bytes), state);
                readers.insert(format!("c{n}"), Arc::new(reader));
            }
        }
        let Err(refused) = broker.join("one-more") else {
            panic!("a reader over the cap was started");
        };
        let response = axum::response::IntoResponse::into_response(refused);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        let error: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert!(
            error["error"]
                .as_str()
                .is_some_and(|e| e.contains("close some streams")),
            "{error}"
        );
        // A channel that has a reader is still streamed.
        let joined = broker.join("c7");
        assert!(joined.is_ok());
        assert_eq!(broker.streamed_channels().len(), MAX_CHANNELS);
    }

    // What broke (a review): each channel's live ring was bounded (4 MiB), but nothing
    // bounded them together, so stalled streams on a thousand channels held 4 GiB,
    // where memory mode holds the channel budget.
    #[tokio::test]
    async fn the_live_rings_of_all_channels_hold_the_channel_budget() {
        let budget = 2 * 1024 * 1024;
        let broker = RedisBroker::new("redis://127.0.0.1:1/0", watch::channel(false).1, budget)
            .unwrap_or_else(|e| panic!("{e}"));
        let shared = &broker.shared;
        let readers: Vec<Arc<Reader>> = (0..8)
            .map(|c| {
                let reader = Arc::new(Reader::new(
                    Arc::clone(&shared.live_bytes),
                    watch::channel(ReaderState::Ready).1,
                ));
                lock(&shared.readers).insert(format!("c{c}"), Arc::clone(&reader));
                reader
            })
            .collect();
        // A stalled stream on each channel keeps what is sent there.
        let mut stalled: Vec<LiveCursor> = readers.iter().map(Reader::cursor).collect();
        for n in 0..20 {
            for reader in &readers {
                let event = Arc::new(StoredEvent {
                    id: format!("{n}-0"),
                    event: None,
                    data: "x".repeat(64 * 1024),
                    retry: None,
                });
                shared.send(reader, [Live::Event(event)]);
                let held: usize = readers.iter().map(|r| lock(&r.live).bytes).sum();
                assert_eq!(held, shared.live_bytes.load(Ordering::Relaxed));
                // Each channel's last page aside, which the streams that read up to it
                // are to read next.
                let pages: usize = readers.iter().map(|r| lock(&r.live).page_bytes).sum();
                assert!(
                    held - pages <= budget,
                    "{held} bytes held, {pages} of them last pages, for a budget of {budget}"
                );
                assert!(pages <= readers.len() * (64 * 1024 + 1024), "{pages}");
            }
        }
        // Those whose next entries went end, and their clients resume from Redis.
        let overtaken = stalled
            .iter_mut()
            .map(LiveCursor::next_batch)
            .filter(Option::is_none)
            .count();
        assert!(overtaken > 0);
        drop(stalled);
        // What the rings held is given back as they empty.
        assert_eq!(shared.live_bytes.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn the_budget_of_all_rings_never_takes_a_last_page() {
        // What broke (a review): over the budget of all rings, the fullest ring was
        // shed, its last page too: a channel whose streams had all read up to that page
        // lost their next entry, and every one of them ended (and, resuming, did so
        // again at the next big page).
        let budget = 1024 * 1024;
        let broker = RedisBroker::new("redis://127.0.0.1:1/0", watch::channel(false).1, budget)
            .unwrap_or_else(|e| panic!("{e}"));
        let shared = &broker.shared;
        let reader = |name: &str| {
            let reader = Arc::new(Reader::new(
                Arc::clone(&shared.live_bytes),
                watch::channel(ReaderState::Ready).1,
            ));
            lock(&shared.readers).insert(name.to_owned(), Arc::clone(&reader));
            reader
        };
        let event = |n: usize| {
            Live::Event(Arc::new(StoredEvent {
                id: format!("{n}-0"),
                event: None,
                data: "x".repeat(64 * 1024),
                retry: None,
            }))
        };
        // Four channels whose streams stalled, 192 KiB each...
        let stalled: Vec<Arc<Reader>> = (0..4).map(|c| reader(&format!("s{c}"))).collect();
        let _stalled: Vec<LiveCursor> = stalled.iter().map(Reader::cursor).collect();
        for reader in &stalled {
            for n in 0..3 {
                shared.send(reader, [event(n)]);
            }
        }
        // ...and one whose stream keeps up gets a page of 512 KiB: over the budget.
        let busy = reader("busy");
        let mut caught_up = busy.cursor();
        shared.send(&busy, (0..8).map(event));
        // (A batch is 64 KiB, or one bigger entry.)
        let mut read = Some(0);
        while let Some(n) = read.filter(|n| *n < 8) {
            read = caught_up.next_batch().map(|batch| n + batch.len());
        }
        assert_eq!(
            read,
            Some(8),
            "the stream that keeps up reads the whole page"
        );
        assert_eq!(
            read,
            Some(8),
            "the stream that keeps up reads the whole page"
        );
        let pages: usize = lock(&shared.readers)
            .values()
            .map(|r| lock(&r.live).page_bytes)
            .sum();
        let held = shared.live_bytes.load(Ordering::Relaxed);
        assert!(
            held - pages <= budget,
            "{held} bytes held, {pages} of them last pages"
        );
    }

    #[test]
    fn a_caught_up_stream_reads_a_page_over_the_live_bytes() {
        // What broke (a review): the ring applied its byte bound item by item while
        // the reader pushed a page under its lock, so a page over LIVE_BYTES (64
        // entries of 64 KiB) overtook every stream of the channel, caught-up ones too,
        // before any could read it.
        let reader = ready_reader();
        let mut cursor = reader.cursor();
        let page: Vec<Live> = (1..=70)
            .map(|n| {
                Live::Event(Arc::new(StoredEvent {
                    id: format!("{n}-0"),
                    event: None,
                    data: "x".repeat(64 * 1024),
                    retry: None,
                }))
            })
            .collect();
        reader.send(page);
        let mut read = 0;
        loop {
            let batch = cursor
                .next_batch()
                .expect("a caught-up stream is not overtaken");
            if batch.is_empty() {
                break;
            }
            read += batch.len();
        }
        assert_eq!(read, 70);
    }

    #[test]
    fn a_stalled_stream_holds_at_most_the_live_bytes() {
        let reader = ready_reader();
        let events: Vec<Arc<StoredEvent>> = (1..=200)
            .map(|n| {
                Arc::new(StoredEvent {
                    id: format!("{n}-0"),
                    event: None,
                    data: "x".repeat(64 * 1024),
                    retry: None,
                })
            })
            .collect();
        let held = |events: &[Arc<StoredEvent>]| -> usize {
            events
                .iter()
                .filter(|e| Arc::strong_count(e) > 1)
                .map(|e| e.budget_bytes())
                .sum()
        };
        let mut stalled = reader.cursor();
        let mut reading = reader.cursor();
        let mut most = 0;
        for event in &events {
            reader.send([Live::Event(Arc::clone(event))]);
            // The other stream keeps up.
            while !reading.next_batch().expect("keeps up").is_empty() {}
            most = most.max(held(&events));
        }
        // (The bounds and the page being sent: one event here.)
        let one = events[0].budget_bytes();
        assert!(
            most <= LIVE_BYTES + one && most > LIVE_BYTES - 2 * one,
            "{most} bytes held for the stalled stream"
        );
        // Once its next entry went, nothing is kept for it.
        assert_eq!(
            held(&events),
            0,
            "kept after every stream that can read it did"
        );
        assert!(stalled.next_batch().is_none(), "overtaken: it must end");
        drop(stalled);
        // Nothing is kept when no stream is there to read it.
        drop(reading);
        reader.send([Live::Event(Arc::clone(&events[0]))]);
        assert_eq!(held(&events), 0);
    }

    #[test]
    fn stream_ids_order_like_redis() {
        assert_eq!(parse_stream_id("5-1"), Some((5, 1)));
        assert_eq!(parse_stream_id("5"), Some((5, 0)));
        assert!(parse_stream_id("5-1") < parse_stream_id("10-0"));
        assert!(parse_stream_id("5-2") > parse_stream_id("5-1"));
        for bad in ["", "-", "a-1", "1-", "1-2-3", "+1", "1 "] {
            assert_eq!(parse_stream_id(bad), None, "{bad}");
        }
        // Regression (a review): leading zeros past a u64's 20 digits made an id Redis
        // refuses ("Invalid stream ID"), which the resume read as Redis down (a 503):
        // such an id is not one Redis can hold, so it is not held (a `reset`).
        assert_eq!(
            parse_stream_id(&format!("{}1-0", "0".repeat(19))),
            Some((1, 0))
        );
        for bad in [
            format!("{}1-0", "0".repeat(20)),
            format!("1-{}1", "0".repeat(20)),
        ] {
            assert_eq!(parse_stream_id(&bad), None, "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_and_is_clamped() {
        let mut backoff = Backoff::new();
        let delays: Vec<_> = (0..10).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays[0], BACKOFF_MIN);
        assert_eq!(delays[1], BACKOFF_MIN * 2);
        assert!(delays.iter().all(|d| *d <= BACKOFF_MAX));
        assert_eq!(delays[9], BACKOFF_MAX);
        backoff.reset();
        assert_eq!(backoff.next_delay(), BACKOFF_MIN);
    }

    /// A complete page of the entries `ids`.
    fn page(counters: Counters, ids: &[&str]) -> Page {
        Page {
            from: String::new(),
            counters,
            entries: ids
                .iter()
                .map(|id| StreamId {
                    id: (*id).into(),
                    ..StreamId::default()
                })
                .collect(),
            complete: true,
        }
    }

    fn redis7(added: u64, length: u64, deleted: &str) -> Counters {
        Counters {
            added: Some(added),
            length,
            deleted: Some(deleted.into()),
            oldest: None,
            last: None,
        }
    }

    fn at(id: &str, position: u64) -> Cursor {
        Cursor {
            id: id.into(),
            position,
        }
    }

    #[test]
    fn losses_are_removals_after_the_cursor() {
        let kept = |page: Page, cursor: Cursor| {
            let position = cursor.position;
            (page.lost(&cursor), (false, position, None))
        };
        // 100 entries read, then 1000 more; the first 100 trimmed, the cursor among
        // them: nothing lost.
        let (got, want) = kept(
            page(redis7(1100, 1000, "0-0"), &["101-0"]),
            at("100-0", 100),
        );
        assert_eq!(got, want);
        // A stream that was empty when the reader started.
        let (got, want) = kept(page(redis7(1000, 1000, "0-0"), &["1-0"]), at("0-0", 0));
        assert_eq!(got, want);
        // 101 removed while 100 were read: the 101st was lost; the page starts after
        // the removed ones.
        let trimmed = page(redis7(1101, 1000, "0-0"), &["102-0"]);
        assert_eq!(trimmed.lost(&at("100-0", 100)), (true, 101, None));
        let emptied = page(redis7(5, 0, "0-0"), &[]);
        assert_eq!(emptied.lost(&at("3-0", 3)), (true, 5, None));
        // The key went away (what the read script says of a missing stream), or went
        // away and began again: lost once, counted from the new stream's start.
        let gone = page(redis7(0, 0, "0-0"), &[]);
        assert_eq!(gone.lost(&at("3-0", 3)), (true, 0, None));
        assert_eq!(gone.lost(&at("3-0", 0)), (false, 0, None));
        let again = page(redis7(2, 2, "0-0"), &["9-0", "10-0"]);
        assert_eq!(again.lost(&at("3-0", 3)), (true, 0, None));
        // What broke: a stream that began again with as many entries as the reader had
        // read was not told from the old one, and the entries it had not read were lost
        // without a word.
        let as_many = page(redis7(3, 3, "0-0"), &["9-0", "10-0", "11-0"]);
        assert_eq!(as_many.lost(&at("3-0", 3)), (true, 0, None));
        // What broke: one that began again with as many entries, all with ids below
        // the cursor, was not told either (the reader then waited after an id the new
        // stream never reached). Its greatest id ever is below the cursor.
        let mut lower = page(redis7(3, 3, "0-0"), &[]);
        lower.counters.last = Some("2-0".into());
        assert!(lower.began_again(&at("100-0", 3)));
        assert_eq!(lower.lost(&at("100-0", 3)), (true, 0, None));
        lower.counters.last = Some("100-0".into());
        assert!(!lower.began_again(&at("100-0", 3)));
        // XDEL of an entry already read: it counts as removed but is accounted for.
        let (got, want) = kept(page(redis7(10, 9, "2-0"), &["6-0"]), at("5-0", 5));
        assert_eq!(got, want);
        // XDEL of entries not read yet: before, inside or after the page.
        for ids in [&["7-0", "8-0"][..], &["6-0", "8-0"], &["6-0"], &[]] {
            let (lost, position, _) = page(redis7(10, 9, "7-0"), ids).lost(&at("5-0", 5));
            assert!(lost, "{ids:?}");
            assert_eq!(position, 5);
        }
        assert_eq!(
            page(redis7(10, 9, "7-0"), &["6-0"])
                .lost(&at("5-0", 5))
                .2
                .as_deref(),
            Some("7-0")
        );
        // Beyond a full page: reported by the page that reaches it.
        let mut partial = page(redis7(2000, 1999, "9-0"), &["6-0", "8-0"]);
        partial.complete = false;
        let (got, want) = kept(partial, at("5-0", 5));
        assert_eq!(got, want);
        // Before Redis 7: the oldest entry held after the cursor.
        let old = |oldest: &str| Counters {
            added: None,
            length: 3,
            deleted: None,
            oldest: Some(oldest.into()),
            last: None,
        };
        assert!(page(old("6-0"), &["6-0"]).lost(&at("5-0", 0)).0);
        assert!(!page(old("5-0"), &["6-0"]).lost(&at("5-0", 0)).0);
        assert!(!page(Counters::default(), &[]).lost(&at("5-0", 0)).0);
        // What broke: a reader that started before a channel's first entry took that
        // entry for a loss, and ended its streams before they had an id to resume from.
        assert!(!page(old("1-0"), &["1-0"]).lost(&at("0-0", 0)).0);
    }

    #[test]
    fn refusals_are_redis_setup_and_the_rest_passes() {
        // What broke: every error Redis answered was told as "unreachable"; this
        // session's first fix then took errors that pass by themselves (a busy script,
        // a full client list) for refusals, which it says to fix in Redis.
        let error = |reply: &str| {
            redis::parse_redis_value(format!("-{reply}\r\n").as_bytes())
                .and_then(redis::Value::extract_error)
                .expect_err("an error reply")
        };
        for refused in [
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            "NOPERM User u has no permissions to run the 'xadd' command",
            "OOM command not allowed when used memory > 'maxmemory'.",
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable",
            "ERR Error running script (call to f_1): @user_script:2: WRONGTYPE Operation",
        ] {
            assert!(is_refusal(&error(refused)), "{refused}");
        }
        for passing in [
            "BUSY Redis is busy running a script.",
            "ERR max number of clients reached",
            "NOREPLICAS Not enough good replicas to write.",
            "READONLY You can't write against a read only replica.",
            "LOADING Redis is loading the dataset in memory",
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        ] {
            assert!(!is_refusal(&error(passing)), "{passing}");
        }
    }

    #[test]
    fn entries_become_events() {
        let entry = StreamId {
            id: "1-0".into(),
            map: [
                ("event".to_owned(), Value::BulkString(b"bad\ntype".to_vec())),
                ("data".to_owned(), Value::BulkString(b"a\r\nb\rc".to_vec())),
            ]
            .into_iter()
            .collect(),
            ..StreamId::default()
        };
        let event = to_event(entry);
        assert_eq!(event.event, None);
        assert_eq!(event.data, "a\nb\nc");
        assert_eq!(event.id, "1-0");
    }
}
