//! The cap on requests answered at once ([`crate::Config::max_requests`]), so that
//! clients opening ever more streams cannot grow the server's tasks, buffers and
//! sockets without bound: over it, a request gets a 503 with a JSON error.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::AppState;

/// The permits of requests being answered: [`crate::Config::max_requests`] of them.
pub(crate) struct Requests {
    permits: Arc<Semaphore>,
    max: usize,
}

impl Requests {
    /// Room for `max` requests at once (one at least, as many as a semaphore holds at
    /// most: `Config` is built by hand too).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Middleware on the whole app: takes a permit for the request, or answers 503 when
/// [`crate::Config::max_requests`] are being answered. The permit is held until the
/// response body ends or is dropped, not only until the handler returns: an `/events`
/// stream lasts long after.
pub(crate) async fn limit_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let requests = state.requests();
    let Ok(permit) = Arc::clone(&requests.permits).try_acquire_owned() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server is answering {} requests at once, the most it takes \
                 (--max-requests), open streams included; close some streams or try again \
                 in a moment",
                requests.max
            ),
        )
        .into_response();
    };
    next.run(request).await.map(|inner| {
        Body::new(PermittedBody {
            _permit: permit,
            inner,
        })
    })
}

/// A response body that holds its request's permit until it is dropped.
struct PermittedBody {
    /// Held only for its `Drop`; first, so that it is given back before the body's
    /// own drop tells anyone the stream closed (the `/stats` count).
    _permit: OwnedSemaphorePermit,
    inner: Body,
}

impl HttpBody for PermittedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
