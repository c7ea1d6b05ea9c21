//! The cap on requests answered at once ([`crate::Config::max_requests`]), so that
//! clients opening ever more streams cannot grow the server's tasks, buffers and
//! sockets without bound: over it, a request gets a 503 with a JSON error.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

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
    next.run(request)
        .await
        .map(|inner| crate::body::holding(inner, permit))
}
