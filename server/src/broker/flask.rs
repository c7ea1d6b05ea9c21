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
//! recorded: at most once, as above, never twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use redis::aio::{ConnectionManager, PubSubSink, PubSubStream};
use serde_json::Value;
use tokio::sync::watch;

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

/// Takes the lease if it is free or renews it if `ARGV[1]` holds it; 1 when held.
const LEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
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

/// Most messages a paused bridge queues (see [`FlaskSseControl::pause`], a test hook).
/// Past it, the bridge takes no more from its pub/sub connection until resumed, but
/// they do not wait in Redis: redis-rs's driver task reads the socket whatever the
/// bridge takes, into a queue in this process with no bound, which also holds, while
/// the bridge runs, the messages that arrive faster than it writes them.
const MAX_PENDING: usize = 1000;

/// What the bridge of one instance has done, for tests (see
/// `AppState::wait_for_flask_sse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlaskSseCounts {
    /// Whether this instance held the lease at its last tick.
    pub holder: bool,
    /// Pub/sub channels it is subscribed to.
    pub subscribed: usize,
    /// Flask-SSE messages received.
    pub received: u64,
    /// Messages recorded in a stream.
    pub stored: u64,
    /// Messages not recorded because the lease no longer named this instance when it
    /// wrote (see [Fencing](self#fencing)).
    pub refused: u64,
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
    /// it receives (at most [`MAX_PENDING`]), as a process that stalls between
    /// receiving and writing holds them; it writes them when resumed.
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

/// The bridge's pub/sub connection and what it is subscribed to.
struct Subscribed {
    sink: PubSubSink,
    messages: PubSubStream,
    channels: HashSet<String>,
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
    let mut pending: VecDeque<redis::Msg> = VecDeque::new();
    let mut paused = control.paused.subscribe();
    let mut timer = tokio::time::interval(TICK);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        enum Wake {
            Shutdown,
            Resume,
            Tick,
            Message(Option<redis::Msg>),
        }
        let is_paused = *paused.borrow_and_update();
        if !is_paused {
            // What arrived while paused goes first, as a stalled process would go on.
            while let Some(message) = pending.pop_front() {
                write(&mut manager, &instance, &control, &mut subscribed, &message).await;
            }
        }
        let wake = {
            let room = !is_paused || pending.len() < MAX_PENDING;
            let message = async {
                match subscribed.as_mut() {
                    Some(s) if room => s.messages.next().await,
                    _ => std::future::pending().await,
                }
            };
            let tick = async {
                if is_paused {
                    std::future::pending().await
                } else {
                    timer.tick().await
                }
            };
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => Wake::Shutdown,
                _ = paused.changed() => Wake::Resume,
                _ = tick => Wake::Tick,
                message = message => Wake::Message(message),
            }
        };
        match wake {
            Wake::Shutdown => return,
            Wake::Resume => {}
            Wake::Tick => {
                if tick(&broker, &mut manager, &instance, &control, &mut subscribed)
                    .await
                    .is_err()
                {
                    subscribed = None;
                    control.update(|c| c.subscribed = 0);
                }
            }
            Wake::Message(Some(message)) => {
                control.update(|c| c.received += 1);
                if is_paused {
                    pending.push_back(message);
                } else {
                    write(&mut manager, &instance, &control, &mut subscribed, &message).await;
                }
            }
            // The connection is gone; the next tick reconnects.
            Wake::Message(None) => {
                subscribed = None;
                control.update(|c| c.subscribed = 0);
            }
        }
    }
}

/// Records one pub/sub message in its channel's stream, fenced by the lease (see
/// [Fencing](self#fencing)). Without the lease, unsubscribes: the new holder records
/// the messages.
async fn write(
    manager: &mut ConnectionManager,
    instance: &str,
    control: &FlaskSseControl,
    subscribed: &mut Option<Subscribed>,
    message: &redis::Msg,
) {
    let channel = message.get_channel_name();
    let Some(event) = message_to_event(message.get_payload_bytes()) else {
        return;
    };
    match timed(fenced_xadd(manager, instance, channel, &event)).await {
        Ok(Some(_)) => control.update(|c| c.stored += 1),
        Ok(None) => {
            if subscribed.take().is_some() {
                eprintln!(
                    "flask-sse: this instance no longer holds the bridge lease; it leaves the messages to the new holder"
                );
            }
            control.update(|c| {
                c.refused += 1;
                c.holder = false;
                c.subscribed = 0;
            });
        }
        Err(error) => eprintln!("flask-sse: a message on `{channel}` was not stored: {error}"),
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
/// record our channels, follow the recorded channels when holding the lease.
async fn tick(
    broker: &RedisBroker,
    manager: &mut ConnectionManager,
    instance: &str,
    control: &FlaskSseControl,
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

    if held != 1 {
        *subscribed = None;
        control.update(|c| {
            c.holder = false;
            c.subscribed = 0;
        });
        return Ok(());
    }
    let recorded: Vec<String> = timed(
        redis::cmd("ZRANGEBYSCORE")
            .arg(CHANNELS_KEY)
            .arg(now.saturating_sub(ttl))
            .arg("+inf")
            .arg("LIMIT")
            .arg(0)
            .arg(MAX_CHANNELS)
            .query_async(manager),
    )
    .await?;
    let wanted: HashSet<String> = recorded
        .into_iter()
        .filter(|c| validate_channel_name(c).is_ok())
        .collect();
    if subscribed.is_none() {
        let pubsub = timed(broker.client().get_async_pubsub()).await?;
        let (sink, messages) = pubsub.split();
        *subscribed = Some(Subscribed {
            sink,
            messages,
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
}
