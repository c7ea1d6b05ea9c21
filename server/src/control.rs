//! `/control`: fault switches for channels.
//!
//! - `POST /control/drop?channel=NAME` ends every live `/events` stream of the channel
//!   now (clients reconnect and resume with Last-Event-ID). Answers `{"dropped": n}`.
//! - `POST /control/fail?channel=NAME&count=N&status=S` makes the next `N` (default 1)
//!   connection attempts to `/events` on the channel get status `S` (default 503) with a
//!   JSON error body instead of a stream; `count=0` disarms. Answers `{"ok": true}`.
//!
//! `channel` defaults to `default` in both.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::channels::validate_channel_name;
use crate::error::ApiError;
use crate::params::Params;
use crate::AppState;

fn channel_param(params: &Params) -> Result<&str, ApiError> {
    let name = params.get("channel").unwrap_or("default");
    validate_channel_name(name).map_err(ApiError::bad_request)?;
    Ok(name)
}

/// `POST /control/drop`.
pub(crate) async fn drop_streams(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let name = channel_param(&params)?;
    let dropped = state.channels().get(name).drop_streams();
    Ok(Json(json!({ "dropped": dropped })))
}

/// `POST /control/fail`.
pub(crate) async fn fail(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let name = channel_param(&params)?;
    let count = params.u64_in("count", 1, 0, u64::from(u32::MAX))?;
    let status = params.u64_in("status", 503, 200, 599)?;
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            ApiError::bad_request("query parameter `status` must be an http status from 200 to 599")
        })?;
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    state.channels().get(name).fail_next(count, status);
    Ok(Json(json!({ "ok": true })))
}
