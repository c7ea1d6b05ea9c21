//! Guards for browser resources, and the few browser facts the transports read
//! (time, `navigator.onLine`, `document.hidden`). HTTP semantics are in `http.rs`.
//!
//! Every listener and request is owned by a guard whose `Drop` releases it: a
//! [`Listener`] removes itself, an [`AbortOnDrop`] aborts its request. Timers are
//! `gloo_timers` futures, which clear their timeout when dropped; [`sleep`] clamps
//! their delay first. Each callback from the browser into a transport (a listener's, a
//! task's poll) is an [`Entry`] while it runs.

use crate::core::retry::clamp_timer;
use gloo_timers::future::TimeoutFuture;
use js_sys::Reflect;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

#[cfg(any(feature = "fetch", feature = "probe"))]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The global `fetch`, in windows and workers alike, as the page has it: maybe a
    /// wrapper of its own (see `global_fetch`).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn page_fetch(input: &str, init: &web_sys::RequestInit) -> Result<JsValue, JsValue>;
}

/// The global `fetch`'s answer as a promise, whatever the page made of `fetch`: a
/// wrapper that throws (a check of its own) gives a rejected promise, and one that
/// answers a Response (or a thenable) without a promise, a promise of it. Called as
/// though it always gave a promise, such a wrapper tore through the reconnect loop,
/// which then stayed connecting for good.
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) fn global_fetch(input: &str, init: &web_sys::RequestInit) -> js_sys::Promise {
    match page_fetch(input, init) {
        Ok(answer) => js_sys::Promise::resolve(&answer),
        Err(thrown) => js_sys::Promise::reject(&thrown),
    }
}

/// An event listener that is removed when dropped.
#[must_use = "the listener is removed when this is dropped"]
pub(crate) struct Listener {
    target: EventTarget,
    event_type: String,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        event_type: &str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let mut f = f;
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(move |e| {
            let _entry = Entry::begin();
            f(e);
        });
        // addEventListener only throws for a non-callable listener, which a Closure never is.
        let _ =
            target.add_event_listener_with_callback(event_type, callback.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            event_type: event_type.to_owned(),
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            &self.event_type,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}

/// How many of the transports' callbacks from the browser (a listener's, a task's
/// poll) run now, with `share`: none between them. One that stays counted where none
/// can be running was torn through (a trap, which a panic is on wasm32, or a JavaScript
/// exception through its frames): what it held may be held for good (a borrow never
/// given back), and a task it polled never runs again. A shared source's leader then
/// answers its followers no more, and one of them takes the connection over (see
/// share.rs). The count is the wasm instance's, not a source's: a tab torn through
/// anywhere leads no more than a handover at a time. (Built with `panic = "unwind"`,
/// a panic drops the count as it unwinds, and is not seen here; the npm build aborts.)
#[cfg(feature = "share")]
static RUNNING: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A callback from the browser, counted while it runs (see [`RUNNING`]).
#[must_use = "the callback is counted until this is dropped"]
pub(crate) struct Entry(());

impl Entry {
    pub fn begin() -> Entry {
        #[cfg(feature = "share")]
        RUNNING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Entry(())
    }
}

#[cfg(feature = "share")]
impl Drop for Entry {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether a callback was torn through (see [`RUNNING`]). Asked only where none of
/// them can be running: in a callback of its own, from a task of the browser's.
#[cfg(feature = "share")]
pub(crate) fn torn() -> bool {
    RUNNING.load(std::sync::atomic::Ordering::Relaxed) != 0
}

/// Spawns `task` on the browser's microtask queue, each poll an [`Entry`].
pub(crate) fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    #[cfg(feature = "share")]
    let task = async move {
        let mut task = std::pin::pin!(task);
        std::future::poll_fn(|cx| {
            let _entry = Entry::begin();
            task.as_mut().poll(cx)
        })
        .await
    };
    wasm_bindgen_futures::spawn_local(task);
}

/// An `AbortController` whose request is aborted when the guard is dropped.
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) struct AbortOnDrop(pub web_sys::AbortController);

#[cfg(any(feature = "fetch", feature = "probe"))]
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A timer future for `delay`, clamped so the browser's 32-bit timer cannot overflow
/// (a longer delay would fire at once) and never zero.
pub(crate) fn sleep(delay: Duration) -> TimeoutFuture {
    let ms = clamp_timer(delay, Duration::from_millis(1)).as_millis();
    TimeoutFuture::new(u32::try_from(ms).unwrap_or(i32::MAX as u32))
}

/// The clock of deadlines, waits and the failing streak, in milliseconds:
/// `performance.now()`, which runs at the pace of the browser's timers and which no
/// change of the system's clock moves (with `Date.now()`, a clock set back an hour
/// held native's heartbeat for that hour, and one set forward gave up at the next
/// failure under `max_elapsed`). `Date.now()` where there is no Performance API.
/// Not for HTTP dates: [`wall_now`].
pub(crate) fn now() -> f64 {
    #[cfg(any(feature = "fetch", feature = "native"))]
    return policy::performance_now();
    #[cfg(not(any(feature = "fetch", feature = "native")))]
    return js_sys::Date::now();
}

