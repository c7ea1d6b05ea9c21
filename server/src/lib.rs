//! The test and demo server of `wasm-eventsource`.
//!
//! [`app`] builds the whole router so that the binary (`main.rs`) and the integration
//! tests serve exactly the same thing. Routes:
//!
//! - `GET /events?channel=NAME&retry=MS&keepalive_ms=MS&lastEventId=ID`: a live
//!   stream of a channel, with replay after `Last-Event-ID` (see [`events`]).
//! - `POST /publish` with `{"channel", "event"?, "data", "id"?}` (see [`publish`]).
//! - `GET /health`: whether the broker is reachable (see [`health`]).
//! - `GET /examples.json`: `{"built": [...]}`, the example apps built and served at
//!   `/examples/<name>/` (see [`examples`]).
//! - `GET /stats`: `{"connections": N, "channels": M, "perChannel": {...}}`, the open
//!   `/events` streams, all together and per channel, and the channels held (see
//!   [`stats`]).
//! - `POST /control/drop?channel=NAME`, `POST /control/fail?channel=NAME&count=N&status=S`
//!   (see [`control`]).
//! - `GET|POST /scenario/...`: deterministic behaviours for tests (see [`scenario`]).
//! - static files: `www/` at `/`, the built package at `/pkg/`, the built examples at
//!   `/examples/` (see [`Config`]); a path that would leave its directory is a 404.
//!
//! The server answers only requests addressed to a loopback host: a `Host` header of
//! `localhost`, `*.localhost`, an address in `127.0.0.0/8` or `[::1]`, with or without
//! a port. Any other `Host`, or none, gets 421 Misdirected Request with a JSON error
//! (static files included), so a page on another site cannot reach the server through
//! DNS rebinding. CORS headers go only to loopback origins.
//!
//! The routes that change state (`/events`, which makes a channel and holds a stream,
//! `/publish`, `/control/*` and the scenarios, which write request logs and counters)
//! also refuse requests from other sites with 403 and a JSON error, since any page can
//! send a simple request (a `no-cors` POST, an `<img src>`) to a loopback address. They
//! allow a request whose `Origin` is a loopback origin (as CORS does: the
//! wasm-bindgen test runner serves the browser tests from another loopback port) or
//! this server's own origin; without `Origin`, one whose `Sec-Fetch-Site` is
//! `same-origin`, `same-site` or `none`; and one with neither header (curl, tests).
//! They refuse any other `Origin` (`null` included) and `Sec-Fetch-Site: cross-site`.
//! Static files, `/health` and `/scenario/log/{token}` answer everyone (only loopback
//! origins can read them from a page).
//!
//! A channel is created by the first `/events`, `/publish` or `/control/fail` request
//! naming it, and freed when idle, so that requests naming ever new channels (a
//! thousand `<img src=/events?channel=rN>`) cannot fill the server for good:
//!
//! - A channel in use (an open `/events` stream, a request being answered, the ticker)
//!   is never freed.
//! - A channel that never stored an event and has no pending `/control/fail` is freed
//!   as soon as its last stream or request ends: it holds nothing to replay.
//! - Other idle channels stay, so a client that reconnects resumes from their events,
//!   until a request names a new channel while the server holds [`MAX_CHANNELS`] (1000).
//!   Then one idle channel is freed for it: one without a pending failure before one
//!   with, then one that holds no event now before one that does, then the least
//!   recently used. Its events go with it, as when the byte budget evicts them: a client
//!   resuming there gets the `reset` event (see [`events`]), unless the channel, named
//!   again, has reached its id anew (in memory its ids start again at 1, below).
//! - Only when all [`MAX_CHANNELS`] channels are in use does a new name get a 503 with
//!   a JSON error.
//!
//! So replay works for every channel in use and for idle channels while fewer than
//! [`MAX_CHANNELS`] are held, and the rest is bounded by the channel cap and the byte
//! budget. A freed channel that is named again starts over (in memory, its ids start
//! again at 1).
//!
//! At most [`Config::max_requests`] requests (10,000 by default) are answered at once,
//! each streaming response counting until its body ends; the next ones get a 503 with
//! a JSON error. The binary ([`serve::serve`]) holds at most
//! [`Config::connection_cap`] connections at once (1,024 more than requests by default;
//! the next wait until one closes) and closes one that sends no request head within
//! [`Config::header_timeout`] (10 s) of opening or of its last response; a request's
//! body has as long again from its head (`/publish` then answers 408). A client that
//! does not read a response holds its connection until it does or goes.
//!
//! Memory that requests can grow is bounded in bytes: the replay buffers of all
//! channels together by [`Config::channel_budget`], the scenario request logs of all
//! tokens together by [`Config::log_budget`] (64 MiB each by default); the oldest
//! entries go first. A stream reads its replay and then its live events from those
//! buffers through one cursor, a batch at a time as it writes them, never copying them
//! or queueing them for it, so a client that stops reading keeps no more than a batch
//! (64 KiB, or one bigger event) alive after the budget evicts it; if the events it was
//! to get next go, its stream ends. (Past the budget, each connection's HTTP layer holds
//! what it has written and the client has not read: hyper's write buffer, up to about
//! 400 KiB, and the kernel's socket buffers. With `--max-requests` streams that all
//! stop reading that is up to `max_requests` × about 0.5 MiB; lower `--max-requests`
//! to bound it. hyper's buffer is not made smaller here: it also bounds a request's
//! head, which a long `Last-Event-ID` needs.) (With the Redis broker, a channel's live entries
//! are kept on each instance only until its streams read them, at most 4 MiB per
//! channel, and all channels' within the same budget: see [`broker::redis`].)
//! [`AppState::channel_bytes`] and [`AppState::log_bytes`] report the accounting (of
//! memory mode). A client resuming from an evicted event gets a `reset` event first (see
//! [`events`]).
//!
//! Events are stored and streamed by a broker: in this process by default, or in Redis
//! streams shared by several instances with [`Config::redis`] (see [`broker`]).
//!
//! The `ticker` channel's publisher runs only once [`AppState::spawn_ticker`] is
//! called. Every SSE response ends when [`AppState::shutdown`] is called, so graceful
//! shutdown never waits on an open stream.
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use tokio::sync::watch;
use tower_http::services::ServeDir;

