//! Building SSE responses: through axum's [`Sse`] for ordinary events, or from raw byte
//! chunks for scenarios that need exact bytes on the wire. Both end at shutdown.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{future, stream, Stream, StreamExt};

use crate::AppState;

/// What a stream does after its last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// End the response body.
    Close,
    /// Keep the response open and silent (no bytes, no keep-alive) until shutdown.
    Idle,
    /// Stay silent this long, then end the response body.
    CloseAfter(Duration),
}

/// A stream that yields nothing and either ends at once or never ends.
pub(crate) fn tail<T: Send>(ending: Ending) -> impl Stream<Item = T> + Send {
    stream::once(async move {
        match ending {
            Ending::Close => {}
            Ending::Idle => future::pending::<()>().await,
            Ending::CloseAfter(after) => tokio::time::sleep(after).await,
        }
    })
    .filter_map(|()| future::ready(None))
}

/// An event with an optional type (`None` is the default `message`), an id and data,
/// written `event:` (if any), `id:`, `data:`.
pub(crate) fn event(kind: Option<&str>, id: &str, data: &str) -> Event {
    let mut event = Event::default();
    if let Some(kind) = kind {
        event = event.event(kind);
    }
    event.id(id).data(data)
}

/// The body of every response built here: `stream` cut off at shutdown.
fn until_shutdown<S>(
    state: &AppState,
    stream: S,
) -> impl Stream<Item = Result<S::Item, Infallible>> + Send + 'static
where
    S: Stream + Send + 'static,
{
    stream
        .map(Ok::<_, Infallible>)
        .take_until(state.shutdown_signal())
}

/// An SSE response of `events` (produced lazily, so a huge count costs no memory),
/// then `ending`, cut off at shutdown. No keep-alive.
pub(crate) fn events_response<I>(state: &AppState, events: I, ending: Ending) -> Response
where
    I: IntoIterator<Item = Event>,
    I::IntoIter: Send + 'static,
{
    live_response(state, stream::iter(events).chain(tail(ending)), None)
}

/// An SSE response of `stream`, cut off at shutdown, with keep-alive comments
/// `: keep-alive` every `keep_alive` (none when `None`).
pub(crate) fn live_response<S>(
    state: &AppState,
    stream: S,
    keep_alive: Option<Duration>,
) -> Response
where
    S: Stream<Item = Event> + Send + 'static,
{
    let sse = Sse::new(until_shutdown(state, stream));
    match keep_alive {
        Some(interval) => sse
            .keep_alive(KeepAlive::new().interval(interval).text("keep-alive"))
            .into_response(),
        None => sse.into_response(),
    }
}

/// A `text/event-stream` response written chunk by chunk exactly as given, then
/// `ending`, cut off at shutdown.
pub(crate) fn raw_response<S>(state: &AppState, chunks: S, ending: Ending) -> Response
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    raw_response_with_type(
        state,
        chunks,
        ending,
        HeaderValue::from_static("text/event-stream"),
    )
}

/// Like [`raw_response`] with another `Content-Type`.
pub(crate) fn raw_response_with_type<S>(
    state: &AppState,
    chunks: S,
    ending: Ending,
    content_type: HeaderValue,
) -> Response
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(until_shutdown(state, chunks.chain(tail(ending)))),
    )
        .into_response()
}
