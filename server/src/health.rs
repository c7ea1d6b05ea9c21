//! `GET /health`: whether the broker is reachable.
//!
//! Answers `200 {"broker": "memory", "reachable": true}` (or `"redis"`), or, when the
//! Redis broker does not answer a `PING` within two seconds, `503 {"broker": "redis",
//! "reachable": false, "error": "<why>"}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::AppState;

/// The `/health` handler.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let health = state.broker().health().await;
    let status = if health.error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health.to_json())).into_response()
}