/// `Date.now()`: the wall clock, which an HTTP date (`Retry-After`) is read against.
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) fn wall_now() -> f64 {
    js_sys::Date::now()
}

/// A property of the global object (`window` or the worker's `self`).
fn global_get(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// The global object as an event target (for `online`), if it is one.
pub(crate) fn global_target() -> Option<EventTarget> {
    js_sys::global().dyn_into::<EventTarget>().ok()
}

/// Whether this context has the browser's `EventSource` (a Service Worker has none).
/// With the native transport compiled in, the one browser.js found as it loaded: a
/// drop-in class put in its place (`self.EventSource = TypedEventSource`) is not one.
#[cfg(feature = "native")]
pub(crate) fn has_event_source() -> bool {
    super::native::has_browser_event_source()
}

/// Whether this context has an `EventSource` (a Service Worker has none).
#[cfg(not(feature = "native"))]
pub(crate) fn has_event_source() -> bool {
    global_get("EventSource").is_some()
}

/// The page's `document`, if there is one (not in workers).
pub(crate) fn document_target() -> Option<EventTarget> {
    global_get("document")?.dyn_into::<EventTarget>().ok()
}

/// `navigator.onLine` is false. Unknown counts as online.
pub(crate) fn is_offline() -> bool {
    global_get("navigator")
        .and_then(|nav| Reflect::get(&nav, &JsValue::from_str("onLine")).ok())
        .is_some_and(|online| online == JsValue::FALSE)
}

/// `document.hidden` is true. No document counts as visible.
pub(crate) fn is_hidden() -> bool {
    global_get("document")
        .and_then(|doc| Reflect::get(&doc, &JsValue::from_str("hidden")).ok())
        .is_some_and(|hidden| hidden == JsValue::TRUE)
}

/// A JavaScript error value as one line of text.
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) fn js_message(value: JsValue) -> String {
    crate::error::JsError::from(value).to_string()
}

/// The origin of the page (or worker), if it has a location.
#[cfg(any(feature = "fetch", feature = "probe"))]
pub(crate) fn page_origin() -> Option<String> {
    let location = global_get("location")?;
    Reflect::get(&location, &JsValue::from_str("origin"))
        .ok()?
        .as_string()
}

/// `url` with `param=<id>` set in its query, for resuming where no `Last-Event-ID`
/// header can be sent: EventSource cannot send one on its first request, and a
/// cross-origin server may refuse the preflight the header costs a fetch. Only that
/// parameter changes (see dom.js). `None` for a URL that does not parse.
pub(crate) fn with_query(url: &str, param: &str, id: &str) -> Option<String> {
    query::with_query(url, param, id).ok()
}

mod query {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/transport/dom.js")]
    extern "C" {
        #[wasm_bindgen(js_name = withQuery, catch)]
        pub(super) fn with_query(url: &str, param: &str, id: &str) -> Result<String, JsValue>;
    }
}

/// How long a request the browser refused waits for a Content Security Policy report.
#[cfg(any(feature = "fetch", feature = "native"))]
pub(crate) const POLICY_WAIT: Duration = Duration::from_millis(50);

/// The directive of the page's Content Security Policy that blocked the request to
/// `url` made at or after `since` ([`now`]: the Performance timeline), as its violation report said
/// within `wait` (the report comes a moment after `fetch` rejects); `None` if none did.
#[cfg(any(feature = "fetch", feature = "native"))]
pub(crate) async fn blocked_by_policy(url: &str, since: f64, wait: Duration) -> Option<String> {
    let found = wasm_bindgen_futures::JsFuture::from(policy::blocked_by(
        url,
        since,
        wait.as_millis() as f64,
    ))
    .await
    .ok()?
    .as_string()?;
    (!found.is_empty()).then_some(found)
}

/// What the close reason says of a request the page's Content Security Policy blocked.
#[cfg(any(feature = "fetch", feature = "native"))]
pub(crate) fn blocked_message(directive: &str) -> String {
    format!(
        "the page's Content Security Policy blocks it ({directive}): allow the stream's \
         origin in that directive"
    )
}

#[cfg(any(feature = "fetch", feature = "native"))]
mod policy {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/transport/dom.js")]
    extern "C" {
        #[wasm_bindgen(js_name = blockedBy)]
        pub(super) fn blocked_by(url: &str, since: f64, ms: f64) -> js_sys::Promise;
        #[wasm_bindgen(js_name = performanceNow)]
        pub(super) fn performance_now() -> f64;
    }
}

/// The origin of an absolute URL.
#[cfg(any(feature = "fetch", feature = "probe", feature = "share"))]
pub(crate) fn origin_of(url: &str) -> Option<String> {
    web_sys::Url::new(url).ok().map(|u| u.origin())
}

/// Whether `url` has a user name or password in it (which `fetch` refuses, and
/// Chromium's EventSource too).
#[cfg(feature = "native")]
pub(crate) fn has_credentials(url: &str) -> bool {
    web_sys::Url::new(url).is_ok_and(|u| !u.username().is_empty() || !u.password().is_empty())
}
