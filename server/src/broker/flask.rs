//! `--flask-sse`: Flask-SSE's Redis pub/sub messages become events of our channels.
//!
//! Flask-SSE's `sse.publish(data, type=None, id=None, retry=None, channel="sse")` sends
//! `PUBLISH <channel> <json>` where the JSON is `{"data": ..., "type": ..., "id": ...,
//! "retry": ...}` (only `data` always present). The bridge subscribes to the pub/sub
//! channels named like the SSE channels that clients stream, and `XADD`s each message
//! to that channel's stream, so it reaches the clients of every instance and can be
//! replayed like any event. `data` that is a JSON string is sent as that text (as
//! Flask-SSE does), any other value as compact JSON; `type` becomes the `event:`,
//! `retry` a `retry:` line. The message's `id` is not used: the stream entry id is the
//! SSE id, so that clients can resume on any instance.
//!
//! # One writer
//!
//! Every instance subscribed to a pub/sub channel receives each message, and pub/sub
//! messages carry no id to deduplicate by (two identical `sse.publish` calls are two
//! events). So only one instance writes them: the instances started with `--flask-sse`
//! hold an election through a lease key, `wes:flask-sse:bridge` (`SET NX PX`, renewed
//! every [`TICK`], expiring after [`LEASE`]), and only the holder subscribes. Each of
//! them records the channels its clients stream in the sorted set
//! `wes:flask-sse:channels` (score: the time it last saw them), and the holder
//! subscribes to every channel recorded in the last [`REGISTRY_TTL`]. Pub/sub delivers
//! at most once: a message published while no holder is subscribed (a new channel's
//! first [`TICK`], a failover, a Redis outage) is not received, exactly as with
//! Flask-SSE itself.
//!
//! # Fencing
//!
//! A holder can stall (a slow Redis, a paused process) long enough for its lease to
//! lapse while it is still subscribed; another instance then takes the lease and
//! subscribes, and both receive the next messages. So every write is fenced: one script
//! checks that the lease still names this instance and `XADD`s in the same step, and a
//! writer that lost the lease records nothing (it unsubscribes and leaves the message
//! to the new holder). A message that only the stalled holder received is then not
//! recorded: at most once, as above, never twice. A holder whose lease lapsed and that
//! takes it again (the other holder gone too) drops what it queued meanwhile, which
//! the other may have recorded, and subscribes afresh.
//!
//! # Backlog
//!
//! A task per pub/sub connection takes each message as it arrives and queues it for
//! the writer, which records them one at a time, in order. The queue holds at most
//! [`MAX_PENDING`] messages and [`MAX_PENDING_BYTES`] of them: when Flask publishes
//! faster than the bridge writes, the oldest queued messages are dropped, counted in
//! [`FlaskSseCounts::dropped`] and logged (once until the queue empties again). They
//! are lost: Flask-SSE's pub/sub keeps nothing. Reading on whatever the writer does
//! keeps them from piling up unbounded in redis-rs, which reads the socket into a
//! queue with no bound (so Redis's own limit for slow subscribers never applies).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use redis::aio::{ConnectionManager, PubSubSink, PubSubStream};
use serde_json::Value;
use tokio::sync::{watch, Notify};

use super::redis::{stream_key, timed, RedisBroker, STREAM_MAXLEN, STREAM_TTL_MS};
use super::NewEvent;
use crate::channels::{validate_channel_name, MAX_CHANNELS};

/// The key of the bridge lease.
pub const LEASE_KEY: &str = "wes:flask-sse:bridge";

/// The sorted set of channels streamed by instances running the bridge.
pub const CHANNELS_KEY: &str = "wes:flask-sse:channels";

/// How often the bridge renews its lease, records its channels and updates its
/// subscriptions.
pub const TICK: Duration = Duration::from_millis(500);

/// How long a lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(5);

/// How long a channel stays recorded after an instance last streamed it.
pub const REGISTRY_TTL: Duration = Duration::from_secs(10);

/// Renews the lease if `ARGV[1]` holds it (1), takes it if it is free (2), else 0.
const LEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 2
end
return 0";

