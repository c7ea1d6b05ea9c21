//! The in-memory broker: the replay buffers and broadcasts of `channels.rs`, in this
//! process only. Behaviour is exactly that of the server before brokers existed.

use std::sync::Arc;

use futures::future::{self, BoxFuture};
use futures::{stream, FutureExt, StreamExt};

use super::{Broker, Health, Live, NewEvent, Published, Subscription};
use crate::channels::Channel;
use crate::error::ApiError;

/// The embedded broker (the default).
pub(crate) struct MemoryBroker;

impl Broker for MemoryBroker {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn publish<'a>(
        &'a self,
        channel: &'a Arc<Channel>,
        _name: &'a str,
        event: NewEvent,
    ) -> BoxFuture<'a, Result<Published, ApiError>> {
        let (stored, receivers) = channel.publish(event.event, event.data, event.id);
        future::ready(Ok(Published {
            id: stored.id.clone(),
            receivers,
        }))
        .boxed()
    }

    fn subscribe<'a>(
        &'a self,
        channel: &'a Arc<Channel>,
        _name: &'a str,
        last_event_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Subscription, ApiError>> {
        let subscription = channel.subscribe(last_event_id);
        let live = stream::unfold(subscription.live, |mut rx| async move {
            // Lagged: end the stream, the client resumes by Last-Event-ID from the
            // buffer. Closed: the channel is gone.
            let event = rx.recv().await.ok()?;
            Some((Live::Event(event), rx))
        })
        .boxed();
        future::ready(Ok(Subscription {
            replay: subscription.replay,
            history_lost: subscription.history_lost,
            live,
            dropped: subscription.dropped,
        }))
        .boxed()
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        future::ready(Health {
            broker: self.kind(),
            error: None,
        })
        .boxed()
    }
}
