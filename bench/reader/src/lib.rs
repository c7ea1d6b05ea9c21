//! The wasm readers of `npm run bench` (driven by `bench/run.mjs`).
//!
//! Each export opens a fresh connection to `url`, reads `n` events whose data is the
//! server's burst JSON `{"seq":i,"user":...,"text":...,"ok":true}`, decodes each into
//! [`Ev`], closes the connection after the `n`th, and resolves to
//! `{ ms, checksum }`: `ms` is `performance.now()` from just before the connection is
//! constructed to the `n`th event, `checksum` the sum of the `seq`s (so the decoding is
//! not optimised away, and the driver can check that no event was lost or repeated).
//!
//! [`ours_latency`] is the latency reader: events `{"t": ms, "seq": i}` published by the
//! page, where `t` is `performance.timeOrigin + performance.now()` at publication.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::StreamExt;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_eventsource::{ConnectionState, EventSource, Options, Transport};

/// One burst event, decoded in full as an application would.
#[derive(Deserialize)]
struct Ev {
    seq: u64,
    #[allow(dead_code)]
    user: String,
    #[allow(dead_code)]
    text: String,
    #[allow(dead_code)]
    ok: bool,
}

/// `performance.now()`, in a window or a worker.
fn now() -> f64 {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        if let Some(p) = window.performance() {
            return p.now();
        }
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        if let Some(p) = worker.performance() {
            return p.now();
        }
    }
    js_sys::Date::now()
}

/// `performance.timeOrigin + performance.now()`: the page's clock, in ms since the epoch.
fn wall_now() -> f64 {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        if let Some(p) = window.performance() {
            return p.time_origin() + p.now();
        }
    }
    js_sys::Date::now()
}

/// `{ ms, checksum }` for the driver.
fn outcome(ms: f64, checksum: u64) -> JsValue {
    let obj = js_sys::Object::new();
    // Reflect::set on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&obj, &"ms".into(), &ms.into());
    let _ = js_sys::Reflect::set(&obj, &"checksum".into(), &(checksum as f64).into());
    obj.into()
}

fn check_n(n: u32) -> Result<(), JsValue> {
    if n == 0 {
        return Err(JsError::new("n must be at least 1").into());
    }
    Ok(())
}

fn transport(name: &str) -> Result<Transport, JsValue> {
    match name {
        "native" => Ok(Transport::Native),
        "fetch" => Ok(Transport::Fetch),
        other => Err(JsError::new(&format!(
            "unknown transport {other:?}: \"native\" or \"fetch\""
        ))
        .into()),
    }
}

/// Progress shared between the handlers and the awaiting future.
struct Run {
    n: u64,
    count: u64,
    checksum: u64,
    done: Option<oneshot::Sender<Result<f64, String>>>,
}

impl Run {
    fn new(n: u32) -> (Rc<RefCell<Run>>, oneshot::Receiver<Result<f64, String>>) {
        let (tx, rx) = oneshot::channel();
        let run = Run {
            n: u64::from(n),
            count: 0,
            checksum: 0,
            done: Some(tx),
        };
        (Rc::new(RefCell::new(run)), rx)
    }

    /// `{ ms, checksum }` for what the run's receiver got, or its error.
    fn outcome(
        &self,
        result: Result<Result<f64, String>, oneshot::Canceled>,
    ) -> Result<JsValue, JsValue> {
        match result {
            Ok(Ok(ms)) => Ok(outcome(ms, self.checksum)),
            Ok(Err(e)) => Err(JsError::new(&e).into()),
            Err(_) => Err(JsError::new("the run was dropped before the nth event").into()),
        }
    }

    fn finish(&mut self, result: Result<f64, String>) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(result);
        }
    }
}

/// wasm-eventsource's typed API (`on_message::<Ev>`) over `transport`
/// (`"native"` or `"fetch"`).
#[wasm_bindgen]
pub async fn ours(url: String, n: u32, transport: String) -> Result<JsValue, JsValue> {
    check_n(n)?;
    let transport = self::transport(&transport)?;
    let (run, rx) = Run::new(n);

    let start = now();
    let source = EventSource::with_options(&url, Options::new().transport(transport))
        .map_err(|e| JsError::new(&e.to_string()))?;
    let events = {
        let run = Rc::clone(&run);
        let closer = source.clone();
        source.on_message::<Ev>(move |res| {
            let mut r = run.borrow_mut();
            if r.done.is_none() {
                return;
            }
            match res {
                Ok(msg) => {
                    r.checksum += msg.data.seq;
                    r.count += 1;
                    if r.count == r.n {
                        let ms = now() - start;
                        closer.close();
                        r.finish(Ok(ms));
                    }
                }
                Err(err) => {
                    closer.close();
                    r.finish(Err(err.to_string()));
                }
            }
        })
    };
    let states = {
        let run = Rc::clone(&run);
        source.on_state(move |state| {
            if let ConnectionState::Closed { reason } = state {
                // A close after the nth event is our own; finish() then does nothing.
                if let Ok(mut r) = run.try_borrow_mut() {
                    let count = r.count;
                    r.finish(Err(format!("closed after {count} events: {reason}")));
                }
            }
        })
    };

    let result = rx.await;
    source.close();
    drop((events, states));
    // (Bound first: the borrow must end before `run` does.)
    let outcome = run.borrow().outcome(result);
    outcome
}

