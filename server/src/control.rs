//! `/control`: fault switches for channels.
//!
//! - `POST /control/drop?channel=NAME` ends every live `/events` stream of the channel
//!   now (clients reconnect and resume with Last-Event-ID). Answers `{"dropped": n}`.
//! - `POST /control/fail?channel=NAME&count=N&status=S` makes the next `N` (default 1)
//!   connection attempts to `/events` on the channel get status `S` (default 503) with a
//!   JSON error body instead of a stream; `count=0` disarms. Answers `{"ok": true}`.
//!
//! `channel` defaults to `default` in both. `/control/fail` creates the channel if it
//! does not exist yet (as `/events` and `/publish` do): once the server holds 1000
//! channels, a new name gets a 503 with a JSON error.
//!
//! Both refuse requests from other sites with 403 and a JSON error (see the crate docs),
//! and a query parameter they do not take with 400 (a misspelt `channel` would act on
//! `default`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::params::Params;
use crate::AppState;

/// `POST /control/drop`. A channel that does not exist has no streams to drop; it is
/// not created.
pub(crate) async fn drop_streams(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&["channel"], "/control/drop")?;
    let name = params.channel()?;
    let dropped = state
        .channels()
        .find(name)
        .map_or(0, |channel| channel.drop_streams());
    Ok(Json(json!({ "dropped": dropped })))
}

/// `POST /control/fail`. Creates the channel if needed, so that it arms the first
/// connection too.
pub(crate) async fn fail(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&["channel", "count", "status"], "/control/fail")?;
    let name = params.channel()?;
    let count = params.int_in("count", 1, 0..=u32::MAX)?;
    let status = params.status("status", StatusCode::SERVICE_UNAVAILABLE)?;
    state
        .channels()
        .get_or_create(name)?
        .fail_next(count, status);
    Ok(Json(json!({ "ok": true })))
}