/// `XADD`s to a stream only while this instance holds the lease, and sets the stream to
/// expire as the Redis broker's publish does: `KEYS[1]` is the lease, `KEYS[2]` the
/// stream, `ARGV[1]` this instance, `ARGV[2]` the `MAXLEN ~`, `ARGV[3]` the expiry in
/// milliseconds, `ARGV[4..]` the entry's fields and values. Returns the entry id, or
/// nil when the lease names another instance or none.
const FENCED_XADD_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return id";

/// Most messages the bridge holds between receiving and writing them (see
/// [Backlog](self#backlog)): as many as a stream keeps ([`STREAM_MAXLEN`]), since a
/// longer backlog for one channel would be trimmed as soon as it was written.
pub const MAX_PENDING: usize = STREAM_MAXLEN;

/// Most bytes (payloads and channel names) the bridge holds between receiving and
/// writing them, unless one message alone is larger: 8 MiB, the soft limit Redis sets by
/// default for a pub/sub client that reads too slowly (`client-output-buffer-limit
/// pubsub 32mb 8mb 60`), so the bridge holds about what Redis would hold for it.
pub const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;

/// What the bridge of one instance has done, for tests (see
/// `AppState::wait_for_flask_sse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlaskSseCounts {
    /// Whether this instance held the lease at its last tick.
    pub holder: bool,
    /// Pub/sub channels it is subscribed to.
    pub subscribed: usize,
    /// Flask-SSE messages received: each is then stored, refused, dropped or still
    /// queued, unless it was not a Flask-SSE message (skipped) or Redis did not answer
    /// its write (logged).
    pub received: u64,
    /// Messages recorded in a stream.
    pub stored: u64,
    /// Messages not recorded because the lease no longer named this instance when it
    /// wrote, or when the bridge found so (or found it lapsed, and took it again) with
    /// them still queued (see [Fencing](self#fencing)).
    pub refused: u64,
    /// Messages received but dropped unrecorded, oldest first, because more than
    /// [`MAX_PENDING`] messages or [`MAX_PENDING_BYTES`] of them waited to be written
    /// (see [Backlog](self#backlog)), or left unwritten when the server stopped.
    pub dropped: u64,
    /// Messages received that were not Flask-SSE's (not a JSON object with `data`, a
    /// `type` with a line break or `reset`), so not recorded.
    pub skipped: u64,
    /// Whether the channels streamed across the instances reached the most the bridge
    /// follows ([`MAX_CHANNELS`]) at its last tick (logged once for each such episode).
    pub capped: bool,
    /// What the bridge's last tick failed on (Redis unreachable, a command refused: a
    /// user without the rights to subscribe, say), until a tick succeeds again; it is
    /// logged once for each such episode.
    pub failing: Option<String>,
}

/// The bridge's counts and its pause switch, shared with the state.
#[derive(Debug)]
pub(crate) struct FlaskSseControl {
    counts: watch::Sender<FlaskSseCounts>,
    paused: watch::Sender<bool>,
}

impl Default for FlaskSseControl {
    fn default() -> Self {
        Self {
            counts: watch::channel(FlaskSseCounts::default()).0,
            paused: watch::channel(false).0,
        }
    }
}

impl FlaskSseControl {
    /// The counts now.
    pub(crate) fn counts(&self) -> FlaskSseCounts {
        self.counts.borrow().clone()
    }

    /// Resolves once `done` holds for the counts.
    pub(crate) async fn wait_for(&self, done: impl Fn(&FlaskSseCounts) -> bool) {
        let mut counts = self.counts.subscribe();
        // The sender lives as long as `self`.
        let _ = counts.wait_for(|c| done(c)).await;
    }