/// gloo-net's `EventSource` (a `Stream` of message events) + `serde_json` into [`Ev`].
#[wasm_bindgen]
pub async fn gloo(url: String, n: u32) -> Result<JsValue, JsValue> {
    check_n(n)?;
    let start = now();
    let mut es = gloo_net::eventsource::futures::EventSource::new(&url)
        .map_err(|e| JsError::new(&e.to_string()))?;
    let mut messages = es
        .subscribe("message")
        .map_err(|e| JsError::new(&e.to_string()))?;
    let (mut count, mut checksum) = (0u32, 0u64);
    let ms = loop {
        match messages.next().await {
            Some(Ok((_, event))) => {
                let data = event.data().as_string().unwrap_or_default();
                let ev: Ev = serde_json::from_str(&data)
                    .map_err(|e| JsError::new(&format!("bad event {data:?}: {e}")))?;
                checksum += ev.seq;
                count += 1;
                if count == n {
                    break now() - start;
                }
            }
            Some(Err(e)) => {
                es.close();
                return Err(JsError::new(&format!("after {count} events: {e}")).into());
            }
            None => {
                return Err(JsError::new(&format!("the stream ended after {count} events")).into())
            }
        }
    };
    es.close();
    drop(messages);
    Ok(outcome(ms, checksum))
}

/// `JSON.parse`, called from wasm with the data as the browser's string (no copy).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// A floor, not a client: the browser's `EventSource` with one listener in wasm and
/// nothing else (no state, no resume, no dedupe, no dispatch), so the least that any
/// library between the browser's `EventSource` and the app's code can cost. With `copy`
/// false the data stays a JavaScript string, parsed by `JSON.parse` called from wasm
/// (the least the JS API can do: one crossing in, one out); with `copy` true it is
/// copied into wasm and decoded by serde_json into [`Ev`] (the least the typed Rust API
/// can do). An error of the connection fails the run, as for the anchor.
#[wasm_bindgen]
pub async fn floor_native(url: String, n: u32, copy: bool) -> Result<JsValue, JsValue> {
    check_n(n)?;
    let (run, rx) = Run::new(n);
    let start = now();
    let es = web_sys::EventSource::new(&url)?;
    let seq_key = JsValue::from_str("seq");
    let on_message = {
        let run = Rc::clone(&run);
        let es = es.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let mut r = run.borrow_mut();
            if r.done.is_none() {
                return;
            }
            let data = e.data();
            let seq = if copy {
                let text = data.as_string().unwrap_or_default();
                serde_json::from_str::<Ev>(&text)
                    .map(|ev| ev.seq)
                    .map_err(|e| format!("bad event {text:?}: {e}"))
            } else {
                json_parse(&data)
                    .ok()
                    .and_then(|v| js_sys::Reflect::get(&v, &seq_key).ok())
                    .and_then(|v| v.as_f64())
                    .map(|seq| seq as u64)
                    .ok_or_else(|| "an event without a numeric seq".to_owned())
            };
            match seq {
                Ok(seq) => {
                    r.checksum += seq;
                    r.count += 1;
                    if r.count == r.n {
                        let ms = now() - start;
                        es.close();
                        r.finish(Ok(ms));
                    }
                }
                Err(e) => {
                    es.close();
                    r.finish(Err(e));
                }
            }
        })
    };
    let on_error = {
        let run = Rc::clone(&run);
        let es = es.clone();
        Closure::<dyn FnMut()>::new(move || {
            es.close();
            let mut r = run.borrow_mut();
            let count = r.count;
            r.finish(Err(format!("error after {count} events")));
        })
    };
    es.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref())?;
    es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let result = rx.await;
    es.close();
    es.set_onerror(None);
    let _ = es.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    drop((on_message, on_error));
    // (Bound first: the borrow must end before `run` does.)
    let outcome = run.borrow().outcome(result);
    outcome
}

