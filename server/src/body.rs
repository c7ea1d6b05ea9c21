//! A response body that holds a value until the body ends or is dropped: what a
//! request's permit ([`crate::limit`]) and its log record ([`crate::scenario`]) need,
//! since a streaming response lasts long after its handler returned.

use std::pin::Pin;
use std::task::{Context, Poll};

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
