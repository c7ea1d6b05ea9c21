//! [`futures_core::Stream`] adapters over subscriptions.

use crate::decode::{DecodeError, Message};
use crate::source::{EventSource, Subscription};
use futures_core::stream::{FusedStream, Stream};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The events of one type as a stream; made by
/// [`EventSource::subscribe`](crate::EventSource::subscribe).
///
/// Yields each event, decoded, in order; ends with `None` after the source closes and
/// the events that arrived before the close are taken. Dropping the stream removes its
/// handlers (and closes the source if nothing else holds it).
///
/// The queue is bounded: it holds at most [`DEFAULT_STREAM_CAPACITY`] events (or the
/// capacity given to
/// [`EventSource::subscribe_with_capacity`](crate::EventSource::subscribe_with_capacity)).
/// A consumer that falls that far behind loses the oldest queued events, not memory:
/// [`dropped`](Self::dropped) counts them, so it can tell and, say, reload. The bound
/// is in events. On the fetch transport it is, in bytes, the capacity times twice
/// [`max_event_size`](crate::Options::max_event_size) (1 MiB by default): that caps an
/// event's data, type and id, and each message also owns the last event id it carries,
/// which an event without an `id:` of its own repeats from an earlier one. So lower one
/// of them for a feed of large events and a consumer that may stall; on native the
/// browser bounds no event's size, so only the capacity does.
///
/// ```no_run
/// use futures::StreamExt;
/// use wasm_eventsource::EventSource;
///
/// # async fn run() -> Result<(), wasm_eventsource::Error> {
/// let source = EventSource::new("/events?channel=ticker")?;
/// let mut ticks = source.subscribe::<serde_json::Value>("tick");
/// while let Some(tick) = ticks.next().await {
///     match tick {
///         Ok(msg) => println!("tick {}", msg.data["n"]),
///         Err(err) => println!("bad tick: {err}"),
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct EventStream<T> {
    shared: Shared<Result<Message<T>, DecodeError>>,
    _events: Subscription,
    _state: Subscription,
}

/// How many events an [`EventStream`] queues for a consumer that has not polled.
pub const DEFAULT_STREAM_CAPACITY: usize = 1024;

/// The queue between a stream adapter's handlers and its `poll_next`: at most
/// `capacity` items, and items of at most `max_bytes` bytes (as the pusher weighs
/// them) but the newest; past either the oldest go, counted in `dropped`. And whether
/// more can come. [`EventStream`] and [`RequestStream`](crate::RequestStream) share it.
pub(crate) struct Queue<I> {
    /// Each item with its weight.
    items: VecDeque<(I, usize)>,
    capacity: usize,
    bytes: usize,
    max_bytes: usize,
    pub(crate) dropped: u64,
    pub(crate) ended: bool,
    waker: Option<Waker>,
}

impl<I> Queue<I> {
    /// An open queue of at most `capacity` items (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        Queue {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            bytes: 0,
            max_bytes: usize::MAX,
            dropped: 0,
            ended: false,
            waker: None,
        }
    }

    /// The queue, holding items of at most `max_bytes` bytes but the newest (see
    /// [`push_weighed`](Self::push_weighed)).
    #[cfg(any(feature = "fetch", test))]
    pub(crate) fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Queues `item`, dropping the oldest when full.
    pub(crate) fn push(&mut self, item: I) {
        self.push_weighed(item, 0);
    }

    /// Queues `item`, which weighs `bytes`, dropping the oldest while more than the
    /// capacity or the bytes are held (the newest stays, whatever it weighs).
    pub(crate) fn push_weighed(&mut self, item: I, bytes: usize) {
        self.items.push_back((item, bytes));
        self.bytes = self.bytes.saturating_add(bytes);
        while self.items.len() > 1
            && (self.items.len() > self.capacity || self.bytes > self.max_bytes)
        {
            if let Some((_, weight)) = self.items.pop_front() {
                self.bytes -= weight;
                self.dropped = self.dropped.saturating_add(1);
            }
        }
    }

    /// `Stream::poll_next`: the oldest item, `None` once ended and empty.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<I>> {
        if let Some((item, weight)) = self.items.pop_front() {
            self.bytes -= weight;
            return Poll::Ready(Some(item));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// `FusedStream::is_terminated`.
    pub(crate) fn is_terminated(&self) -> bool {
        self.ended && self.items.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// A [`Queue`] as the handlers and the stream share it.
pub(crate) type Shared<I> = Rc<RefCell<Queue<I>>>;

/// Changes the queue, then wakes the reader after the borrow has ended.
pub(crate) fn update<I>(shared: &RefCell<Queue<I>>, f: impl FnOnce(&mut Queue<I>)) {
    let waker = {
        let mut q = shared.borrow_mut();
        f(&mut q);
        q.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl<T: DeserializeOwned + 'static> EventStream<T> {
    pub(crate) fn new(source: &EventSource, event_type: &str, capacity: usize) -> Self {
        let shared = Rc::new(RefCell::new(Queue::new(capacity)));
        let events = {
            let shared = Rc::clone(&shared);
            source.on::<T>(event_type, move |item| update(&shared, |q| q.push(item)))
        };
        let state = {
            let shared = Rc::clone(&shared);
            source.on_state(move |state| {
                if state.is_closed() {
                    update(&shared, |q| q.ended = true);
                }
            })
        };
        EventStream {
            shared,
            _events: events,
            _state: state,
        }
    }
}

impl<T> EventStream<T> {
    /// How many events were dropped, oldest first, because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.borrow().dropped
    }
}

impl<T> Stream for EventStream<T> {
    type Item = Result<Message<T>, DecodeError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.shared.borrow_mut().poll(cx)
    }
}

impl<T> FusedStream for EventStream<T> {
    fn is_terminated(&self) -> bool {
        self.shared.borrow().is_terminated()
    }
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = self.shared.borrow();
        f.debug_struct("EventStream")
            .field("queued", &q.len())
            .field("capacity", &q.capacity)
            .field("dropped", &q.dropped)
            .field("closed", &q.ended)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn drain<I>(queue: &mut Queue<I>) -> Vec<I> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(item)) = queue.poll(&mut cx) {
            out.push(item);
        }
        out
    }

    #[test]
    fn a_queue_drops_the_oldest_past_its_count_or_its_bytes() {
        let mut queue = Queue::new(3);
        for n in 0..5 {
            queue.push(n);
        }
        assert_eq!((drain(&mut queue), queue.dropped), (vec![2, 3, 4], 2));

        // What broke: a request's stream was bounded in items only, and each item
        // holds its own copy of the id it carries: tokens after a 1 MiB id cost a MiB
        // each, and 4,000 of them, queued, were all of wasm32's memory.
        let mut queue = Queue::new(100).with_max_bytes(10);
        for n in 0..5 {
            queue.push_weighed(n, 4);
        }
        assert_eq!((drain(&mut queue), queue.dropped), (vec![3, 4], 3));
        // What was taken weighs nothing any more, and the newest stays whatever it
        // weighs.
        queue.push_weighed(5, 6);
        queue.push_weighed(6, 4);
        queue.push_weighed(7, 50);
        assert_eq!((drain(&mut queue), queue.dropped), (vec![7], 5));
        queue.push_weighed(8, 10);
        assert_eq!(drain(&mut queue), vec![8]);
    }
}
