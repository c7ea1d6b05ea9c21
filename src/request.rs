//! [`request`]: one request's answer, such as a language model's, as a stream.

use crate::core::state::{CloseReason, ConnectionState};
use crate::decode::{DecodeError, Message};
use crate::options::Options;
use crate::source::{EventSource, Subscription};
use crate::stream::{update, Queue, Shared};
use futures_core::stream::{FusedStream, Stream};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Sends one request in [request mode](Options::request) and streams its answer: every
/// event, whatever its type ([`Message::event_type`] says which), its data decoded
/// into `T`.
///
/// The stream ends (`None`) once the answer completes: the server ended the response,
/// or sent the done data (`[DONE]` by default, which is not yielded). When the answer
/// does not complete, the last item is a [`RequestError::Closed`] with the reason (an
/// HTTP error with the response body, an [`Interrupted`](CloseReason::Interrupted)
/// answer, the policy giving up). Data that does not decode is a
/// [`RequestError::Decode`], and the stream goes on. Dropping the stream aborts the
/// request.
///
/// The options are taken as they are, with [`Options::request`] applied: set the
/// method, headers and body. An invalid URL or options yield one
/// [`RequestError::Closed`] with [`CloseReason::InvalidRequest`].
///
/// Failures before the answer (a network error, 5xx, 408, 429) are retried as the
/// [reconnect policy](Options::reconnect_policy) says, and each retry **sends the
/// request again**. The default policy sets no limit, as for a feed: against a server
/// that keeps failing, the stream waits and sends again for as long as it lives. Bound
/// it (`ReconnectPolicy::new().max_attempts(2)`, as the OpenAI and Anthropic SDKs do),
/// or turn it off with `max_attempts(0)`.
///
/// ```no_run
/// use futures::StreamExt;
/// use serde::Deserialize;
/// use wasm_eventsource::{request, Options, RequestError};
///
/// #[derive(Deserialize)]
/// struct Chunk {
///     choices: Vec<Choice>,
/// }
/// #[derive(Deserialize)]
/// struct Choice {
///     delta: Delta,
/// }
/// #[derive(Deserialize)]
/// struct Delta {
///     content: Option<String>,
/// }
///
/// # async fn run() {
/// let options = Options::new()
///     .method("POST")
///     .header("Content-Type", "application/json")
///     .body(r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#);
/// let mut answer = request::<Chunk>("/v1/chat/completions", options);
/// let mut text = String::new();
/// while let Some(item) = answer.next().await {
///     match item {
///         Ok(msg) => {
///             for choice in msg.data.choices {
///                 text.push_str(choice.delta.content.as_deref().unwrap_or(""));
///             }
///         }
///         Err(RequestError::Decode(err)) => println!("skipped: {err}"),
///         Err(RequestError::Closed(reason)) => println!("no complete answer: {reason}"),
///         Err(other) => println!("{other}"),
///     }
/// }
/// # }
/// ```
pub fn request<T: DeserializeOwned + 'static>(url: &str, options: Options) -> RequestStream<T> {
    match EventSource::with_options(url, options.request()) {
        Ok(source) => RequestStream::open(source),
        Err(err) => RequestStream::failed(CloseReason::InvalidRequest {
            message: err.to_string(),
        }),
    }
}

/// What a [`RequestStream`] yields besides the events: one of these two, which a
/// `match` names without a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// An event whose data did not decode into the stream's type; the stream goes on.
    Decode(DecodeError),
    /// The answer did not complete, for this reason; the stream ends after it.
    Closed(CloseReason),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Decode(err) => err.fmt(f),
            RequestError::Closed(reason) => write!(f, "the answer did not complete: {reason}"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::Decode(err) => Some(err),
            RequestError::Closed(_) => None,
        }
    }
}

/// How many items a [`RequestStream`] queues for a consumer that does not poll; past
/// that the oldest go, counted by [`RequestStream::dropped`]. So do they past
/// [`REQUEST_STREAM_BYTES`].
pub const REQUEST_STREAM_CAPACITY: usize = 65_536;

/// How many bytes of events a [`RequestStream`] queues for a consumer that does not
/// poll (each event's data, type and the last event id it carries, which each item
/// holds a copy of), but the newest; past that the oldest go, counted by
/// [`RequestStream::dropped`]. A token's event in OpenAI's formats is about 250
/// bytes of data: [`REQUEST_STREAM_CAPACITY`] of them are a quarter of this.
pub const REQUEST_STREAM_BYTES: usize = 64 << 20;

/// One request's answer as a [`Stream`]: made by [`request`].
#[must_use = "streams do nothing unless polled; dropping one aborts the request"]
pub struct RequestStream<T> {
    shared: Shared<Result<Message<T>, RequestError>>,
    _events: Option<Subscription>,
    _state: Option<Subscription>,
    _source: Option<EventSource>,
}

impl<T: DeserializeOwned + 'static> RequestStream<T> {
    fn open(source: EventSource) -> Self {
        let queue = Queue::new(REQUEST_STREAM_CAPACITY).with_max_bytes(REQUEST_STREAM_BYTES);
        let shared = Rc::new(RefCell::new(queue));
        let events = {
            let shared = Rc::clone(&shared);
            source.on_any_raw_event(move |raw| {
                let bytes = raw.data().len() + raw.event_type().len() + raw.last_event_id().len();
                let item = raw.decode::<T>().map_err(RequestError::Decode);
                update(&shared, |q| q.push_weighed(item, bytes));
            })
        };
        let state = {
            let shared = Rc::clone(&shared);
            source.on_state(move |state| {
                if let ConnectionState::Closed { reason } = state {
                    update(&shared, |q| {
                        if q.ended {
                            return;
                        }
                        q.ended = true;
                        if *reason != CloseReason::Completed {
                            q.push(Err(RequestError::Closed(reason.clone())));
                        }
                    });
                }
            })
        };
        RequestStream {
            shared,
            _events: Some(events),
            _state: Some(state),
            _source: Some(source),
        }
    }

    fn failed(reason: CloseReason) -> Self {
        let mut queue = Queue::new(1);
        queue.push(Err(RequestError::Closed(reason)));
        queue.ended = true;
        RequestStream {
            shared: Rc::new(RefCell::new(queue)),
            _events: None,
            _state: None,
            _source: None,
        }
    }
}

impl<T> RequestStream<T> {
    /// How many items were dropped, oldest first, because more than
    /// [`REQUEST_STREAM_CAPACITY`] items, or [`REQUEST_STREAM_BYTES`] of them, waited
    /// for a consumer that did not poll.
    pub fn dropped(&self) -> u64 {
        self.shared.borrow().dropped
    }
}

impl<T> Stream for RequestStream<T> {
    type Item = Result<Message<T>, RequestError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.shared.borrow_mut().poll(cx)
    }
}

impl<T> FusedStream for RequestStream<T> {
    fn is_terminated(&self) -> bool {
        self.shared.borrow().is_terminated()
    }
}

impl<T> fmt::Debug for RequestStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = self.shared.borrow();
        f.debug_struct("RequestStream")
            .field("queued", &q.len())
            .field("dropped", &q.dropped)
            .field("ended", &q.ended)
            .finish()
    }
}
