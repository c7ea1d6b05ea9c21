//! The test and demo server of `wasm-eventsource`.
//!
//! [`app`] builds the whole router so that the binary (`main.rs`) and the integration
//! tests serve exactly the same thing. Routes:
//!
//! - `GET /events?channel=NAME&retry=MS&keepalive_ms=MS&lastEventId=ID`: a live
//!   stream of a channel, with replay after `Last-Event-ID` (see [`events`]).
//! - `POST /publish` with `{"channel", "event"?, "data", "id"?}` (see [`publish`]).
//! - `POST /control/drop?channel=NAME`, `POST /control/fail?channel=NAME&count=N&status=S`
//!   (see [`control`]).
//! - `GET|POST /scenario/...`: deterministic behaviours for tests (see [`scenario`]).
//! - static files: `www/` at `/`, the built package at `/pkg/`.
//!
//! A channel is created by the first `/events`, `/publish` or `/control/fail` request
//! naming it; once the server holds 1000 channels, such a request naming a new one gets
//! a 503 with a JSON error.
//!
//! The `ticker` channel's publisher runs only once [`AppState::spawn_ticker`] is
//! called. Every SSE response ends when [`AppState::shutdown`] is called, so graceful
//! shutdown never waits on an open stream.
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;
use tower_http::services::ServeDir;

mod channels;
pub mod config;
pub mod control;
mod cors;
mod error;
pub mod events;
mod params;
pub mod publish;
pub mod scenario;
mod sse;
mod ticker;

pub use config::Config;

/// Shared server state: the channels, the scenario request logs, the configuration and
/// the shutdown signal. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    channels: channels::Channels,
    logs: scenario::RequestLogs,
    shutdown: watch::Sender<bool>,
}

impl AppState {
    /// Fresh state with no channels and no logs.
    pub fn new(config: Config) -> Self {
        let (shutdown, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                config,
                channels: channels::Channels::default(),
                logs: scenario::RequestLogs::default(),
                shutdown,
            }),
        }
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

    pub(crate) fn logs(&self) -> &scenario::RequestLogs {
        &self.inner.logs
    }
}

/// Largest accepted `/publish` body.
pub const PUBLISH_BODY_LIMIT: usize = 64 * 1024;

/// Builds the router: every route, static files, CORS for loopback origins. Starts
/// nothing: see [`AppState::spawn_ticker`].
pub fn app(state: AppState) -> Router {
    let www = ServeDir::new(&state.config().www_dir);
    let pkg = ServeDir::new(&state.config().pkg_dir);
    Router::new()
        .route("/events", get(events::events))
        .route(
            "/publish",
            post(publish::publish).layer(DefaultBodyLimit::max(PUBLISH_BODY_LIMIT)),
        )
        .route("/control/drop", post(control::drop_streams))
        .route("/control/fail", post(control::fail))
        .nest("/scenario", scenario::router())
        .nest_service("/pkg", pkg)
        .fallback_service(www)
        .layer(cors::layer())
        .with_state(state)
}