/// A floor, not a client: `fetch`, each chunk of the body copied into wasm, events found
/// by `"\n\n"` and their one `data:` line decoded by serde_json into [`Ev`]. No SSE
/// parsing beyond that (no other fields, no CR, no multi-line data, no ids, no retry):
/// the least a Rust reader of this stream that hands the app a typed value does.
#[wasm_bindgen]
pub async fn floor_fetch(url: String, n: u32) -> Result<JsValue, JsValue> {
    use wasm_bindgen_futures::JsFuture;
    check_n(n)?;
    let start = now();
    let window = web_sys::window().ok_or_else(|| JsError::new("no window"))?;
    let abort = web_sys::AbortController::new()?;
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_signal(Some(&abort.signal()));
    let headers = web_sys::Headers::new()?;
    headers.set("Accept", "text/event-stream")?;
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await?
        .dyn_into()?;
    let body = response
        .body()
        .filter(|_| response.ok())
        .ok_or_else(|| JsError::new(&format!("floor_fetch: HTTP {}", response.status())))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let (done_key, value_key) = (JsValue::from_str("done"), JsValue::from_str("value"));
    let (mut count, mut checksum, mut buf) = (0u32, 0u64, Vec::<u8>::new());
    let result = 'read: loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(e) => break 'read Err(e),
        };
        if js_sys::Reflect::get(&chunk, &done_key).is_ok_and(|d| d.is_truthy()) {
            break Err(JsError::new(&format!("the stream ended after {count} events")).into());
        }
        let Ok(bytes) = js_sys::Reflect::get(&chunk, &value_key)
            .and_then(|v| v.dyn_into::<js_sys::Uint8Array>())
        else {
            break Err(JsError::new("a chunk that is not a Uint8Array").into());
        };
        let old = buf.len();
        buf.resize(old + bytes.length() as usize, 0);
        bytes.copy_to(&mut buf[old..]);
        let mut pos = 0;
        while let Some(end) = blank_line(&buf[pos..]) {
            let event = &buf[pos..pos + end];
            if let Some(data) = event.windows(5).position(|w| w == b"data:") {
                let line = &event[data + 5..];
                let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
                match serde_json::from_slice::<Ev>(line) {
                    Ok(ev) => checksum += ev.seq,
                    Err(e) => break 'read Err(JsError::new(&format!("bad event: {e}")).into()),
                }
                count += 1;
                if count == n {
                    break 'read Ok(now() - start);
                }
            }
            pos += end + 2;
        }
        buf.drain(..pos);
    };
    abort.abort();
    // (Its rejection, after the abort, is expected: awaited so that it is handled.)
    let cancel = JsFuture::from(reader.cancel());
    wasm_bindgen_futures::spawn_local(async move {
        let _ = cancel.await;
    });
    Ok(outcome(result?, checksum))
}

/// Where the first `"\n\n"` in `bytes` starts.
fn blank_line(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|&b| b == b'\n') {
        let at = from + i;
        match bytes.get(at + 1) {
            Some(b'\n') => return Some(at),
            Some(_) => from = at + 1,
            None => return None,
        }
    }
    None
}

/// One latency probe: `t` is the publisher's `performance.timeOrigin + now()`, `seq` 0
/// for a readiness ping and 1..=n for the measured events.
#[derive(Deserialize)]
struct Probe {
    t: f64,
    seq: u32,
}

/// The latency reader: wasm-eventsource's typed API over `transport` on `url`. Calls
/// `ready()` at the first event (a ping, seq 0), then records, for each of the events
/// seq 1..=n, the time from publication to this handler, and resolves to those `n`
/// latencies in ms (a `Float64Array`, in the order of `seq`).
#[wasm_bindgen]
pub async fn ours_latency(
    url: String,
    n: u32,
    transport: String,
    ready: js_sys::Function,
) -> Result<JsValue, JsValue> {
    check_n(n)?;
    let transport = self::transport(&transport)?;
    let (tx, rx) = oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let latencies = Rc::new(RefCell::new(vec![f64::NAN; n as usize]));
    let source = EventSource::with_options(&url, Options::new().transport(transport))
        .map_err(|e| JsError::new(&e.to_string()))?;
    let events = {
        let (tx, latencies) = (Rc::clone(&tx), Rc::clone(&latencies));
        let mut seen_ready = false;
        let mut count = 0u32;
        source.on_message::<Probe>(move |res| {
            let now = wall_now();
            match res {
                Ok(msg) => {
                    let p = msg.data;
                    if p.seq == 0 {
                        if !seen_ready {
                            seen_ready = true;
                            let _ = ready.call0(&JsValue::NULL);
                        }
                        return;
                    }
                    let mut l = latencies.borrow_mut();
                    if let Some(slot) = l.get_mut(p.seq as usize - 1) {
                        if slot.is_nan() {
                            *slot = now - p.t;
                            count += 1;
                        }
                    }
                    if count == n {
                        if let Some(tx) = tx.borrow_mut().take() {
                            let _ = tx.send(Ok(()));
                        }
                    }
                }
                Err(err) => {
                    if let Some(tx) = tx.borrow_mut().take() {
                        let _ = tx.send(Err(err.to_string()));
                    }
                }
            }
        })
    };
    let states = {
        let tx = Rc::clone(&tx);
        source.on_state(move |state| {
            if let ConnectionState::Closed { reason } = state {
                if let Ok(mut tx) = tx.try_borrow_mut() {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Err(format!("closed: {reason}")));
                    }
                }
            }
        })
    };
    let result = rx.await;
    source.close();
    drop((events, states));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(JsError::new(&e).into()),
        Err(_) => return Err(JsError::new("the source was dropped before the last event").into()),
    }
    let l = latencies.borrow();
    Ok(js_sys::Float64Array::from(&l[..]).into())
}