    /// While paused, the bridge neither ticks nor writes: it only queues the messages
    /// it receives (the newest [`MAX_PENDING`] and [`MAX_PENDING_BYTES`], see
    /// [Backlog](self#backlog)), as a process that stalls between receiving and writing
    /// holds them; it writes them when resumed.
    pub(crate) fn pause(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    fn update(&self, change: impl FnOnce(&mut FlaskSseCounts)) {
        self.counts.send_modify(change);
    }
}

/// A Flask-SSE pub/sub message as an event, its data lines as Flask-SSE's own stream
/// writes them (Python's `str.splitlines()`); `None` if it is not one: not a JSON
/// object, no `data`, data with no line (Flask-SSE's stream then has no `data:` field,
/// and a client dispatches nothing), a `type` with a line break, or the type `reset`,
/// which this server sends only itself.
pub(crate) fn message_to_event(payload: &[u8]) -> Option<NewEvent> {
    let Value::Object(message) = serde_json::from_slice(payload).ok()? else {
        return None;
    };
    let data = match message.get("data")? {
        Value::String(text) => python_lines(text)?,
        other => other.to_string(),
    };
    let event = match message.get("type") {
        Some(Value::String(kind)) if kind.contains(['\r', '\n']) || kind == "reset" => return None,
        Some(Value::String(kind)) if !kind.is_empty() => Some(kind.clone()),
        _ => None,
    };
    let retry = message.get("retry").and_then(Value::as_u64);
    Some(NewEvent {
        event,
        data,
        id: None,
        retry,
    })
}

/// A name for this instance in the lease: process id, time and a counter, so that
/// several states in one process differ too.
pub(crate) fn instance_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}-{n}", std::process::id())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The bridge's pub/sub connection and what it is subscribed to. Dropping it stops
/// the reader and closes the connection.
struct Subscribed {
    sink: PubSubSink,
    /// The task moving the connection's messages into the [`Backlog`]; it ends with the
    /// connection.
    reader: tokio::task::JoinHandle<()>,
    channels: HashSet<String>,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The messages received and not yet written, oldest first (see
/// [Backlog](self#backlog)).
#[derive(Default)]
struct Backlog {
    queue: std::sync::Mutex<Queue>,
    pushed: Notify,
}

#[derive(Default)]
struct Queue {
    messages: VecDeque<redis::Msg>,
    /// Their sizes, as [`size`] counts them, added up.
    bytes: usize,
    /// Which connection's reader may add to the queue: one whose messages were
    /// [discarded](Backlog::discard) may not.
    generation: u64,
    /// Whether messages were dropped since the queue was last empty.
    overflowing: bool,
}

/// What [`Backlog::push`] did.
#[derive(Debug, PartialEq, Eq)]
enum Pushed {
    /// Queued, after dropping this many older messages (the first of them on
    /// `first_on`, when this starts an episode of drops).
    Queued {
        dropped: u64,
        first_on: Option<String>,
    },
    /// Not queued: the queue was discarded since this reader began.
    Stale,
}

/// The bytes one message counts against [`MAX_PENDING_BYTES`].
fn size(message: &redis::Msg) -> usize {
    message.get_payload_bytes().len() + message.get_channel_name().len()
}

impl Backlog {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Nothing panics with the lock held; a poisoned queue is still consistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The generation a new reader pushes with: from here on, the earlier readers'
    /// messages are not queued (what they queued stays).
    fn renew(&self) -> u64 {
        let mut queue = self.queue();
        queue.generation += 1;
        queue.generation
    }

    #[cfg(test)]
    fn generation(&self) -> u64 {
        self.queue().generation
    }

    /// Queues `message`, dropping the oldest queued messages as needed to stay within
    /// [`MAX_PENDING`] and [`MAX_PENDING_BYTES`] (the newest is always kept).
    fn push(&self, generation: u64, message: redis::Msg) -> Pushed {
        let mut queue = self.queue();
        if queue.generation != generation {
            return Pushed::Stale;
        }
        let mut dropped = 0;
        let mut first_on = None;
        queue.bytes += size(&message);
        queue.messages.push_back(message);
        while queue.messages.len() > 1
            && (queue.messages.len() > MAX_PENDING || queue.bytes > MAX_PENDING_BYTES)
        {
            let Some(old) = queue.messages.pop_front() else {
                break;
            };
            queue.bytes -= size(&old);
            if !queue.overflowing {
                queue.overflowing = true;
                first_on = Some(old.get_channel_name().to_owned());
            }
            dropped += 1;
        }
        drop(queue);
        self.pushed.notify_one();
        Pushed::Queued { dropped, first_on }
    }

    /// The oldest queued message.
    fn pop(&self) -> Option<redis::Msg> {
        let mut queue = self.queue();
        let message = queue.messages.pop_front()?;
        queue.bytes -= size(&message);
        if queue.messages.is_empty() {
            queue.overflowing = false;
        }
        Some(message)
    }

    /// Resolves with the oldest queued message, once there is one. Cancel-safe.
    async fn next(&self) -> redis::Msg {
        loop {
            if let Some(message) = self.pop() {
                return message;
            }
            self.pushed.notified().await;
        }
    }

    /// Empties the queue, and keeps the readers started before from adding to it;
    /// returns how many messages it held.
    fn discard(&self) -> u64 {
        let mut queue = self.queue();
        let held = queue.messages.len() as u64;
        queue.messages.clear();
        queue.bytes = 0;
        queue.overflowing = false;
        queue.generation += 1;
        held
    }
}

/// Moves the messages of one pub/sub connection into `backlog` as they arrive, until
/// the connection ends.
async fn read(
    mut messages: PubSubStream,
    backlog: Arc<Backlog>,
    generation: u64,
    control: Arc<FlaskSseControl>,
) {
    while let Some(message) = messages.next().await {
        match backlog.push(generation, message) {
            Pushed::Queued { dropped, first_on } => {
                control.update(|c| {
                    c.received += 1;
                    c.dropped += dropped;
                });
                if let Some(first_on) = first_on {
                    eprintln!(
                        "flask-sse: the bridge writes slower than Flask-SSE publishes, so it drops the \
                         oldest messages waiting to be written (past {MAX_PENDING} or {} MiB of them; \
                         the first on `{first_on}`): Flask-SSE's pub/sub keeps nothing, so they are \
                         never recorded (counted as dropped; said once until the bridge catches up)",
                        MAX_PENDING_BYTES / (1024 * 1024)
                    );
                }
            }
            Pushed::Stale => control.update(|c| {
                c.received += 1;
                c.refused += 1;
            }),
        }
    }
}

/// Runs the bridge until `shutdown` (see the module docs). `instance` names this
/// instance in the lease.
pub(crate) async fn run(
    broker: Arc<RedisBroker>,
    instance: String,
    control: Arc<FlaskSseControl>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut manager = broker.manager();
    let mut subscribed: Option<Subscribed> = None;
    let backlog = Arc::new(Backlog::default());
    let mut paused = control.paused.subscribe();
    let mut timer = tokio::time::interval(TICK);
    // Whether the last tick learnt where the lease stands (see `stop`).
    let mut lease_known = true;
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        enum Wake {
            Shutdown,
            Resume,
            Tick,
            Message(redis::Msg),
            Ended,
        }
        let is_paused = *paused.borrow_and_update();
        let wake = {
            // While paused, the messages wait in the backlog (whose reader goes on),
            // as in a stalled process; they go first when resumed.
            let message = async {
                if is_paused {
                    std::future::pending().await
                } else {
                    backlog.next().await
                }
            };
            let ended = async {
                match subscribed.as_mut() {
                    Some(s) => {
                        let _ = (&mut s.reader).await;
                    }
                    None => std::future::pending().await,
                }
            };
            let tick = async {
                if is_paused {
                    std::future::pending().await
                } else {
                    timer.tick().await
                }
            };
            // In this order: a pause or a tick (which may find the lease gone, and
            // discard what is queued) before the next write.
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|s| *s) => Wake::Shutdown,
                _ = paused.changed() => Wake::Resume,
                _ = tick => Wake::Tick,
                () = ended => Wake::Ended,
                message = message => Wake::Message(message),
            }
        };
        match wake {
            Wake::Shutdown => break,
            Wake::Resume => {}
            Wake::Tick => {
                // (A tick waits on Redis, up to its deadline per command: the server
                // stopping does not wait for it.)
                let ticked = tokio::select! {
                    biased;
                    _ = shutdown.wait_for(|s| *s) => None,
                    ticked = tick(
                        &broker,
                        &mut manager,
                        &instance,
                        &control,
                        &backlog,
                        &mut subscribed,
                    ) => Some(ticked),
                };
                let Some(ticked) = ticked else {
                    lease_known = false;
                    break;
                };
                let was_failing = control.counts().failing.is_some();
                // (A tick that failed may have taken the lease in Redis all the same, a
                // lapsed one after another instance recorded what is queued here: the
                // stop then does not drain, as after a tick cut short.)
                lease_known = ticked.is_ok();
                match ticked {
                    Ok(()) if was_failing => {
                        eprintln!("flask-sse: the bridge works again");
                        control.update(|c| c.failing = None);
                    }
                    Ok(()) => {}
                    Err(error) => {
                        if !was_failing {
                            eprintln!(
                                "flask-sse: the bridge failed ({error}); it tries again every {} \
                                 ms, and what Flask-SSE publishes meanwhile is not recorded \
                                 unless another instance's bridge holds the lease (said once \
                                 until it works again; a refusal is the Redis user's rights: \
                                 it needs the channels, `allchannels` or `&*`, and the \
                                 `wes:*` keys)",
                                TICK.as_millis()
                            );
                        }
                        subscribed = None;
                        control.update(|c| {
                            c.subscribed = 0;
                            c.failing = Some(error);
                        });
                    }
                }
            }
            Wake::Message(message) => {
                // (A failure is logged there; the next tick finds what is wrong.)
                let _ = write(
                    &mut manager,
                    &instance,
                    &control,
                    &backlog,
                    &mut subscribed,
                    &message,
                )
                .await;
            }
            // The connection is gone (what it delivered stays queued); the next tick
            // reconnects.
            Wake::Ended => {
                subscribed = None;
                control.update(|c| c.subscribed = 0);
            }
        }
    }
    // The server stops (or stopped a tick short).
    stop(
        &mut manager,
        &instance,
        &control,
        &backlog,
        &mut subscribed,
        lease_known,
    )
    .await;
}

