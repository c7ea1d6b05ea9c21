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
//! Every SSE response ends when [`AppState::shutdown`] is called, so graceful shutdown
//! never waits on an open stream.
#![warn(missing_docs)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
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
    ticker_started: AtomicBool,
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
                ticker_started: AtomicBool::new(false),
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

    /// Whether [`AppState::shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
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

/// Builds the router: every route, static files, CORS for loopback origins.
///
/// When called inside a Tokio runtime this also starts the `ticker` channel's publisher
/// (once per state, and only if [`Config::ticker`] is set); it stops at shutdown.
pub fn app(state: AppState) -> Router {
    if let Some(interval) = state.config().ticker {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            if !state.inner.ticker_started.swap(true, Ordering::SeqCst) {
                runtime.spawn(ticker::run(state.clone(), interval));
            }
        }
    }
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
