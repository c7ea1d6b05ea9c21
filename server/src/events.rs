//! `GET /events`: the live stream of a channel.
//!
//! Query parameters:
//!
//! - `channel=NAME`: the channel, default `default` (1 to 64 of `A-Z a-z 0-9 _ . -`).
//! - `retry=MS`: the `retry:` line sent first, default `1000`, at least
//!   [`MIN_RETRY_MS`] (smaller values are raised to it).
//! - `keepalive_ms=MS`: interval of `: keep-alive` comments, default 15000, at least
//!   [`MIN_KEEPALIVE_MS`] (smaller values are raised to it); `0` disables them.
//! - `lastEventId=ID`: used when there is no `Last-Event-ID` header.
//!
//! The stream is `retry: MS`, then the buffered events after the client's last event id,
//! then live events, without gap or duplicate. Each event is written as `event: TYPE`
//! (unless it has the default type), `id: ID`, `data: JSON`, blank line. The stream ends
//! on `/control/drop`, at shutdown, and when the reader falls so far behind that events
//! go before they were sent to it: events the byte budget (or a channel's cap of 1000)
//! evicts first (the replay and the live events are read from the buffer as the
//! stream is written, never copied). The client then resumes with its
//! Last-Event-ID; that replay is loss-free while the id is still buffered for the
//! channel (at most the last 1000 events of a channel, fewer when the byte budget of
//! all channels evicted them: see [`crate::Config::channel_budget`]), and starts with
//! the `reset` event below otherwise.
//!
//! # The `reset` event
//!
//! When the client sends a Last-Event-ID that the channel does not hold (it was
//! evicted, or the server never saw it: after a restart, an id the new run has not
//! reached, since in memory a channel numbers from 1 again), the events after it are
//! lost. The stream then says so before replaying every event it does hold:
//!
//! ```text
//! event: reset
//! data: {"reason":"history lost","lastEventId":"<the id the client sent>","oldest":"<oldest id held>"}
//! ```
//!
//! `oldest` is `null` when the channel holds no events. The `reset` event has no `id:`,
//! so it does not change the client's last event id; a client that needs every event
//! reloads its state. A Last-Event-ID equal to the newest id held, or any id held,
//! replays the events after it with no `reset`.
//!
//! A request from another site gets 403 with a JSON error (see the crate docs).
//!
//! If `/control/fail` armed the channel, the request gets that status and a JSON error
//! instead of a stream. A new channel name once the server holds 1000 channels gets a
//! 503 with a JSON error.
//!
//! # With the Redis broker
//!
//! Ids are Redis stream ids (`1700000000000-0`), the same on every instance, and the
//! replay comes from the channel's stream, so a client can resume on any instance. A
//! new stream while Redis is unreachable gets a 503 with a JSON error; an open stream
//! gets the comment `: broker unavailable, retrying`, stays open, and goes on (after
//! `: broker available`) once Redis answers again. The replay is read from Redis a page
//! at a time as the stream is written; a stream whose next entries Redis trimmed
//! before it sent them ends, as one that lags. See [`crate::broker::redis`].

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use futures::{future, stream, StreamExt};

use crate::broker::Live;
use crate::error::ApiError;
use crate::params::{last_event_id, Params};
use crate::sse::live_response;
use crate::AppState;

/// Default `retry:` value in milliseconds.
pub const DEFAULT_RETRY_MS: u64 = 1000;

/// Default keep-alive interval in milliseconds.
pub const DEFAULT_KEEPALIVE_MS: u64 = 15_000;

/// Smallest keep-alive interval in milliseconds (other than 0, which disables them), so
/// that a request cannot make the server spin.
pub const MIN_KEEPALIVE_MS: u64 = 100;

/// Smallest `retry:` value in milliseconds sent on `/events`.
pub const MIN_RETRY_MS: u64 = 10;

/// The `retry:` value for the `retry` query parameter: the default when absent, at
/// least [`MIN_RETRY_MS`].
fn retry_ms(asked: Option<u64>) -> u64 {
    asked.unwrap_or(DEFAULT_RETRY_MS).max(MIN_RETRY_MS)
}

