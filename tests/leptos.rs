//! Browser tests of the Leptos hook (`--features leptos`): each mounts a component
//! into a fresh `<div>` and talks to the real test server (`SSE_TEST_SERVER`).
#![cfg(all(target_arch = "wasm32", feature = "leptos"))]

mod common;

use common::{request_log, token, url, wait_until};
use leptos::mount::mount_to;
use leptos::prelude::*;
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wasm_eventsource::leptos::{use_event_source, use_event_source_with_options, UseEventSource};
use wasm_eventsource::{CloseReason, ConnectionState, Options, Transport};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Num {
    n: u32,
}

/// A new `<div>` in the page's body, to mount one test's component into.
fn fresh_div() -> web_sys::HtmlElement {
    let document = document();
    let div = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&div)
        .expect("the div is added");
    div.unchecked_into()
}

/// The hook's handle, taken out of the component for the test to read. (`Arc`: Leptos
/// children must be `Send`.)
type Slot<T> = Arc<Mutex<Option<UseEventSource<T>>>>;

fn put<T: Send + Sync + 'static>(slot: &Slot<T>, hook: UseEventSource<T>) {
    *slot.lock().expect("not poisoned") = Some(hook);
}

fn taken<T: Send + Sync + 'static>(slot: &Slot<T>) -> UseEventSource<T> {
    slot.lock()
        .expect("not poisoned")
        .expect("the component ran")
}

