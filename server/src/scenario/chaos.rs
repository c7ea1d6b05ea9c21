//! `/scenario/chaos` and `/scenario/stall-headers`: scenarios whose behaviour depends on
//! how many times a token has connected, and the counters that remember it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::stream;

use super::bytes::{push_decimal, retry_bytes};
use super::record::ScenarioRequest;
use crate::error::ApiError;
use crate::params::last_seen_number;
use crate::sse::{events_response, raw_response, Ending};
use crate::AppState;

/// Target size of the chunks chaos writes.
const CHUNK: usize = 64 * 1024;
/// Most `(scenario, token)` counters kept; the oldest is forgotten beyond this.
const MAX_COUNTERS: usize = 10_000;
/// Most bytes of token text the counters keep together; the oldest are forgotten
/// beyond this.
const COUNTER_KEY_BUDGET: usize = 1024 * 1024;
/// Largest `total`, `min`, `max`, `count` and `after`.
const MAX_EVENTS: u64 = 1_000_000;

/// How many times each token has connected to each counting scenario.
#[derive(Default)]
pub(crate) struct ConnectCounters {
    inner: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    counts: HashMap<String, u64>,
    /// Keys in insertion order, for forgetting the oldest.
    order: VecDeque<String>,
    key_bytes: usize,
}

impl ConnectCounters {
    /// How many times `token` connected to `scenario` before (0 the first time), and
    /// counts this connect.
    pub(crate) fn next(&self, scenario: &str, token: &str) -> u64 {
        let key = format!("{scenario}\n{token}");
        let mut counters = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counters.counts.get_mut(&key) {
            let before = *count;
            *count += 1;
            return before;
        }
        counters.key_bytes += key.len();
        counters.order.push_back(key.clone());
        counters.counts.insert(key, 1);
        while counters.counts.len() > MAX_COUNTERS || counters.key_bytes > COUNTER_KEY_BUDGET {
            let Some(oldest) = counters.order.pop_front() else {
                break;
            };
            counters.key_bytes -= oldest.len();
            counters.counts.remove(&oldest);
        }
        0
    }
}

/// SplitMix64: a small, fast, deterministic generator (not for secrets).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// A generator seeded from several numbers.
    pub(crate) fn from_parts(parts: &[u64]) -> Self {
        let mut rng = Self(0);
        for part in parts {
            rng.0 ^= *part;
            rng.next_u64();
        }
        rng
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when `high < low`).
    fn between(&mut self, low: u64, high: u64) -> u64 {
        match high.checked_sub(low).and_then(|span| span.checked_add(1)) {
            Some(len) => low + self.next_u64() % len,
            None if high >= low => self.next_u64(),
            None => low,
        }
    }

    /// True or false, evenly.
    fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        // 53 random bits are exactly representable in an f64.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// FNV-1a of `text`, to seed from a token.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What one chaos connect gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A 502 or 503 with a JSON error instead of a stream.
    Refuse(StatusCode),
    /// Events `first..=last`, then `ending`.
    Stream {
        /// The first event sent.
        first: u64,
        /// The last whole event sent (`first - 1` when none).
        last: u64,
        /// What follows the last whole event.
        ending: Cut,
    },
}

/// How a chaos stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Event `total` was sent: idle until shutdown.
    Idle,
    /// The response ends between two events.
    Between,
    /// The response ends after this many bytes of the next event.
    Inside(usize),
}

/// The chaos parameters of one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chaos {
    pub(crate) total: u64,
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) fail: f64,
}