mod body;
pub mod broker;
mod channels;
pub mod config;
pub mod control;
mod cors;
mod error;
pub mod events;
pub mod examples;
pub mod health;
mod host;
mod limit;
mod origin;
mod params;
pub mod publish;
pub mod scenario;
pub mod serve;
mod sse;
pub mod stats;
pub mod testing;
mod ticker;

pub use channels::MAX_CHANNELS;
pub use config::Config;

// The unit tests measure what structures hold (see `testing::heap`).
#[cfg(test)]
#[global_allocator]
static HEAP: testing::heap::Counting = testing::heap::Counting;

/// Shared server state: the channels, the scenario request logs, the configuration and
/// the shutdown signal. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    channels: channels::Channels,
    broker: Arc<dyn broker::Broker>,
    redis: Option<Arc<broker::redis::RedisBroker>>,
    logs: scenario::RequestLogs,
    counters: scenario::ConnectCounters,
    requests: limit::Requests,
    flask_sse: Arc<broker::flask::FlaskSseControl>,
    shutdown: watch::Sender<bool>,
}

impl AppState {
    /// Fresh state with no channels and no logs, with the in-memory broker, or the
    /// Redis broker when [`Config::redis`] is set (it connects lazily: an unreachable
    /// Redis is not an error here).
    ///
    /// # Errors
    ///
    /// When [`Config::redis`] is not a Redis URL.
    pub fn try_new(config: Config) -> Result<Self, String> {
        let (shutdown, _) = watch::channel(false);
        let (broker, redis): (Arc<dyn broker::Broker>, _) = match &config.redis {
            None => (Arc::new(broker::memory::MemoryBroker), None),
            Some(url) => {
                let redis = Arc::new(broker::redis::RedisBroker::new(
                    url,
                    shutdown.subscribe(),
                    config.channel_budget,
                )?);
                (Arc::clone(&redis) as _, Some(redis))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                channels: channels::Channels::new(config.channel_budget),
                broker,
                redis,
                logs: scenario::RequestLogs::new(config.log_budget),
                counters: scenario::ConnectCounters::default(),
                requests: limit::Requests::new(config.max_requests),
                flask_sse: Arc::default(),
                shutdown,
                config,
            }),
        })
    }

    /// Like [`AppState::try_new`] for a configuration known to be valid.
    ///
    /// # Panics
    ///
    /// When [`Config::redis`] is not a Redis URL (`parse_args` checks it).
    pub fn new(config: Config) -> Self {
        match Self::try_new(config) {
            Ok(state) => state,
            Err(message) => panic!("{message}"),
        }
    }

    /// `"memory"` or `"redis"`: the broker this state uses.
    pub fn broker_kind(&self) -> &'static str {
        self.inner.broker.kind()
    }

    /// Starts the Flask-SSE bridge on the current Tokio runtime, if
    /// [`Config::flask_sse`] is set with [`Config::redis`] (see [`broker::flask`]); it
    /// stops at shutdown, after writing what it holds and giving up its lease (await
    /// the handle for that, before the runtime goes). Call it once per state.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime.
    pub fn spawn_flask_sse(&self) -> Option<tokio::task::JoinHandle<()>> {
        if let (true, Some(redis)) = (self.config().flask_sse, &self.inner.redis) {
            Some(tokio::spawn(broker::flask::run(
                Arc::clone(redis),
                broker::flask::instance_name(),
                Arc::clone(&self.inner.flask_sse),
                self.inner.shutdown.subscribe(),
            )))
        } else {
            None
        }
    }

    /// What the Flask-SSE bridge of this state has done so far (all zero when it does
    /// not run).
    pub fn flask_sse_counts(&self) -> broker::flask::FlaskSseCounts {
        self.inner.flask_sse.counts()
    }

    /// Resolves once `done` holds for [`AppState::flask_sse_counts`], checking again
    /// after every change. Lets tests await a state instead of sleeping.
    pub async fn wait_for_flask_sse(&self, done: impl Fn(&broker::flask::FlaskSseCounts) -> bool) {
        self.inner.flask_sse.wait_for(done).await;
    }

    /// A test hook: while paused, the Flask-SSE bridge neither renews its lease nor
    /// writes; it only queues the messages it receives (the newest 1000 and 8 MiB,
    /// counting older ones as dropped), as a process that stalls between receiving a
    /// message and writing it holds them, and writes them (fenced by the lease) once
    /// resumed.
    pub fn pause_flask_sse(&self, paused: bool) {
        self.inner.flask_sse.pause(paused);
    }

    /// The configuration the state was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Ends every open SSE stream (and the ticker) now and makes new ones end at once.
    /// Call it when the server starts shutting down, so graceful shutdown does not wait
    /// forever on streams that never end by themselves.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Starts the publisher of the `ticker` channel on the current Tokio runtime, if
    /// [`Config::ticker`] is set; it stops at shutdown. Call it once per state: each
    /// call starts another publisher.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime.
    pub fn spawn_ticker(&self) {
        if let Some(interval) = self.config().ticker {
            tokio::spawn(ticker::run(self.clone(), interval));
        }
    }

    /// Resolves once [`AppState::shutdown`] has been called (at once if it already was).
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.shutdown.subscribe();
        async move {
            // An error means the sender is gone, which also means shutdown.
            let _ = rx.wait_for(|down| *down).await;
        }
    }

    pub(crate) fn channels(&self) -> &channels::Channels {
        &self.inner.channels
    }

    pub(crate) fn broker(&self) -> &dyn broker::Broker {
        &*self.inner.broker
    }

    pub(crate) fn logs(&self) -> &scenario::RequestLogs {
        &self.inner.logs
    }

    pub(crate) fn counters(&self) -> &scenario::ConnectCounters {
        &self.inner.counters
    }

    pub(crate) fn requests(&self) -> &limit::Requests {
        &self.inner.requests
    }

    /// Bytes the replay buffers of all channels hold together, as counted against
    /// [`Config::channel_budget`]: per event, its type, id and data plus a fixed
    /// overhead; per channel, the id it keeps of its newest evicted event.
    pub fn channel_bytes(&self) -> usize {
        self.inner.channels.bytes()
    }

    /// Bytes the scenario request logs of all tokens hold together, as counted against
    /// [`Config::log_budget`]: per record, its JSON size and token plus a fixed
    /// overhead.
    pub fn log_bytes(&self) -> usize {
        self.inner.logs.bytes()
    }

    /// Open `/events` streams and channels held, as `GET /stats` answers.
    pub fn stats(&self) -> stats::Stats {
        self.inner.channels.stats()
    }

    /// Resolves once `done` holds for [`AppState::stats`], checking again after every
    /// stream opened or closed and every channel made or freed. Lets tests await a
    /// state instead of sleeping.
    pub async fn wait_for_stats(&self, done: impl Fn(&stats::Stats) -> bool) {
        self.inner.channels.wait_for_stats(done).await;
    }

    /// The records of `token`'s request log, as `GET /scenario/log/{token}` answers
    /// them, all of them (the route answers at most 8 MiB at once).
    pub fn request_log(&self, token: &str) -> Vec<serde_json::Value> {
        self.inner.logs.get(token)
    }

    /// Resolves once `done` holds for the records of `token`'s request log, checking
    /// again after every change to any log (a new record, a status, a closed
    /// response). Lets tests await a state instead of sleeping.
    pub async fn wait_for_request_log(
        &self,
        token: &str,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) {
        self.inner.logs.wait_for(token, done).await;
    }
}