/// Records one pub/sub message in its channel's stream, fenced by the lease (see
/// [Fencing](self#fencing)). Without the lease, unsubscribes and discards the queued
/// messages: the new holder records them.
async fn write(
    manager: &mut ConnectionManager,
    instance: &str,
    control: &FlaskSseControl,
    backlog: &Backlog,
    subscribed: &mut Option<Subscribed>,
    message: &redis::Msg,
) -> Result<(), String> {
    let channel = message.get_channel_name();
    let Some(event) = message_to_event(message.get_payload_bytes()) else {
        let mut skipped = 0;
        control.update(|c| {
            c.skipped += 1;
            skipped = c.skipped;
        });
        // (The first, then at 10, 100, ...: a publisher that sends only these is told,
        // and cannot flood the log.)
        if is_power_of_ten(skipped) {
            eprintln!(
                "flask-sse: a message on `{channel}` is not Flask-SSE's, so it is not recorded \
                 ({skipped} so far): it must be a JSON object with `data` (JSON without NaN or \
                 Infinity), and a `type` without line breaks other than `reset`; it began {:?}",
                excerpt(message.get_payload_bytes())
            );
        }
        return Ok(());
    };
    match timed(fenced_xadd(manager, instance, channel, &event)).await {
        Ok(Some(_)) => control.update(|c| c.stored += 1),
        Ok(None) => {
            if subscribed.take().is_some() {
                eprintln!(
                    "flask-sse: this instance no longer holds the bridge lease; it leaves the messages to the new holder"
                );
            }
            let queued = backlog.discard();
            control.update(|c| {
                c.refused += 1 + queued;
                c.holder = false;
                c.subscribed = 0;
            });
        }
        Err(error) => {
            eprintln!("flask-sse: a message on `{channel}` was not stored: {error}");
            return Err(error);
        }
    }
    Ok(())
}