impl Chaos {
    /// Decides one connect resuming after event `seen`.
    pub(crate) fn plan(&self, rng: &mut SplitMix, seen: u64) -> Outcome {
        if rng.unit() < self.fail {
            let status = if rng.coin() {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            return Outcome::Refuse(status);
        }
        if seen >= self.total {
            // Nothing is left to send: an empty range, idle. (`seen + 1` saturates at
            // u64::MAX, which made a range of one event whose successor overflowed.)
            return Outcome::Stream {
                first: 1,
                last: 0,
                ending: Cut::Idle,
            };
        }
        let first = seen + 1;
        let count = rng.between(self.min, self.max);
        let last = seen.saturating_add(count).min(self.total).max(seen);
        let ending = if last >= self.total {
            Cut::Idle
        } else if rng.coin() {
            Cut::Between
        } else {
            let len = numbered_event(last + 1).len() as u64;
            // At least one byte and never the whole event.
            Cut::Inside(usize::try_from(rng.between(1, len - 1)).unwrap_or(1))
        };
        Outcome::Stream {
            first,
            last,
            ending,
        }
    }
}

/// `id: n` / `data: {"n":n}` and a blank line.
fn numbered_event(n: u64) -> Vec<u8> {
    let mut buf = Vec::with_capacity(48);
    push_numbered_event(&mut buf, n);
    buf
}

fn push_numbered_event(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(b"id: ");
    push_decimal(buf, n);
    buf.extend_from_slice(b"\ndata: {\"n\":");
    push_decimal(buf, n);
    buf.extend_from_slice(b"}\n\n");
}

/// `/scenario/chaos`: see the route table in the module docs of [`super`].
pub(crate) async fn chaos(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let total = req.params.int_in("total", 10_000, 0..=MAX_EVENTS)?;
    let min = req.params.int_in("min", 20, 1..=MAX_EVENTS)?;
    let max = req.params.int_in("max", min.max(300), min..=MAX_EVENTS)?;
    let fail = req.params.fraction("fail", 0.2)?;
    let seed = req.params.u64("seed")?.unwrap_or(1);
    let mut head = retry_bytes(&req, "\n")?;
    let seen = last_seen_number(req.last_event_id.as_deref());
    let token = req.params.get("token");
    // A token's outcomes depend on its connect count alone; without one, every
    // untokened connect counts on one shared counter, so a refused connect is not
    // refused again forever.
    let connect = state.counters().next("chaos", token.unwrap_or(""));
    let mut rng = match token {
        Some(token) => SplitMix::from_parts(&[seed, hash(token), connect]),
        None => SplitMix::from_parts(&[seed, seen, connect]),
    };
    let plan = Chaos {
        total,
        min,
        max,
        fail,
    }
    .plan(&mut rng, seen);
    let (first, last, cut) = match plan {
        Outcome::Refuse(status) => {
            return Ok(ApiError::new(
                status,
                format!(
                    "chaos refused connect {} with {} on purpose; reconnect to resume after event {seen}",
                    connect + 1,
                    status.as_u16()
                ),
            )
            .into_response())
        }
        Outcome::Stream {
            first,
            last,
            ending,
        } => (first, last, ending),
    };
    let mut next = first;
    let mut cut_left = Some(cut);
    let chunks = std::iter::from_fn(move || {
        let mut buf = std::mem::take(&mut head);
        buf.reserve(CHUNK + 64);
        while next <= last && buf.len() < CHUNK {
            push_numbered_event(&mut buf, next);
            next += 1;
        }
        if next > last {
            if let Some(Cut::Inside(len)) = cut_left.take() {
                buf.extend(numbered_event(last + 1).into_iter().take(len));
            }
        }
        (!buf.is_empty()).then(|| Bytes::from(buf))
    });
    let ending = if cut == Cut::Idle {
        Ending::Idle
    } else {
        Ending::Close
    };
    Ok(raw_response(&state, stream::iter(chunks), ending))
}

/// `/scenario/stall-headers`: see the route table in the module docs of [`super`].
pub(crate) async fn stall_headers(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let count = req.params.int_in("count", 1, 0..=MAX_EVENTS)?;
    let after = req.params.int_in("after", 1, 0..=MAX_EVENTS)?;
    let stalls = match req.params.get("token") {
        None => true,
        Some(token) => state.counters().next("stall-headers", token) < count,
    };
    if stalls {
        // Not kept while held: its body may be a megabyte, and held requests add up.
        drop(req);
        state.shutdown_signal().await;
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down; this request was held without an answer until now",
        ));
    }
    let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
    let events = super::with_retry(&req, super::numbered(first..=after, None))?;
    Ok(events_response(&state, events, Ending::Idle))
}