/// The keep-alive interval for the `keepalive_ms` query parameter: the default when
/// absent, none for 0, at least [`MIN_KEEPALIVE_MS`] otherwise.
fn keep_alive_interval(asked: Option<u64>) -> Option<Duration> {
    match asked.unwrap_or(DEFAULT_KEEPALIVE_MS) {
        0 => None,
        ms => Some(Duration::from_millis(ms.max(MIN_KEEPALIVE_MS))),
    }
}

/// The data of the `reset` event (see the module docs).
pub(crate) fn reset_data(last_event_id: &str, oldest: Option<&str>) -> String {
    format!(
        r#"{{"reason":"history lost","lastEventId":{},"oldest":{}}}"#,
        serde_json::Value::from(last_event_id),
        oldest.map_or(serde_json::Value::Null, serde_json::Value::from)
    )
}

/// The `/events` handler.
pub(crate) async fn events(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = params.channel()?;
    let retry = retry_ms(params.u64("retry")?);
    let keep_alive = keep_alive_interval(params.u64("keepalive_ms")?);
    let mut channel = state.channels().get_or_create(name)?;

    if let Some((status, left)) = channel.take_failure() {
        let message = if left == 0 {
            format!(
                "channel `{name}` was told by /control/fail to refuse this connection, its last refusal; reconnect to get the stream"
            )
        } else {
            format!(
                "channel `{name}` was told by /control/fail to refuse this connection and the next {left}; \
                 POST /control/fail?channel={name}&count=0 to stop refusing"
            )
        };
        return Ok(ApiError::new(status, message).into_response());
    }

    // An empty id is no id: the client has seen nothing with one (no history of its
    // was lost, so no `reset`).
    let last = last_event_id(&headers, &params).filter(|id| !id.is_empty());
    let subscription = state
        .broker()
        .subscribe(channel.channel(), name, last.as_deref())
        .await?;
    // The response holds the channel (in use, counted in `/stats`) until it is dropped.
    channel.open_stream();
    let events = subscription
        .events
        .take_while(|item| future::ready(!matches!(item, Live::Resume)))
        .map(|item| match item {
            Live::Event(event) => event.to_sse(),
            Live::Comment(text) => Event::default().comment(text),
            // Ended by `take_while` above.
            Live::Resume => Event::default(),
        });
    let mut dropped = subscription.dropped;
    let retry_line = Event::default().retry(Duration::from_millis(retry));
    let reset = match (&subscription.history_lost, &last) {
        (Some(oldest), Some(last)) => Some(
            Event::default()
                .event("reset")
                .data(reset_data(last, oldest.as_deref())),
        ),
        _ => None,
    };
    let body = stream::iter(std::iter::once(retry_line).chain(reset))
        .chain(events)
        .take_until(async move {
            let _ = dropped.changed().await;
        })
        .map(move |event| {
            let _held = &channel;
            event
        });
    Ok(live_response(&state, body, keep_alive))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: `keepalive_ms=1` made the server write a comment every millisecond.
    #[test]
    fn intervals_have_floors() {
        assert_eq!(
            keep_alive_interval(Some(1)),
            Some(Duration::from_millis(100))
        );
        assert_eq!(keep_alive_interval(Some(0)), None);
        assert_eq!(keep_alive_interval(None), Some(Duration::from_secs(15)));
        assert_eq!(
            keep_alive_interval(Some(250)),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_ms(Some(0)), MIN_RETRY_MS);
        assert_eq!(retry_ms(None), DEFAULT_RETRY_MS);
        assert_eq!(retry_ms(Some(20)), 20);
    }

    #[test]
    fn reset_data_is_json() {
        assert_eq!(
            reset_data("a\"b", None),
            r#"{"reason":"history lost","lastEventId":"a\"b","oldest":null}"#
        );
        assert_eq!(
            reset_data("1", Some("3")),
            r#"{"reason":"history lost","lastEventId":"1","oldest":"3"}"#
        );
    }
}
