//! `GET /events`: the live stream of a channel.
//!
//! Query parameters:
//!
//! - `channel=NAME`: the channel, default `default` (1 to 64 of `A-Z a-z 0-9 _ . -`).
//! - `retry=MS`: the `retry:` line sent first, default `1000`.
//! - `keepalive_ms=MS`: interval of `: keep-alive` comments, default 15000; `0`
//!   disables them.
//! - `lastEventId=ID`: used when there is no `Last-Event-ID` header.
//!
//! The stream is `retry: MS`, then the buffered events after the client's last event id
//! (none if the id is unknown), then live events, without gap or duplicate. Each event
//! is written as `event: TYPE` (unless it has the default type), `id: ID`,
//! `data: JSON`, blank line. The stream ends on `/control/drop`, at shutdown, and when
//! the reader falls so far behind that the broadcast drops events for it. The client
//! then resumes with its Last-Event-ID; that replay is loss-free only while the id is
//! still among the last 1000 events buffered for the channel.
//!
//! If `/control/fail` armed the channel, the request gets that status and a JSON error
//! instead of a stream. A new channel name once the server holds 1000 channels gets a
//! 503 with a JSON error.

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use futures::{stream, StreamExt};

use crate::error::ApiError;
use crate::params::{last_event_id, Params};
use crate::sse::live_response;
use crate::AppState;

/// Default `retry:` value in milliseconds.
pub const DEFAULT_RETRY_MS: u64 = 1000;

/// Default keep-alive interval in milliseconds.
pub const DEFAULT_KEEPALIVE_MS: u64 = 15_000;

/// The `/events` handler.
pub(crate) async fn events(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = params.channel()?;
    let retry = params.u64("retry")?.unwrap_or(DEFAULT_RETRY_MS);
    let keep_alive = params.u64("keepalive_ms")?.unwrap_or(DEFAULT_KEEPALIVE_MS);
    let channel = state.channels().get_or_create(name)?;

    if let Some((status, left)) = channel.take_failure() {
        let message = format!(
            "channel `{name}` was told by /control/fail to refuse this connection ({left} more to refuse); reconnect to get the stream"
        );
        return Ok(ApiError::new(status, message).into_response());
    }

    let last = last_event_id(&headers, &params);
    let subscription = channel.subscribe(last.as_deref());
    let live = stream::unfold(subscription.live, |mut rx| async move {
        // Lagged: end the stream, the client resumes by Last-Event-ID from the buffer.
        // Closed: the channel is gone.
        let event = rx.recv().await.ok()?;
        Some((event.to_sse(), rx))
    });
    let mut dropped = subscription.dropped;
    let retry_line = Event::default().retry(Duration::from_millis(retry));
    let body = stream::once(async move { retry_line })
        .chain(stream::iter(
            subscription.replay.into_iter().map(|e| e.to_sse()),
        ))
        .chain(live)
        .take_until(async move {
            let _ = dropped.changed().await;
        });
    let keep_alive = (keep_alive > 0).then(|| Duration::from_millis(keep_alive));
    Ok(live_response(&state, body, keep_alive))
}
