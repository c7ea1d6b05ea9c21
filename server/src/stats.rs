//! `GET /stats`: how many `/events` streams are open, on how many channels.
//!
//! Answers `200 {"connections": N, "channels": M, "perChannel": {"NAME": n, ...}}`:
//! `N` is the number of `/events` responses open now (all channels together), `M` the
//! number of channels the server holds (at most [`crate::MAX_CHANNELS`]; idle ones are
//! freed, see the crate docs), and `perChannel` the open responses of each channel that
//! has at least one (so at most [`crate::MAX_CHANNELS`] entries). A response counts
//! from the moment its headers are sent until its body ends or its client goes away.
//! With the Redis broker, the figures are this instance's. Read-only: it answers any
//! loopback request.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

pub use crate::channels::Stats;
use crate::AppState;

/// The `/stats` handler.
pub(crate) async fn stats(State(state): State<AppState>) -> Json<Value> {
    Json(state.stats().to_json())
}
