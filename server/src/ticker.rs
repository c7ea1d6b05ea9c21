//! The built-in publisher of the `ticker` channel.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::broker::NewEvent;
use crate::AppState;

/// Channel the ticker publishes to.
pub(crate) const CHANNEL: &str = "ticker";

/// Publishes `tick` events (through the broker: with Redis, each instance running a
/// ticker publishes its own ticks) with data `{"n":k,"time":<unix ms>}` (k = 1, 2, ...) every
/// `interval` until shutdown. Holds the channel all along, so it is never freed. Does
/// nothing if the channel cannot be created because every channel is in use.
pub(crate) async fn run(state: AppState, interval: Duration) {
    let Ok(channel) = state.channels().get_or_create(CHANNEL) else {
        return;
    };
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick of a Tokio interval completes at once; start one interval in.
    timer.tick().await;
    let shutdown = state.shutdown_signal();
    tokio::pin!(shutdown);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = timer.tick() => {}
        }
        n += 1;
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let data = serde_json::json!({ "n": n, "time": time }).to_string();
        let event = NewEvent {
            event: Some("tick".to_owned()),
            data,
            id: None,
            retry: None,
        };
        // With Redis unreachable this tick is skipped; the next one tries again.
        let _ = state
            .broker()
            .publish(channel.channel(), CHANNEL, event)
            .await;
    }
}