#[cfg(test)]
mod tests {
    use super::*;

    // What broke (a review): a held request kept its whole request, body included (up
    // to 1 MiB), for as long as it was held, until server shutdown.
    #[test]
    fn a_held_request_keeps_no_body() {
        use std::future::Future;
        let state = AppState::new(crate::Config {
            ticker: None,
            ..crate::Config::default()
        });
        let before = crate::testing::heap::live();
        let req = ScenarioRequest {
            method: axum::http::Method::POST,
            path: "/scenario/stall-headers".to_owned(),
            path_and_query: "/scenario/stall-headers".to_owned(),
            params: crate::params::Params::default(),
            headers: serde_json::Map::new(),
            last_event_id: None,
            last_event_id_header: None,
            body: "x".repeat(1024 * 1024),
        };
        let mut held = Box::pin(stall_headers(State(state.clone()), req));
        let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
        assert!(held.as_mut().poll(&mut cx).is_pending(), "held");
        let kept = crate::testing::heap::live() - before;
        assert!(kept < 64 * 1024, "{kept} bytes kept by a held request");
        state.shutdown();
        assert!(
            held.as_mut().poll(&mut cx).is_ready(),
            "answered at shutdown"
        );
    }

    #[test]
    fn counters_count_per_scenario_and_token_and_forget_the_oldest() {
        let counters = ConnectCounters::default();
        assert_eq!(counters.next("chaos", "a"), 0);
        assert_eq!(counters.next("chaos", "a"), 1);
        assert_eq!(counters.next("stall-headers", "a"), 0);
        for n in 0..MAX_COUNTERS {
            counters.next("chaos", &n.to_string());
        }
        // "a" was among the oldest and is forgotten.
        assert_eq!(counters.next("chaos", "a"), 0);
        let inner = counters.inner.lock().expect("lock");
        assert!(inner.counts.len() <= MAX_COUNTERS);
        assert_eq!(inner.order.len(), inner.counts.len());
    }

    #[test]
    fn plans_are_reproducible_and_within_bounds() {
        let chaos = Chaos {
            total: 1000,
            min: 5,
            max: 9,
            fail: 0.3,
        };
        let plans = |seed| {
            let mut rng = SplitMix::from_parts(&[seed, hash("t")]);
            (0..200)
                .map(|_| chaos.plan(&mut rng, 10))
                .collect::<Vec<_>>()
        };
        assert_eq!(plans(1), plans(1));
        assert_ne!(plans(1), plans(2));
        let all = plans(1);
        let refused = all
            .iter()
            .filter(|p| matches!(p, Outcome::Refuse(_)))
            .count();
        assert!((30..=90).contains(&refused), "{refused} of 200 refused");
        let mut inside = 0;
        for plan in &all {
            match *plan {
                Outcome::Refuse(status) => assert!(status == 502 || status == 503),
                Outcome::Stream {
                    first,
                    last,
                    ending,
                } => {
                    assert_eq!(first, 11);
                    assert!((15..=19).contains(&last), "{last}");
                    if let Cut::Inside(len) = ending {
                        inside += 1;
                        assert!(len >= 1 && len < numbered_event(last + 1).len());
                    }
                }
            }
        }
        assert!(inside > 20, "{inside} cuts inside an event");
    }

    #[test]
    fn the_end_is_idle_and_never_cut() {
        let chaos = Chaos {
            total: 12,
            min: 5,
            max: 9,
            fail: 0.0,
        };
        let mut rng = SplitMix::from_parts(&[1]);
        for _ in 0..50 {
            match chaos.plan(&mut rng, 10) {
                Outcome::Stream { last, ending, .. } => {
                    assert_eq!((last, ending), (12, Cut::Idle));
                }
                other => panic!("{other:?}"),
            }
        }
        // Past the end, up to the largest id: nothing (an empty range), idle.
        for seen in [12, 13, u64::MAX] {
            match chaos.plan(&mut rng, seen) {
                Outcome::Stream {
                    first,
                    last,
                    ending,
                } => assert!(first > last && ending == Cut::Idle, "{seen}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
