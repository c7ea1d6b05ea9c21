//! Helpers shared by the browser test files.
#![allow(dead_code)]

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::future::{select, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use serde::Deserialize;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_eventsource::{ConnectionState, EventSource, Options, Subscription};

pub const SERVER: &str = match option_env!("SSE_TEST_SERVER") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

pub fn url(path: &str) -> String {
    format!("{SERVER}{path}")
}

/// Counts live heap bytes, to prove open/close cycles free what they allocate.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
/// The most live bytes since [`reset_peak`].
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// Starts measuring the peak of live bytes from now: returns the live bytes now.
pub fn reset_peak() -> isize {
    let live = live_bytes();
    PEAK.store(live, Ordering::Relaxed);
    live
}

/// The most live bytes since [`reset_peak`].
pub fn peak_bytes() -> isize {
    PEAK.load(Ordering::Relaxed)
}

pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// The bytes allocated so far, freed or not (a realloc counts what it grew by).
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        PEAK.fetch_max(live + layout.size() as isize, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let grown = new_size as isize - layout.size() as isize;
        let live = LIVE.fetch_add(grown, Ordering::Relaxed);
        PEAK.fetch_max(live + grown, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

pub fn memory_bytes() -> u32 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct N {
    pub n: u32,
}

/// Waits for the next value, failing the test with `what` after 5 s.
pub async fn next<T>(rx: &mut UnboundedReceiver<T>, what: &str) -> T {
    match select(rx.next(), TimeoutFuture::new(5_000)).await {
        Either::Left((Some(value), _)) => value,
        Either::Left((None, _)) => panic!("channel closed while waiting for {what}"),
        Either::Right(_) => panic!("timed out waiting for {what}"),
    }
}

/// Every state change of `source`, starting with the current state.
pub fn states(source: &EventSource) -> (UnboundedReceiver<ConnectionState>, Subscription) {
    let (tx, rx) = unbounded();
    let sub = source.on_state(move |s| {
        let _ = tx.unbounded_send(s.clone());
    });
    (rx, sub)
}

/// Waits for the first state that `pred` accepts, returning it and the ones before.
pub async fn until_state(
    rx: &mut UnboundedReceiver<ConnectionState>,
    what: &str,
    pred: impl Fn(&ConnectionState) -> bool,
) -> (ConnectionState, Vec<ConnectionState>) {
    let mut before = Vec::new();
    loop {
        let state = next(rx, what).await;
        if pred(&state) {
            return (state, before);
        }
        before.push(state);
    }
}

/// Waits for the next `Open` state; returns the states before it.
pub async fn until_open(
    rx: &mut UnboundedReceiver<ConnectionState>,
    what: &str,
) -> Vec<ConnectionState> {
    until_state(rx, what, |s| *s == ConnectionState::Open)
        .await
        .1
}

/// Opens `path` (a `status/{code}` scenario with `then_events=3` that streams first)
/// with `options`, waits for its three events, and calls `reconnect()`: the next
/// request is the first of those the scenario fails. Returns the source and its states
/// (from the first).
pub async fn streamed_then_reconnected(
    path: &str,
    options: Options,
) -> (
    EventSource,
    UnboundedReceiver<ConnectionState>,
    Subscription,
) {
    let source = EventSource::with_options(&url(path), options).expect("valid url");
    let (mut states, sub) = states(&source);
    until_open(&mut states, "the first open").await;
    wait_until("the id of the third event", 5_000, || {
        source.last_event_id() == "3"
    })
    .await;
    source.reconnect();
    (source, states, sub)
}

/// Waits for the next `Reconnecting` state.
pub async fn next_reconnecting(rx: &mut UnboundedReceiver<ConnectionState>) -> ConnectionState {
    until_state(rx, "a reconnect", |s| {
        matches!(s, ConnectionState::Reconnecting { .. })
    })
    .await
    .0
}

/// `(type, data, last event id)` of the next `count` events of the given types.
pub async fn read_events(
    source: &EventSource,
    types: &[&str],
    count: usize,
) -> Vec<(String, String, String)> {
    let (tx, mut rx) = unbounded();
    let _subs: Vec<_> = types
        .iter()
        .map(|t| {
            let tx = tx.clone();
            source.on_raw(t, move |m| {
                let _ = tx.unbounded_send((m.event_type, m.data, m.last_event_id));
            })
        })
        .collect();
    let mut events = Vec::new();
    while events.len() < count {
        events.push(next(&mut rx, &format!("event {} of {count}", events.len() + 1)).await);
    }
    events
}

/// GETs `url` with the page's fetch and parses the JSON body.
pub async fn get_json(url: &str) -> serde_json::Value {
    let fetch: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
        .expect("fetch exists")
        .unchecked_into();
    let response = JsFuture::from(js_sys::Promise::from(
        fetch
            .call1(&JsValue::NULL, &url.into())
            .expect("fetch called"),
    ))
    .await
    .expect("the request succeeds")
    .unchecked_into::<web_sys::Response>();
    let text = JsFuture::from(response.text().expect("a body"))
        .await
        .expect("the body is read");
    serde_json::from_str(&text.as_string().expect("text")).expect("JSON")
}

/// Opens `path` (a burst of `burst` events) with `options` and closes the source from
/// inside its first `message` handler. Then a second source reads the whole burst: by
/// the time it has, the first connection has long delivered whatever it still had.
/// Returns how many events reached the first handler, and the closed source.
pub async fn handled_after_close_in_handler(
    path: &str,
    options: Options,
    burst: usize,
) -> (usize, EventSource) {
    let closed = EventSource::with_options(&url(path), options.clone()).expect("valid url");
    let count = Rc::new(RefCell::new(0usize));
    let (first_tx, mut first) = unbounded();
    let slot = Rc::new(RefCell::new(Some(closed.clone())));
    let _first = {
        let (count, slot) = (count.clone(), slot.clone());
        closed.on_raw("message", move |_| {
            *count.borrow_mut() += 1;
            if let Some(source) = slot.borrow_mut().take() {
                source.close();
                let _ = first_tx.unbounded_send(());
            }
        })
    };
    next(&mut first, "the first event").await;
    let witness = EventSource::with_options(&url(path), options).expect("valid url");
    assert_eq!(
        read_events(&witness, &["message"], burst).await.len(),
        burst
    );
    witness.close();
    let handled = *count.borrow();
    (handled, closed)
}

/// A policy with exact, short delays for tests: retry `n` waits `base × 2ⁿ⁻¹`, no
/// jitter, a 5 ms floor.
pub fn exact_policy(base_ms: u64) -> wasm_eventsource::ReconnectPolicy {
    wasm_eventsource::ReconnectPolicy::new()
        .base(std::time::Duration::from_millis(base_ms))
        .floor(std::time::Duration::from_millis(5))
        .jitter(false)
}

/// A token no other test run uses, for the server's request logs.
pub fn token(what: &str) -> String {
    format!("{what}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// The server's request log for `token`: one record per request, in arrival order.
pub async fn request_log(token: &str) -> Vec<serde_json::Value> {
    get_json(&url(&format!("/scenario/log/{token}")))
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// POSTs `body` as JSON to `path` on the test server; returns the status.
pub async fn post_json(path: &str, body: &serde_json::Value) -> u16 {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().expect("headers");
    headers
        .set("Content-Type", "application/json")
        .expect("a valid header");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body.to_string()));
    let fetch: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
        .expect("fetch exists")
        .unchecked_into();
    let promise = fetch
        .call2(&JsValue::NULL, &url(path).into(), &init)
        .expect("fetch called");
    let response = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .expect("the request succeeds")
        .unchecked_into::<web_sys::Response>();
    response.status()
}

/// Waits until `cond` holds, checking every 10 ms, failing the test with `what` after
/// `ms` milliseconds.
pub async fn wait_until(what: &str, ms: u32, cond: impl Fn() -> bool) {
    let mut waited = 0;
    while !cond() {
        assert!(waited < ms, "timed out after {ms} ms waiting for {what}");
        TimeoutFuture::new(10).await;
        waited += 10;
    }
}

/// The numbers `n` of the `{"n":n}` events of `types` as they arrive.
pub fn numbers(source: &EventSource, types: &[&str]) -> (Rc<RefCell<Vec<u64>>>, Vec<Subscription>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let subs = types
        .iter()
        .map(|t| {
            let seen = seen.clone();
            source.on::<N>(t, move |r| match r {
                Ok(m) => seen.borrow_mut().push(u64::from(m.data.n)),
                Err(e) => panic!("a bad event: {e}"),
            })
        })
        .collect();
    (seen, subs)
}

/// Waits until the tasks and requests that close() aborted have been dropped and
/// settled: live bytes the same over five timer ticks in a row. Returns them; fails
/// the test if they never hold still for that long in 5 s.
pub async fn settled() -> isize {
    const STEADY: u32 = 5;
    let mut last = live_bytes();
    let mut steady = 0;
    for _ in 0..500 {
        TimeoutFuture::new(10).await;
        let now = live_bytes();
        if now == last {
            steady += 1;
            if steady == STEADY {
                return now;
            }
        } else {
            steady = 0;
            last = now;
        }
    }
    panic!("live bytes never held still over {STEADY} timer ticks in 5 s (last {last})");
}

/// The cause a status answered by `/scenario/status/{status}` is reported with: its
/// standard reason phrase, no `Retry-After`.
pub fn server_error(status: u16) -> wasm_eventsource::ReconnectCause {
    let status_text = match status {
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    };
    wasm_eventsource::ReconnectCause::HttpStatus {
        status,
        status_text: status_text.to_owned(),
        retry_after: None,
        body: None,
    }
}

/// Publishes events 1, 2 and 3 at once to `channel`, which `source` follows, and checks
/// that a handler on `source` sees each of them.
pub async fn a_handler_sees_three_published_at_once(source: &EventSource, channel: &str) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let _every = {
        let seen = seen.clone();
        source.on::<N>("message", move |r| {
            seen.borrow_mut().push(r.expect("a number").data.n);
        })
    };
    for n in 1..=3 {
        let body = serde_json::json!({"channel": channel, "data": {"n": n}});
        assert_eq!(post_json("/publish", &body).await, 200);
    }
    wait_until("three events", 5_000, || seen.borrow().len() == 3).await;
    assert_eq!(*seen.borrow(), [1, 2, 3]);
}

/// Wraps the page's `fetch` so that [`recorded_fetches`] can tell which URLs it was
/// called with from now on.
pub fn record_fetches() {
    js_sys::eval(
        "window.__urls = []; window.__fetch = window.fetch; \
         window.fetch = (input, init) => { window.__urls.push(String(input)); \
         return window.__fetch(input, init); }",
    )
    .expect("fetch wrapped");
}

/// The URLs `fetch` was called with since [`record_fetches`], whose wrapper it takes
/// away.
pub fn recorded_fetches() -> Vec<String> {
    let urls = js_sys::eval("JSON.stringify(window.__urls)")
        .ok()
        .and_then(|v| v.as_string());
    js_sys::eval("window.fetch = window.__fetch").expect("fetch put back");
    serde_json::from_str(&urls.expect("record_fetches was called")).expect("JSON")
}