/// Whether `n` is 1, 10, 100, ...
fn is_power_of_ten(n: u64) -> bool {
    n.checked_ilog10().is_some_and(|e| 10u64.pow(e) == n)
}

/// The first 80 characters of a payload, as text (lossy), for a log line.
fn excerpt(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.into_owned(),
    }
}

/// Deletes the lease if `ARGV[1]` holds it: 1 if it did, else 0.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Most time a stopping bridge spends writing what it has queued.
const DRAIN: Duration = Duration::from_secs(1);

/// The server stops: the bridge writes what it has queued (for at most [`DRAIN`]; only
/// when `lease_known`, no tick having been cut short), then gives up the lease, so
/// that another instance takes it at its next tick rather than when the lease expires
/// (pub/sub keeps nothing meanwhile: a rolling deploy would lose up to [`LEASE`] of
/// messages).
async fn stop(
    manager: &mut ConnectionManager,
    instance: &str,
    control: &FlaskSseControl,
    backlog: &Backlog,
    subscribed: &mut Option<Subscribed>,
    lease_known: bool,
) {
    // Nothing more comes in: what is queued now is what there is to write (a reader
    // not yet aborted adds nothing after this).
    *subscribed = None;
    backlog.renew();
    control.update(|c| c.subscribed = 0);
    // Written only under a lease this instance knows it held all along: a tick cut
    // short may have just taken it again, lapsed, after another instance recorded
    // what is queued here (see Fencing).
    let drain = lease_known && control.counts().holder;
    let mut writing = false;
    let drained = if drain {
        tokio::time::timeout(DRAIN, async {
            while let Some(message) = backlog.pop() {
                writing = true;
                write(manager, instance, control, backlog, subscribed, &message).await?;
                writing = false;
            }
            Ok::<(), String>(())
        })
        .await
    } else {
        Ok(Ok(()))
    };
    let unwritten = backlog.discard() + u64::from(writing);
    if unwritten > 0 {
        let why = match drained {
            Err(_) => format!(
                "Redis did not take them within {} ms; the one it was given may yet be recorded",
                DRAIN.as_millis()
            ),
            Ok(Err(error)) => error,
            Ok(Ok(())) => "the lease was not known to be this instance's".into(),
        };
        eprintln!(
            "flask-sse: stopping, the bridge leaves {unwritten} queued messages unrecorded \
             ({why}); counted as dropped"
        );
        control.update(|c| c.dropped += unwritten);
    }
    // Given up whether or not it was known to be held: the script deletes it only if it
    // names this instance (a tick cut short may have taken it).
    let released: Result<i64, String> = timed(
        redis::cmd("EVAL")
            .arg(RELEASE_SCRIPT)
            .arg(1)
            .arg(LEASE_KEY)
            .arg(instance)
            .query_async(manager),
    )
    .await;
    match released {
        Ok(_) => control.update(|c| c.holder = false),
        Err(error) => eprintln!(
            "flask-sse: stopping, the bridge could not give up its lease ({error}); another \
             instance takes it when it expires, within {} ms",
            LEASE.as_millis()
        ),
    }
}

