//! A response body that holds a value until the body ends or is dropped: what a
//! request's permit ([`crate::limit`]) and its log record ([`crate::scenario`]) need,
//! since a streaming response lasts long after its handler returned; and a request
//! body's deadline ([`deadline`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};

/// `inner`, holding `guard` until it is dropped. The guard goes first: a permit is
/// given back before the body's own drop tells anyone the stream closed (the `/stats`
/// count).
pub(crate) fn holding<G: Send + Unpin + 'static>(inner: Body, guard: G) -> Body {
    Body::new(Holding {
        _guard: guard,
        inner,
    })
}

struct Holding<G> {
    /// Held only for its `Drop`; first, so that it drops first.
    _guard: G,
    inner: Body,
}

impl<G: Unpin> HttpBody for Holding<G> {
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

/// What a request body that was still arriving at its deadline ends with (see
/// [`deadline`]): `/publish` answers it with a 408.
#[derive(Debug)]
pub(crate) struct Late(Duration);

impl std::fmt::Display for Late {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms of its head; send it whole, at once",
            self.0.as_millis()
        )
    }
}

impl std::error::Error for Late {}

/// The [`Late`] in `error`'s chain of sources, if there is one: a request body that
/// did not arrive in time, whatever read it.
pub(crate) fn late<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Late> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<Late>() {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// Middleware: a request's body must arrive within [`crate::Config::header_timeout`] of
/// its head, or it ends with [`Late`]. Without it a client that sent a head and then a
/// body slowly, or not at all, held a request's place and a connection for good (hyper's
/// own deadline covers the head only). Bodiless requests (every stream's) are not
/// touched.
pub(crate) async fn deadline(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let within = state.config().header_timeout;
    let request = request.map(|inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(within)),
            within,
        })
    });
    next.run(request).await
}

struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    within: Duration,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(Late(this.within))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
