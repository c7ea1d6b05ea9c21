//! Memory under real use: thousands of connections that really open and receive an
//! event, and a thousand forced reconnects of one source, on both transports. Live
//! heap bytes (a counting allocator) and wasm memory must not grow after warm-up.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::channel::oneshot;
use futures::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use wasm_eventsource::{ConnectionState, EventSource, Options, Transport};

wasm_bindgen_test_configure!(run_in_browser);

// The `npm` feature brings the package's own allocator (talc); these tests count
// through std's, so they run without it (`--all-features` only lints them).
#[cfg_attr(not(feature = "npm"), global_allocator)]
#[cfg_attr(feature = "npm", allow(dead_code))]
static ALLOCATOR: Counting = Counting;

/// Cycles per transport; `SSE_MEMORY_CYCLES` at build time changes it.
const CYCLES: usize = match option_env!("SSE_MEMORY_CYCLES") {
    Some(_) => 2_000,
    None => 10_000,
};

/// Opens a source, subscribes, waits for its first event, closes it.
async fn cycle(target: &str, transport: Transport) {
    let source =
        EventSource::with_options(target, Options::new().transport(transport)).expect("valid url");
    let (tx, rx) = oneshot::channel();
    let mut tx = Some(tx);
    let _typed = source.on_message::<N>(move |r| {
        if let Some(tx) = tx.take() {
            let _ = tx.send(r.is_ok());
        }
    });
    let _state = source.on_state(|_| {});
    let _stream = source.subscribe::<N>("tick");
    match select(rx, TimeoutFuture::new(5_000)).await {
        Either::Left((Ok(true), _)) => {}
        Either::Left((other, _)) => panic!("{transport:?}: the event did not decode: {other:?}"),
        Either::Right(_) => panic!("{transport:?}: no event within 5 s"),
    }
    source.close();
}

async fn cycles_leave_memory_flat(transport: Transport) {
    let target = url("/scenario/stall?after=1");
    for _ in 0..CYCLES / 10 {
        cycle(&target, transport).await;
    }
    let (live_before, memory_before) = (settled().await, memory_bytes());
    for _ in 0..CYCLES {
        cycle(&target, transport).await;
    }
    let (live_after, memory_after) = (settled().await, memory_bytes());
    let live = live_after - live_before;
    let memory = i64::from(memory_after) - i64::from(memory_before);
    console_log!(
        "memory {transport:?}: {CYCLES} cycles: live heap {live:+} bytes, wasm memory {memory:+} bytes"
    );
    assert!(
        live <= 1_024,
        "{transport:?}: {CYCLES} cycles left {live} heap bytes live"
    );
    assert!(
        memory <= 65_536,
        "{transport:?}: wasm memory grew by {memory} bytes"
    );
}

#[wasm_bindgen_test]
async fn native_connections_that_open_and_receive_leave_memory_flat() {
    cycles_leave_memory_flat(Transport::Native).await;
}

#[wasm_bindgen_test]
async fn fetch_connections_that_open_and_receive_leave_memory_flat() {
    cycles_leave_memory_flat(Transport::Fetch).await;
}

#[wasm_bindgen_test]
async fn a_thousand_forced_reconnects_leave_memory_flat() {
    for transport in [Transport::Native, Transport::Fetch] {
        let channel = token("reconnects");
        let source = EventSource::with_options(
            &url(&format!("/events?channel={channel}")),
            Options::new().transport(transport),
        )
        .expect("valid url");
        let (mut states, _s) = states(&source);
        let _typed = source.on_message::<N>(|_| {});
        until_state(&mut states, "open", ConnectionState::is_open).await;
        for _ in 0..100 {
            source.reconnect();
            until_state(&mut states, "open again", ConnectionState::is_open).await;
        }
        let (live_before, memory_before) = (settled().await, memory_bytes());
        for _ in 0..1_000 {
            source.reconnect();
            until_state(&mut states, "open again", ConnectionState::is_open).await;
        }
        let (live_after, memory_after) = (settled().await, memory_bytes());
        source.close();
        let live = live_after - live_before;
        let memory = i64::from(memory_after) - i64::from(memory_before);
        console_log!(
            "memory {transport:?}: 1,000 reconnects: live heap {live:+} bytes, wasm memory {memory:+} bytes"
        );
        assert!(
            live <= 1_024,
            "{transport:?}: 1,000 reconnects left {live} heap bytes live"
        );
        assert!(
            memory <= 65_536,
            "{transport:?}: wasm memory grew by {memory} bytes"
        );
    }
}