/// The records of `token`'s requests, once there are at least `count`.
async fn records(token: &str, count: usize) -> Vec<serde_json::Value> {
    for _ in 0..500 {
        let log = request_log(token).await;
        if log.len() >= count {
            return log;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    panic!("the server did not log {count} requests for {token}");
}

/// Waits until the server says the `index`th request of `token` has no response
/// stream any more: the browser dropped the connection.
async fn until_stream_ended(token: &str, index: usize) {
    for _ in 0..500 {
        let log = request_log(token).await;
        if log
            .get(index)
            .is_some_and(|r| r["open"] == serde_json::Value::Bool(false))
        {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    panic!("request {index} of {token} still streams");
}

#[wasm_bindgen_test]
async fn receives_typed_events_and_a_second_type_on_the_same_connection() {
    let slot: Slot<Num> = Slot::default();
    let plain_slot = Rc::new(RefCell::new(
        None::<Signal<Option<wasm_eventsource::Message<Num>>>>,
    ));
    let div = fresh_div();
    let (s, p) = (slot.clone(), plain_slot.clone());
    let _app = mount_to(div.clone(), move || {
        let chat = use_event_source::<Num>(url("/scenario/named"), "chat");
        let plain = chat.on::<Num>("message");
        put(&s, chat);
        *p.borrow_mut() = Some(plain);
        view! {
            <p class="chat">{move || chat.message.get().map(|m| m.data.n)}</p>
            <p class="plain">{move || plain.get().map(|m| m.data.n)}</p>
        }
    });
    let chat = taken(&slot);
    let plain = plain_slot.borrow().expect("the component ran");
    wait_until("chat 3 and message 2", 5_000, || {
        chat.message.get_untracked().map(|m| m.data.n) == Some(3)
            && plain.get_untracked().map(|m| m.data.n) == Some(2)
    })
    .await;
    let latest = chat.message.get_untracked().expect("a chat event");
    assert_eq!(latest.event_type, "chat");
    assert_eq!(latest.origin, common::SERVER);
    assert_eq!(
        plain.get_untracked().expect("a message").event_type,
        "message"
    );
    assert_eq!(chat.state.get_untracked(), ConnectionState::Open);
    assert_eq!(chat.error.get_untracked(), None);
    // The view shows them too (after the render effects ran).
    wait_until("the view to show the events", 2_000, || {
        div.text_content().as_deref() == Some("32")
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_type_followed_from_another_owner_ends_when_that_owner_is_cleaned_up() {
    // What broke: `on()` kept its handler for as long as the hook lived, so a child
    // component handed the hook left its handler behind on unmount: each mount added
    // one more, decoding every event of its type (its decode errors reaching `error`)
    // and registered again on every new connection.
    let channel = token("leptos-on");
    let slot: Slot<Num> = Slot::default();
    let s = slot.clone();
    let path = format!("/events?channel={channel}");
    let _app = mount_to(fresh_div(), move || {
        let hook = use_event_source::<Num>(url(&path), "message");
        // A child that follows `chat` and is gone before the connection opens.
        let child = Owner::current().expect("the component's owner").child();
        child.with(|| {
            let _ = hook.on::<String>("chat");
        });
        child.cleanup();
        put(&s, hook);
    });
    let hook = taken(&slot);
    wait_until("open", 5_000, || hook.state.get_untracked().is_open()).await;
    // Another, gone while the connection is open.
    let other = Owner::new();
    other.with(|| {
        let _ = hook.on::<String>("chat");
    });
    other.cleanup();
    // `{"n":1}` is no String: a handler left behind would report it.
    let publish = |event: &str, n: u32| serde_json::json!({"channel": channel, "event": event, "data": {"n": n}});
    assert_eq!(
        common::post_json("/publish", &publish("chat", 1)).await,
        200
    );
    assert_eq!(
        common::post_json("/publish", &publish("message", 2)).await,
        200
    );
    wait_until("message 2", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(2)
    })
    .await;
    assert_eq!(hook.error.get_untracked(), None);
}

#[wasm_bindgen_test]
async fn a_handler_on_the_hooks_source_sees_every_event_of_a_burst() {
    let channel = token("leptos-source");
    let slot: Slot<Num> = Slot::default();
    let s = slot.clone();
    let path = format!("/events?channel={channel}");
    let _app = mount_to(fresh_div(), move || {
        put(&s, use_event_source::<Num>(url(&path), "message"));
    });
    let hook = taken(&slot);
    wait_until("open", 5_000, || hook.state.get_untracked().is_open()).await;
    let source = hook.source().expect("the open connection");
    common::a_handler_sees_three_published_at_once(&source, &channel).await;
    assert_eq!(hook.message.get_untracked().map(|m| m.data.n), Some(3));
}

#[wasm_bindgen_test]
async fn a_payload_that_does_not_decode_is_the_error_signal() {
    let slot: Slot<Num> = Slot::default();
    let s = slot.clone();
    let _app = mount_to(fresh_div(), move || {
        put(
            &s,
            use_event_source::<Num>(url("/scenario/bad-json"), "message"),
        );
    });
    let hook = taken(&slot);
    wait_until("event 3 after the bad one", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(3)
    })
    .await;
    let err = hook.error.get_untracked().expect("a decode error");
    assert_eq!(err.data, "{not json");
    assert_eq!(err.event_type, "message");
    assert_eq!(err.last_event_id, "2");
    assert!(err.target.ends_with("Num"), "{}", err.target);
}

#[wasm_bindgen_test]
async fn the_state_follows_a_server_drop() {
    let slot: Slot<Num> = Slot::default();
    let kinds = Rc::new(RefCell::new(Vec::<&'static str>::new()));
    let (s, k) = (slot.clone(), kinds.clone());
    let _app = mount_to(fresh_div(), move || {
        let hook =
            use_event_source::<Num>(url("/scenario/drop-every/2?total=6&retry=10"), "message");
        // Every state the component sees, in order.
        Effect::new(move |_| k.borrow_mut().push(hook.state.get().kind()));
        put(&s, hook);
    });
    let hook = taken(&slot);
    wait_until("event 6", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(6)
    })
    .await;
    wait_until("open again", 2_000, || hook.state.get_untracked().is_open()).await;
    let kinds = kinds.borrow().clone();
    let open = kinds.iter().position(|k| *k == "open").expect("opened");
    let reconnecting = open
        + kinds[open..]
            .iter()
            .position(|k| *k == "reconnecting")
            .expect("reconnecting after the drop");
    assert!(
        kinds[reconnecting..].contains(&"open"),
        "open again after reconnecting: {kinds:?}"
    );
    assert!(!kinds.contains(&"closed"), "never closed: {kinds:?}");
}

#[wasm_bindgen_test]
async fn unmounting_the_component_closes_the_connection() {
    let token = token("leptos-unmount");
    let slot: Slot<Num> = Slot::default();
    let visible = RwSignal::new(true);
    let (s, path) = (
        slot.clone(),
        url(&format!("/scenario/named?retry=20&token={token}")),
    );
    let _app = mount_to(fresh_div(), move || {
        view! {
            <Show when=move || visible.get()>
                {
                    let hook = use_event_source::<Num>(path.clone(), "chat");
                    put(&s, hook);
                    move || hook.message.get().map(|m| m.data.n)
                }
            </Show>
        }
    });
    let hook = taken(&slot);
    wait_until("open", 5_000, || hook.state.get_untracked().is_open()).await;
    let log = records(&token, 1).await;
    assert_eq!(log[0]["open"], serde_json::Value::Bool(true), "{log:?}");
    visible.set(false);
    until_stream_ended(&token, 0).await;
    // The server asked for a 20 ms reconnection time: a source still alive would have
    // reconnected many times over by now.
    gloo_timers::future::TimeoutFuture::new(500).await;
    assert_eq!(request_log(&token).await.len(), 1, "nothing reconnected");
}

#[wasm_bindgen_test]
async fn an_unmounted_hook_wakes_no_one_with_its_close() {
    // What broke (a review): unmounting closed the source before dropping its
    // subscriptions, so `Closed { ClosedByClient }` went into the state signal as it was
    // being disposed: an effect outside the component that read it was woken, and found
    // it disposed (`get()` panics there).
    let slot: Slot<Num> = Slot::default();
    let visible = RwSignal::new(true);
    let s = slot.clone();
    // What an effect outside the component read of the hook's state, each time it ran.
    let seen = Rc::new(RefCell::new(Vec::<Option<&'static str>>::new()));
    let (seen_in, slot_in) = (seen.clone(), slot.clone());
    let _app = mount_to(fresh_div(), move || {
        let (seen_in, slot_in) = (seen_in.clone(), slot_in.clone());
        Effect::new(move |_| {
            if let Some(hook) = *slot_in.lock().expect("slot") {
                let kind = hook.state.try_get().map(|state| state.kind());
                seen_in.borrow_mut().push(kind);
            }
        });
        view! {
            <Show when=move || visible.get()>
                {
                    let hook = use_event_source::<Num>(url("/scenario/named"), "chat");
                    put(&s, hook);
                    move || hook.message.get().map(|m| m.data.n)
                }
            </Show>
        }
    });
    let hook = taken(&slot);
    wait_until("open, as the effect saw it", 5_000, || {
        seen.borrow().last() == Some(&Some("open"))
    })
    .await;
    let before = seen.borrow().len();
    visible.set(false);
    // Past the effects of the unmount (a macrotask, then a little more).
    gloo_timers::future::TimeoutFuture::new(100).await;
    assert!(
        hook.state.try_get_untracked().is_none(),
        "the signal was disposed"
    );
    assert_eq!(
        seen.borrow()[before..],
        [],
        "the effect ran after the unmount: {:?}",
        seen.borrow()
    );
}

#[wasm_bindgen_test]
async fn a_new_url_replaces_the_connection() {
    let token = token("leptos-url");
    let slot: Slot<Num> = Slot::default();
    let address = RwSignal::new(url(&format!("/scenario/named?token={token}&v=1")));
    let s = slot.clone();
    // Every URL an effect saw, from an effect made after the hook's: when it has seen a
    // value, so has the hook's.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let seen_in = seen.clone();
    let _app = mount_to(fresh_div(), move || {
        put(&s, use_event_source::<Num>(address, "chat"));
        Effect::new(move |_| seen_in.borrow_mut().push(address.get()));
    });
    let hook = taken(&slot);
    wait_until("chat 3", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(3)
    })
    .await;
    address.set(url(&format!("/scenario/named?token={token}&v=2")));
    let log = records(&token, 2).await;
    assert!(
        log[1]["path"].as_str().is_some_and(|p| p.contains("v=2")),
        "{log:?}"
    );
    until_stream_ended(&token, 0).await;
    wait_until("open on the new url", 5_000, || {
        hook.state.get_untracked().is_open()
    })
    .await;
    // The same URL again opens nothing: the next request is the next URL's.
    address.set(url(&format!("/scenario/named?token={token}&v=2")));
    wait_until("the effects to see v=2 twice", 2_000, || {
        seen.borrow().iter().filter(|u| u.ends_with("v=2")).count() == 2
    })
    .await;
    address.set(url(&format!("/scenario/named?token={token}&v=3")));
    let log = records(&token, 3).await;
    assert!(
        log[2]["path"].as_str().is_some_and(|p| p.contains("v=3")),
        "{log:?}"
    );
}

#[wasm_bindgen_test]
async fn a_new_url_shows_nothing_of_the_old_connection_until_its_own_events() {
    // What broke: after a URL change, `message`, the `on` signals and `error` kept the
    // old URL's last event and decode error until the new connection sent its own (a
    // chat showed the last room's message under the new room).
    let token = token("leptos-url-clears");
    let slot: Slot<Num> = Slot::default();
    let other_slot = Rc::new(RefCell::new(
        None::<Signal<Option<wasm_eventsource::Message<Num>>>>,
    ));
    let address = RwSignal::new(url(&format!("/scenario/bad-json?token={token}")));
    // Every value of `message` an effect saw, in order.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (s, o, seen_in) = (slot.clone(), other_slot.clone(), seen.clone());
    let _app = mount_to(fresh_div(), move || {
        let hook = use_event_source::<Num>(address, "message");
        *o.borrow_mut() = Some(hook.on::<Num>("message"));
        put(&s, hook);
        Effect::new(move |_| {
            let n = hook.message.get().map(|m| m.data.n);
            seen_in.borrow_mut().push(n);
        });
    });
    let hook = taken(&slot);
    let other = other_slot.borrow().expect("the component ran");
    wait_until("event 3 and the decode error", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(3)
            && other.get_untracked().map(|m| m.data.n) == Some(3)
            && hook.error.get_untracked().is_some()
    })
    .await;
    // The new URL's first request gets no answer: nothing arrives on it until the
    // reconnect below.
    address.set(url(&format!(
        "/scenario/stall-headers?count=1&after=2&token={token}"
    )));
    records(&token, 2).await;
    wait_until("the signals cleared, and seen so", 2_000, || {
        hook.message.get_untracked().is_none()
            && other.get_untracked().is_none()
            && hook.error.get_untracked().is_none()
            && seen.borrow().last() == Some(&None)
    })
    .await;
    let cleared_at = seen.borrow().len();
    assert!(
        matches!(
            hook.state.get_untracked(),
            ConnectionState::Connecting { .. }
        ),
        "the new connection's state: {:?}",
        hook.state.get_untracked()
    );
    hook.reconnect();
    wait_until("the new url's event 2", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(2)
            && other.get_untracked().map(|m| m.data.n) == Some(2)
    })
    .await;
    assert_eq!(hook.error.get_untracked(), None);
    let seen = seen.borrow();
    assert!(
        seen[cleared_at..].iter().all(|n| *n != Some(3)),
        "nothing of the old url after the change: {seen:?}"
    );
}

#[wasm_bindgen_test]
async fn close_and_reconnect_control_the_connection() {
    let slot: Slot<Num> = Slot::default();
    let s = slot.clone();
    let _app = mount_to(fresh_div(), move || {
        put(&s, use_event_source::<Num>(url("/scenario/named"), "chat"));
    });
    let hook = taken(&slot);
    wait_until("open", 5_000, || hook.state.get_untracked().is_open()).await;
    hook.close();
    assert_eq!(
        hook.state.get_untracked(),
        ConnectionState::Closed {
            reason: CloseReason::ClosedByClient
        }
    );
    // Once closed, reconnect() opens a new connection to the same URL.
    hook.reconnect();
    wait_until("open again", 5_000, || hook.state.get_untracked().is_open()).await;
}

/// The hook in request mode, mounted: a prompt POSTed to the test server's OpenAI
/// scenario (4 tokens) under `token`; the mount is kept while its handle lives.
fn ask(token: &str) -> (UseEventSource<serde_json::Value>, impl Sized) {
    ask_paced(token, 2)
}

/// [`ask`], its tokens `pace_ms` apart.
fn ask_paced(token: &str, pace_ms: u32) -> (UseEventSource<serde_json::Value>, impl Sized) {
    ask_at(url(&format!(
        "/scenario/llm/openai-chat?tokens=4&pace_ms={pace_ms}&token={token}"
    )))
}

/// [`ask`] at `address` (a URL, or a signal of one).
fn ask_at<U>(address: U) -> (UseEventSource<serde_json::Value>, impl Sized)
where
    U: Into<Signal<String>> + Clone + 'static,
{
    let slot: Slot<serde_json::Value> = Slot::default();
    let s = slot.clone();
    let body = serde_json::json!({
        "model": "m", "stream": true,
        "messages": [{ "role": "user", "content": "Hello" }],
    })
    .to_string();
    let app = mount_to(fresh_div(), move || {
        let options = Options::new()
            .request()
            .method("POST")
            .header("Content-Type", "application/json")
            .body(body.clone());
        put(
            &s,
            use_event_source_with_options::<serde_json::Value>(address.clone(), "message", options),
        );
    });
    (taken(&slot), app)
}

#[wasm_bindgen_test]
async fn a_request_stream_through_the_hook_completes_and_is_sent_once() {
    let token = token("leptos-request");
    let (hook, _app) = ask(&token);
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the answer to complete", 5_000, || {
        hook.state.get_untracked() == completed
    })
    .await;
    // The last event is the final chunk: `[DONE]` reached no handler (it is no JSON).
    let last = hook.message.get_untracked().expect("an event");
    assert_eq!(last.data["choices"][0]["finish_reason"], "stop");
    assert_eq!(hook.error.get_untracked(), None);
    let posts = records(&token, 1).await;
    assert_eq!(posts.len(), 1, "completed: the POST is not sent again");
}

#[wasm_bindgen_test]
async fn reconnect_right_after_a_url_change_sends_only_the_new_request() {
    // A review feared that `set` on the URL then `reconnect()` in one handler sends the
    // old URL's request once more (the effect has not replaced the connection yet); it
    // does not: the old connection's attempt starts in a task after the effect's, which
    // drops it first. This pins that.
    let token = token("leptos-url-regenerate");
    let path = |v: u32| {
        url(&format!(
            "/scenario/llm/openai-chat?tokens=4&pace_ms=1000&token={token}&v={v}"
        ))
    };
    let address = RwSignal::new(path(1));
    let (hook, _app) = ask_at(address);
    wait_until("the first answer's first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    address.set(path(2));
    hook.reconnect();
    let log = records(&token, 2).await;
    assert!(
        log[1]["path"].as_str().is_some_and(|p| p.contains("v=2")),
        "the second request is the new URL's: {log:?}"
    );
    wait_until("the new answer's first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    assert_eq!(request_log(&token).await.len(), 2, "two requests in all");
}

#[wasm_bindgen_test]
async fn reconnect_right_before_a_url_change_sends_only_the_new_request() {
    // What broke (a review): `reconnect()` then a URL change in one handler opened the
    // old URL again at once, and its attempt, queued before the effect that replaces
    // it, called fetch with the old request before the effect cut it.
    let token = token("leptos-regenerate-url");
    let path = |v: u32| {
        url(&format!(
            "/scenario/llm/openai-chat?tokens=4&pace_ms=1000&token={token}&v={v}"
        ))
    };
    let address = RwSignal::new(path(1));
    let (hook, _app) = ask_at(address);
    wait_until("the first answer's first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    common::record_fetches();
    hook.reconnect();
    address.set(path(2));
    wait_until("the new answer's first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    let urls = common::recorded_fetches();
    assert_eq!(
        urls.iter().map(|u| u.contains("v=2")).collect::<Vec<_>>(),
        [true],
        "one fetch, the new URL's: {urls:?}"
    );
}

#[wasm_bindgen_test]
async fn close_right_after_reconnect_leaves_the_answer_closed() {
    // What broke (a review of the deferred reconnect): `reconnect(); close()` in one
    // handler closed the old answer, then the reconnection, opened a microtask later,
    // sent the request again.
    let token = token("leptos-reconnect-close");
    let (hook, _app) = ask(&token);
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the answer to complete", 5_000, || {
        hook.state.get_untracked() == completed
    })
    .await;
    common::record_fetches();
    hook.reconnect();
    hook.reconnect();
    hook.close();
    // A task of the browser's: every microtask queued before it (the deferred open,
    // the attempt it would start) has run.
    gloo_timers::future::TimeoutFuture::new(0).await;
    assert_eq!(
        common::recorded_fetches(),
        Vec::<String>::new(),
        "no request sent again"
    );
    assert_eq!(
        hook.state.get_untracked(),
        ConnectionState::Closed {
            reason: CloseReason::ClosedByClient
        }
    );
    // Reconnected twice, then a second time after the close: one request.
    hook.reconnect();
    hook.reconnect();
    wait_until("the new answer to complete", 5_000, || {
        hook.state.get_untracked() == completed
    })
    .await;
    assert_eq!(records(&token, 2).await.len(), 2, "one request sent again");
}

#[wasm_bindgen_test]
async fn a_feed_reopened_after_its_stream_cleared_the_id_does_not_go_back_to_the_header() {
    // What broke (a review): a `Last-Event-ID` header is the first last event id, and
    // a feed reopened with an empty id (`reconnect()` after a close, once the stream
    // had cleared it) took the header's again.
    let token = token("leptos-header-cleared");
    let slot: Slot<serde_json::Value> = Slot::default();
    let s = slot.clone();
    let path = url(&format!(
        "/scenario/end-after/2?clear_id=1&linger_ms=60000&token={token}"
    ));
    let _app = mount_to(fresh_div(), move || {
        let options = Options::new()
            .transport(Transport::Fetch)
            .header("Last-Event-ID", "1");
        put(
            &s,
            use_event_source_with_options::<serde_json::Value>(path.clone(), "message", options),
        );
    });
    let hook = taken(&slot);
    wait_until("the block that clears the id", 5_000, || {
        hook.message
            .get_untracked()
            .is_some_and(|m| m.data["n"] == "cleared")
    })
    .await;
    hook.close();
    hook.reconnect();
    let log = records(&token, 2).await;
    assert_eq!(
        (&log[0]["lastEventId"], &log[1]["lastEventId"]),
        (&"1".into(), &serde_json::Value::Null),
        "the first request from the header's id, the reopened one from none"
    );
}

#[wasm_bindgen_test]
async fn reconnect_while_the_answer_streams_sends_the_request_again_fresh() {
    // What broke (a review): reconnect() while the answer still streamed called the
    // source's reconnect(), which cuts the answer: this one has no ids, so it closed as
    // interrupted, and no new answer came, though the docs promise one.
    let token = token("leptos-regenerate-open");
    let (hook, _app) = ask_paced(&token, 1_000);
    wait_until("the first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    assert!(!hook.state.get_untracked().is_closed(), "still streaming");
    hook.reconnect();
    assert!(
        hook.message.get_untracked().is_none(),
        "the old answer's message goes"
    );
    let log = records(&token, 2).await;
    assert_eq!(
        log[1]["lastEventId"],
        serde_json::Value::Null,
        "a new answer, not a resume: {log:?}"
    );
    wait_until("the new answer's first chunk", 5_000, || {
        hook.message.get_untracked().is_some()
    })
    .await;
    assert!(
        !hook.state.get_untracked().is_closed(),
        "the new answer streams"
    );
}

#[wasm_bindgen_test]
async fn a_feed_opened_again_by_reconnect_resumes_after_its_last_event() {
    // What broke (a review): the feed opened again by reconnect() started from nothing,
    // so what was published while it was closed never came.
    let channel = token("leptos-reopen");
    let slot: Slot<Num> = Slot::default();
    let s = slot.clone();
    let path = format!("/events?channel={channel}");
    let _app = mount_to(fresh_div(), move || {
        put(&s, use_event_source::<Num>(url(&path), "message"));
    });
    let hook = taken(&slot);
    wait_until("open", 5_000, || hook.state.get_untracked().is_open()).await;
    let publish =
        |n: u32| serde_json::json!({"channel": channel, "event": "message", "data": {"n": n}});
    assert_eq!(common::post_json("/publish", &publish(1)).await, 200);
    wait_until("message 1", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(1)
    })
    .await;
    hook.close();
    assert_eq!(common::post_json("/publish", &publish(2)).await, 200);
    hook.reconnect();
    wait_until("message 2, published while closed", 5_000, || {
        hook.message.get_untracked().map(|m| m.data.n) == Some(2)
    })
    .await;
}

#[wasm_bindgen_test]
async fn reconnect_on_a_completed_answer_starts_the_new_answer_over() {
    // What broke: "regenerate" (reconnect() once the answer completed) sent the request
    // again, but the hook went on showing the old answer's last event until the new
    // answer's first arrived (the React and Vue hooks start over).
    let token = token("leptos-regenerate");
    let (hook, _app) = ask(&token);
    let finished = hook.on::<serde_json::Value>("message");
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the first answer to complete", 5_000, || {
        hook.state.get_untracked() == completed
    })
    .await;
    assert_eq!(
        (
            hook.message.get_untracked().is_some(),
            finished.get_untracked().is_some()
        ),
        (true, true),
        "the first answer shows, in the message and the `on` signal"
    );
    hook.reconnect();
    assert_eq!(
        (
            hook.message.get_untracked().is_some(),
            finished.get_untracked().is_some()
        ),
        (false, false),
        "the message and an `on` signal once the request is sent again"
    );
    wait_until("the second answer to complete", 5_000, || {
        hook.state.get_untracked() == completed
    })
    .await;
    assert_eq!(
        records(&token, 2).await.len(),
        2,
        "the request was sent again"
    );
    assert!(
        hook.message.get_untracked().is_some(),
        "the new answer shows"
    );
}