/// Bytes each buffered event counts against [`Config::channel_budget`] on top of its
/// type, id and data: the `Arc`, the strings' headers, the queue and index entries.
pub const EVENT_BUDGET_OVERHEAD: usize = 128;

/// Bytes each request record counts against [`Config::log_budget`] on top of its JSON
/// size and its token: the headers of its shared text and of its status and open
/// flags, its queue entry (up to twice its size while the queue grows) and its index
/// entry.
pub const LOG_RECORD_BUDGET_OVERHEAD: usize = 192;

/// Largest accepted `/publish` body.
pub const PUBLISH_BODY_LIMIT: usize = 64 * 1024;

/// The JSON 404 for a method other than GET or HEAD on a path no route has.
async fn no_route(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    error::ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route for {} {}; the routes that take POST are /publish, /control/drop, \
             /control/fail and /scenario/... (see the README's test server section)",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

/// The JSON 404 for a GET or HEAD of a path that is neither a route nor a file (the
/// files' own answer, an empty 404, did not say what was wrong: `/event?channel=x`).
async fn no_file(
    method: Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> error::ApiError {
    error::ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route or file for {method} {}; the routes that take GET are /events, \
             /health, /stats, /examples.json and /scenario/... (see the README's test \
             server section)",
            uri.path()
        ),
    )
}

/// The JSON 405 for a route asked with a method it does not take (axum adds `Allow`).
pub(crate) async fn wrong_method(
    method: Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> error::ApiError {
    error::ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method}; the Allow header says what it takes",
            uri.path()
        ),
    )
}