/// Regression: on native, each event after a long id copied the id into wasm and
/// into an allocation of its own, then compared it byte by byte (2,000 events after a
/// 900 KB id took 8 s in Chromium, whose own EventSource takes 1.7 s). The events that
/// carry one long id now share one copy of it, as the fetch parser's do. A typed
/// message owns its id (`Message::last_event_id` is a `String`): that one copy per
/// event is the Rust API's; before the fix native made two more.
#[wasm_bindgen_test]
async fn events_that_carry_one_long_id_share_one_copy_of_it() {
    const ID: usize = 100_000;
    const EVENTS: u64 = 2_000;
    for transport in [Transport::Native, Transport::Fetch] {
        let before = allocated_bytes();
        let source = EventSource::with_options(
            &url(&format!("/scenario/long-id?bytes={ID}&events={EVENTS}")),
            Options::new().transport(transport),
        )
        .expect("valid url");
        let (seen, _subs) = numbers(&source, &["message"]);
        wait_until("the events after the long id", 20_000, || {
            seen.borrow().last() == Some(&EVENTS)
        })
        .await;
        let allocated = allocated_bytes() - before;
        let id = source.last_event_id();
        source.close();
        assert!(
            id.len() == ID && id.bytes().all(|b| b == b'x'),
            "{transport:?}: the last event id is not the long one ({} bytes)",
            id.len()
        );
        assert_eq!(
            seen.borrow().len(),
            EVENTS as usize + 1,
            "{transport:?}: the events"
        );
        let per_event = allocated as f64 / (EVENTS as f64 * ID as f64);
        console_log!(
            "long id, {transport:?}: {EVENTS} events after a {ID}-byte id allocated {allocated} bytes ({per_event:.2} ids per event)"
        );
        assert!(
            per_event < 1.5,
            "{transport:?}: {EVENTS} events after a {ID}-byte id allocated {allocated} bytes: {per_event:.2} copies of the id per event"
        );
    }
}

/// What broke (a review): the fetch transport fed each chunk of the body to the parser
/// whole and took its items after, so a chunk of comments (two bytes each) queued an
/// item per two bytes at once: a 1 MiB chunk peaked at 38.8 MB of items (the parser's
/// queue keeps its capacity, and wasm memory never shrinks back). Here the page's
/// `fetch` answers with such a chunk, in one piece.
#[wasm_bindgen_test]
async fn a_chunk_of_comments_queues_a_slice_of_items_at_a_time() {
    const COMMENTS: usize = 1 << 19;
    js_sys::eval(&format!(
        "window.__fetch = window.fetch; window.fetch = (input, init) => {{ \
           if (!String(input).includes('/one-big-chunk')) return window.__fetch(input, init); \
           const text = ':\\n'.repeat({COMMENTS}) + 'data: {{\"n\":1}}\\n\\n'; \
           const body = new ReadableStream({{ start(c) {{ c.enqueue(new TextEncoder().encode(text)); }} }}); \
           return Promise.resolve(new Response(body, {{ headers: {{ 'content-type': 'text/event-stream' }} }})); }};"
    ))
    .expect("the fetch wrapper");
    let source = EventSource::with_options(
        &url("/one-big-chunk"),
        Options::new().transport(Transport::Fetch),
    )
    .expect("valid url");
    let (seen, _subs) = numbers(&source, &["message"]);
    let before = reset_peak();
    wait_until("the event after the comments", 10_000, || {
        seen.borrow().first() == Some(&1)
    })
    .await;
    let peak = peak_bytes() - before;
    source.close();
    js_sys::eval("window.fetch = window.__fetch").expect("fetch put back");
    console_log!("a 1 MiB chunk of {COMMENTS} comments: live bytes peaked {peak} above the start");
    // The chunk's own copy in wasm (1 MiB) and a slice's items (16 KiB of comments:
    // 8,192, under 0.5 MB), with room to spare; before the fix, 38.8 MB.
    assert!(
        peak < 4 << 20,
        "a 1 MiB chunk of comments peaked {peak} live bytes above the start"
    );
}