/// `XADD`s `event` to the channel's stream if the lease names `instance`; the entry id,
/// or `None` when it does not.
async fn fenced_xadd(
    manager: &mut ConnectionManager,
    instance: &str,
    channel: &str,
    event: &NewEvent,
) -> Result<Option<String>, redis::RedisError> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(FENCED_XADD_SCRIPT)
        .arg(2)
        .arg(LEASE_KEY)
        .arg(stream_key(channel))
        .arg(instance)
        .arg(STREAM_MAXLEN)
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

/// One tick: take or renew the lease (first, so that nothing delays the renewal),
/// record our channels, follow the recorded channels when holding the lease (without
/// it, discard the queued messages, as [`write`] would have been refused).
async fn tick(
    broker: &RedisBroker,
    manager: &mut ConnectionManager,
    instance: &str,
    control: &Arc<FlaskSseControl>,
    backlog: &Arc<Backlog>,
    subscribed: &mut Option<Subscribed>,
) -> Result<(), String> {
    let lease = u64::try_from(LEASE.as_millis()).unwrap_or(u64::MAX);
    let held: i64 = timed(
        redis::cmd("EVAL")
            .arg(LEASE_SCRIPT)
            .arg(1)
            .arg(LEASE_KEY)
            .arg(instance)
            .arg(lease)
            .query_async(manager),
    )
    .await?;

    let now = now_ms();
    let ttl = u64::try_from(REGISTRY_TTL.as_millis()).unwrap_or(u64::MAX);
    let mut pipe = redis::pipe();
    for channel in broker.streamed_channels() {
        pipe.cmd("ZADD")
            .arg(CHANNELS_KEY)
            .arg(now)
            .arg(channel)
            .ignore();
    }
    pipe.cmd("ZREMRANGEBYSCORE")
        .arg(CHANNELS_KEY)
        .arg("-inf")
        .arg(format!("({}", now.saturating_sub(ttl)))
        .ignore();
    timed(pipe.query_async::<()>(manager)).await?;

    // Taken afresh (2), the lease lapsed since this instance last held it: another may
    // have held it meanwhile and recorded what is queued here, so that goes, with the
    // connection it came on (at most once, never twice).
    if held != 1 {
        *subscribed = None;
        let queued = backlog.discard();
        control.update(|c| {
            c.holder = false;
            c.subscribed = 0;
            c.refused += queued;
        });
        if held != 2 {
            return Ok(());
        }
    }
    let mut recorded: Vec<String> = timed(
        redis::cmd("ZRANGEBYSCORE")
            .arg(CHANNELS_KEY)
            .arg(now.saturating_sub(ttl))
            .arg("+inf")
            .arg("LIMIT")
            .arg(0)
            .arg(MAX_CHANNELS + 1)
            .query_async(manager),
    )
    .await?;
    // (Past the cap, which ones are followed changes from tick to tick. Said once until
    // the channels fit again.)
    let capped = recorded.len() > MAX_CHANNELS;
    recorded.truncate(MAX_CHANNELS);
    if capped && !control.counts().capped {
        eprintln!(
            "flask-sse: the instances stream more than {MAX_CHANNELS} channels, and the bridge \
             follows at most {MAX_CHANNELS}: what Flask-SSE publishes on the others is not \
             recorded (said once until they fit)"
        );
    }
    control.update(|c| c.capped = capped);
    let wanted: HashSet<String> = recorded
        .into_iter()
        .filter(|c| validate_channel_name(c).is_ok())
        .collect();
    if subscribed.is_none() {
        let pubsub = timed(broker.client().get_async_pubsub()).await?;
        let (sink, messages) = pubsub.split();
        // A new generation: a reader of an earlier connection, its abort not yet
        // done, adds nothing after this one's messages.
        let reader = tokio::spawn(read(
            messages,
            Arc::clone(backlog),
            backlog.renew(),
            Arc::clone(control),
        ));
        *subscribed = Some(Subscribed {
            sink,
            reader,
            channels: HashSet::new(),
        });
    }
    let Some(s) = subscribed.as_mut() else {
        return Ok(());
    };
    let new: Vec<&String> = wanted.difference(&s.channels).collect();
    if !new.is_empty() {
        timed(s.sink.subscribe(&new)).await?;
    }
    let old: Vec<&String> = s.channels.difference(&wanted).collect();
    if !old.is_empty() {
        timed(s.sink.unsubscribe(&old)).await?;
    }
    s.channels = wanted;
    let count = s.channels.len();
    control.update(|c| {
        c.holder = true;
        c.subscribed = count;
    });
    Ok(())
}

