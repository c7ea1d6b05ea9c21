//! The broker interface: where `/publish` stores an event and where `/events` streams
//! read it from.
//!
//! Two implementations:
//!
//! - [`memory`]: the embedded default. Each channel's replay buffer lives in this
//!   process (see `channels.rs`); ids are `1`, `2`, ... per channel. Nothing is shared
//!   between instances and a restart forgets every event.
//! - [`redis`] (`--redis URL` or `REDIS_URL`): each channel is the Redis stream
//!   `wes:stream:<channel>`, trimmed with `XADD ... MAXLEN ~ 1000`. The stream entry id
//!   is the SSE `id:`, so every instance sends the same id for the same event, and a
//!   client can resume on any instance. With `--flask-sse`, Flask-SSE's pub/sub
//!   messages are bridged into those streams too (see [`flask`]).
//!
//! The per-instance parts of a channel stay in `channels.rs` in both cases: the cap of
//! 1000 channels per server and the `/control` switches (drop, fail) act on the
//! streams of this instance only.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::channels::{Channel, StoredEvent};
use crate::error::ApiError;

pub mod flask;
pub mod memory;
pub mod redis;

/// An event as `/publish` (or a bridge) hands it to a broker.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    /// The `event:` field; `None` for the default `message` type. Holds no CR or LF.
    pub(crate) event: Option<String>,
    /// The `data:` field. Line breaks are written as several `data:` lines.
    pub(crate) data: String,
    /// An explicit id, if the publisher gave one. Holds no CR, LF or NUL.
    pub(crate) id: Option<String>,
    /// A `retry:` value to send with the event (Flask-SSE's `retry`).
    pub(crate) retry: Option<u64>,
}

/// What a broker answers to a publish.
#[derive(Debug)]
pub(crate) struct Published {
    /// The id the event got.
    pub(crate) id: String,
    /// Live `/events` streams of the channel on this instance.
    pub(crate) receivers: usize,
}

/// One item of an `/events` stream: of its replay, or live.
#[derive(Debug, Clone)]
pub(crate) enum Live {
    /// An event, in channel order.
    Event(Arc<StoredEvent>),
    /// A comment line for the client (`: TEXT`), for example that the broker is
    /// unreachable. Holds no CR or LF.
    Comment(&'static str),
    /// The stream must end so that its client resumes by Last-Event-ID: the broker may
    /// have dropped events it had not delivered yet.
    Resume,
}

/// What a new `/events` stream starts from.
pub(crate) struct Subscription {
    /// `Some` when the client's Last-Event-ID is not held (evicted, trimmed, or never
    /// seen): the replay is then every event held, and this is the oldest id held
    /// (`None` when nothing is held).
    pub(crate) history_lost: Option<Option<String>>,
    /// The replay, the stored events after the client's Last-Event-ID, oldest first,
    /// then live items, without gap or duplicate. Both are read a few events at a time
    /// as the stream is read (memory: from the channel's ring; Redis: the replay from
    /// Redis, live items from the instance's bounded live ring of the channel), so that
    /// a client that stops reading holds no more than that. Ends when the reader falls
    /// too far behind: events it had not sent went from the store or the live ring;
    /// the client then resumes by Last-Event-ID.
    pub(crate) events: BoxStream<'static, Live>,
    /// Changes when `/control/drop` asks every stream of the channel to end.
    pub(crate) dropped: watch::Receiver<u64>,
}

/// Whether the broker can serve requests now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Health {
    /// `"memory"` or `"redis"`.
    pub(crate) broker: &'static str,
    /// `None` when reachable, else why not.
    pub(crate) error: Option<String>,
}

impl Health {
    /// The JSON body of `GET /health`.
    pub(crate) fn to_json(&self) -> Value {
        match &self.error {
            None => json!({ "broker": self.broker, "reachable": true }),
            Some(error) => json!({ "broker": self.broker, "reachable": false, "error": error }),
        }
    }
}

/// Stores events and streams them. `channel` is this instance's record of the channel
/// (already created and counted against the channel cap); `name` is its name.
pub(crate) trait Broker: Send + Sync + 'static {
    /// `"memory"` or `"redis"`.
    fn kind(&self) -> &'static str;

    /// Stores `event` on the channel and delivers it to live streams (of every instance
    /// sharing the broker). An `Ok` means the event is stored: it is never lost
    /// afterwards (within the broker's retention).
    fn publish<'a>(
        &'a self,
        channel: &'a Arc<Channel>,
        name: &'a str,
        event: NewEvent,
    ) -> BoxFuture<'a, Result<Published, ApiError>>;

    /// Starts a stream of the channel after `last_event_id` (see [`Subscription`]).
    fn subscribe<'a>(
        &'a self,
        channel: &'a Arc<Channel>,
        name: &'a str,
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, ApiError>>;

    /// Checks that the broker is reachable now.
    fn health(&self) -> BoxFuture<'_, Health>;
}