/// Builds the router: every route, static files, CORS for loopback origins, all behind
/// the loopback `Host` check, and the cross-site check on the routes that change state.
/// Starts nothing: see [`AppState::spawn_ticker`].
pub fn app(state: AppState) -> Router {
    let www = ServeDir::new(&state.config().www_dir).not_found_service(no_file.into_service());
    let pkg = ServeDir::new(&state.config().pkg_dir);
    let examples = ServeDir::new(&state.config().examples_dir);
    // The routes that change state, behind the cross-site check (the scenarios have
    // it too: see `scenario::router`).
    let guarded = Router::new()
        .route("/events", get(events::events))
        .route(
            "/publish",
            post(publish::publish).layer(DefaultBodyLimit::max(PUBLISH_BODY_LIMIT)),
        )
        .route("/control/drop", post(control::drop_streams))
        .route("/control/fail", post(control::fail))
        .route_layer(middleware::from_fn(origin::check_origin));
    Router::new()
        .merge(guarded)
        .route("/health", get(health::health))
        .route("/examples.json", get(examples::examples))
        .route("/stats", get(stats::stats))
        .method_not_allowed_fallback(wrong_method)
        .nest("/scenario", scenario::router(&state))
        .nest_service("/pkg", pkg)
        .nest_service("/examples", examples)
        // Static files for GET and HEAD (a path that is no file, a JSON 404: see
        // `no_file`); any other method on a path no route has gets a JSON 404 (the
        // files' own answer, an empty 405, hid a mistyped route).
        .fallback_service(
            Router::new()
                .fallback_service(www)
                .layer(middleware::from_fn(no_route)),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body::deadline,
        ))
        // Inside the CORS layer, so that a page reads the 503 over the cap.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit::limit_requests,
        ))
        .layer(cors::layer())
        .layer(middleware::from_fn(cors::refuse_preflight))
        .layer(middleware::from_fn(cors::strip_unallowed))
        .layer(middleware::from_fn(host::check_host))
        .with_state(state)
}