/// `text`'s lines as Python's `str.splitlines()` makes them (at `\n`, `\r`, `\r\n`,
/// `\v`, `\f`, `\x1c`–`\x1e`, `\u{85}`, `\u{2028}`, `\u{2029}`, with no empty last
/// line), joined by `\n`; `None` when there is none.
fn python_lines(text: &str) -> Option<String> {
    let breaks = |c: char| {
        matches!(
            c,
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}'
                ..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    };
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(breaks).unwrap_or(rest.len());
        lines.push(&rest[..end]);
        rest = &rest[end..];
        // The break itself: `\r\n` is one.
        if let Some(stripped) = rest.strip_prefix("\r\n") {
            rest = stripped;
        } else if let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_messages_are_logged_at_1_10_100_and_so_on() {
        let logged: Vec<u64> = (0..=1000).filter(|&n| is_power_of_ten(n)).collect();
        assert_eq!(logged, [1, 10, 100, 1000]);
        assert_eq!(
            excerpt("é".repeat(100).as_bytes()),
            format!("{}…", "é".repeat(80))
        );
    }

    #[test]
    fn flask_sse_messages() {
        let event = message_to_event(br#"{"data": {"n": 1}, "type": "chat"}"#).expect("event");
        assert_eq!(event.event.as_deref(), Some("chat"));
        assert_eq!(event.data, r#"{"n":1}"#);
        let event =
            message_to_event(br#"{"data": "a\r\nb", "id": "7", "retry": 500}"#).expect("event");
        assert_eq!(event.event, None);
        assert_eq!(event.data, "a\nb");
        assert_eq!(event.retry, Some(500));
        assert_eq!(event.id, None);
        assert!(message_to_event(b"not json").is_none());
        assert!(message_to_event(br#"{"type": "x"}"#).is_none());
        assert!(message_to_event(br#"{"data": 1, "type": "a\nb"}"#).is_none());
        // What broke: the data was not split as Flask-SSE's own stream splits it
        // (Python's splitlines): a trailing break stayed, an empty message was an
        // event, other breaks were not lines; and the type `reset` passed.
        let data = |json: &[u8]| message_to_event(json).map(|e| e.data);
        assert_eq!(data(br#"{"data": "line\n"}"#).as_deref(), Some("line"));
        assert_eq!(data(br#"{"data": "\n"}"#).as_deref(), Some(""));
        assert_eq!(data(br#"{"data": ""}"#), None);
        assert_eq!(
            data(br#"{"data": "a\u2028b\u000bc\r\n\r\nd"}"#).as_deref(),
            Some("a\nb\nc\n\nd")
        );
        assert!(message_to_event(br#"{"data": 1, "type": "reset"}"#).is_none());
    }

    fn msg(channel: &str, payload: &[u8]) -> redis::Msg {
        redis::Msg::from_owned_value(redis::Value::Array(vec![
            redis::Value::BulkString(b"message".to_vec()),
            redis::Value::BulkString(channel.as_bytes().to_vec()),
            redis::Value::BulkString(payload.to_vec()),
        ]))
        .expect("a pub/sub message")
    }

    fn queued(dropped: u64, first_on: Option<&str>) -> Pushed {
        Pushed::Queued {
            dropped,
            first_on: first_on.map(str::to_owned),
        }
    }

    // What broke: the bridge's backlog (in redis-rs) had no bound; this one keeps the
    // newest messages within a count and a byte budget, and says what it dropped.
    #[test]
    fn the_backlog_keeps_the_newest_within_its_bounds() {
        let backlog = Backlog::default();
        let generation = backlog.generation();
        for n in 0..MAX_PENDING {
            let pushed = backlog.push(generation, msg("a", n.to_string().as_bytes()));
            assert_eq!(pushed, queued(0, None));
        }
        // Past the count: the oldest goes, the episode is named once.
        assert_eq!(
            backlog.push(generation, msg("b", b"x")),
            queued(1, Some("a"))
        );
        assert_eq!(backlog.push(generation, msg("b", b"y")), queued(1, None));
        assert_eq!(backlog.pop().expect("held").get_payload_bytes(), b"2");
        while let Some(message) = backlog.pop() {
            if message.get_payload_bytes() == b"y" {
                break;
            }
        }
        assert!(backlog.pop().is_none());

        // Past the bytes: as many of the oldest go as needed; a message larger than
        // the budget is kept alone. The queue emptied, so this is a new episode.
        // Each counts its payload and its one-byte channel name.
        let third = vec![b'.'; MAX_PENDING_BYTES / 3 - 1];
        for _ in 0..3 {
            assert_eq!(backlog.push(generation, msg("c", &third)), queued(0, None));
        }
        assert_eq!(
            backlog.push(generation, msg("d", b"{}")),
            queued(1, Some("c"))
        );
        let whole = vec![b'.'; MAX_PENDING_BYTES + 1];
        assert_eq!(backlog.push(generation, msg("e", &whole)), queued(3, None));
        assert_eq!(backlog.pop().expect("held").get_channel_name(), "e");
        assert!(backlog.pop().is_none());

        // Discarded: what it held is counted, and the old reader adds nothing more.
        backlog.push(generation, msg("f", b"1"));
        assert_eq!(backlog.discard(), 1);
        assert_eq!(backlog.push(generation, msg("f", b"2")), Pushed::Stale);
        assert_eq!(
            backlog.push(backlog.generation(), msg("f", b"3")),
            queued(0, None)
        );
    }
}
