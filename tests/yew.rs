//! Browser tests of the Yew hook (`--features yew`): each renders a component into a
//! fresh `<div>` and talks to the real test server (`SSE_TEST_SERVER`).
#![cfg(all(target_arch = "wasm32", feature = "yew"))]

mod common;

use common::{request_log, token, url, wait_until};
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::*;
use wasm_eventsource::yew::{
    use_event_source, use_event_source_with_options, UseEventSourceHandle,
};
use wasm_eventsource::{CloseReason, ConnectionState, Options};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Num {
    n: u32,
}

/// What a test shares with a component through its props: equal when it is the same.
struct Shared<T>(Rc<RefCell<T>>);

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Shared(Rc::default())
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What the component saw at each render, and its latest hook handles (the second
/// one is `None` for [`Feed`]).
type Seen = Shared<SeenInner>;

#[derive(Default)]
struct SeenInner {
    states: Vec<ConnectionState>,
    /// The `n` of the hook's message at each render.
    messages: Vec<Option<u32>>,
    /// The URL of each render (of `Feed`).
    urls: Vec<String>,
    hook: Option<UseEventSourceHandle<Num>>,
    /// The handle of each render (of `Feed`).
    handles: Vec<UseEventSourceHandle<Num>>,
    second: Option<UseEventSourceHandle<Num>>,
}

impl Seen {
    fn hook(&self) -> UseEventSourceHandle<Num> {
        self.0
            .borrow()
            .hook
            .clone()
            .expect("the component rendered")
    }

    fn second(&self) -> UseEventSourceHandle<Num> {
        self.0
            .borrow()
            .second
            .clone()
            .expect("the component rendered")
    }

    /// The index of the first render (of `Feed`) with a URL ending in `path`.
    fn first_render_of(&self, path: &str) -> usize {
        self.0
            .borrow()
            .urls
            .iter()
            .position(|u| u.ends_with(path))
            .expect("a render with the new url")
    }

    /// Renders happen in Yew's scheduler, after `render()` returns.
    async fn first_render(&self) {
        wait_until("the first render", 2_000, || self.0.borrow().hook.is_some()).await;
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.0
            .borrow()
            .states
            .iter()
            .map(ConnectionState::kind)
            .collect()
    }
}

#[derive(Properties, PartialEq)]
struct Props {
    url: AttrValue,
    event_type: AttrValue,
    seen: Seen,
}

/// One hook; records each render.
#[function_component]
fn Feed(props: &Props) -> Html {
    let hook = use_event_source::<Num>(props.url.to_string(), props.event_type.to_string());
    {
        let mut seen = props.seen.0.borrow_mut();
        seen.states.push(hook.state());
        seen.messages.push(hook.message().map(|m| m.data.n));
        seen.urls.push(props.url.to_string());
        seen.handles.push(hook.clone());
        seen.hook = Some(hook.clone());
    }
    html! { <p>{ hook.message().map(|m| m.data.n) }</p> }
}

/// Two hooks on the same URL: `event_type`, and the default type `message`.
#[function_component]
fn TwoTypes(props: &Props) -> Html {
    let hook = use_event_source::<Num>(props.url.to_string(), props.event_type.to_string());
    let second = use_event_source::<Num>(props.url.to_string(), "message");
    {
        let mut seen = props.seen.0.borrow_mut();
        seen.hook = Some(hook.clone());
        seen.second = Some(second.clone());
    }
    html! {
        <>
            <p>{ hook.message().map(|m| m.data.n) }</p>
            <p>{ second.message().map(|m| m.data.n) }</p>
        </>
    }
}

/// A new `<div>` in the page's body, to render one test's component into.
fn fresh_div() -> web_sys::Element {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let div = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&div)
        .expect("the div is added");
    div
}

fn props(path: &str, event_type: &'static str, seen: &Seen) -> Props {
    Props {
        url: url(path).into(),
        event_type: event_type.into(),
        seen: seen.clone(),
    }
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

fn latest_n(hook: &UseEventSourceHandle<Num>) -> Option<u32> {
    hook.message().map(|m| m.data.n)
}

#[wasm_bindgen_test]
async fn receives_typed_events_and_a_second_type_through_a_second_hook() {
    let seen = Seen::default();
    let div = fresh_div();
    let app = yew::Renderer::<TwoTypes>::with_root_and_props(
        div.clone(),
        props("/scenario/named", "chat", &seen),
    )
    .render();
    seen.first_render().await;
    wait_until("chat 3 and message 2", 5_000, || {
        latest_n(&seen.hook()) == Some(3) && latest_n(&seen.second()) == Some(2)
    })
    .await;
    let chat = seen.hook().message().expect("a chat event");
    assert_eq!(chat.event_type, "chat");
    assert_eq!(chat.origin, common::SERVER);
    assert_eq!(
        seen.second().message().expect("a message").event_type,
        "message"
    );
    assert_eq!(seen.hook().state(), ConnectionState::Open);
    assert_eq!(seen.hook().error(), None);
    assert_eq!(div.text_content().as_deref(), Some("32"));
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_payload_that_does_not_decode_is_the_error() {
    let seen = Seen::default();
    let app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props("/scenario/bad-json", "message", &seen),
    )
    .render();
    seen.first_render().await;
    wait_until("event 3 after the bad one", 5_000, || {
        latest_n(&seen.hook()) == Some(3)
    })
    .await;
    let err = seen.hook().error().expect("a decode error");
    assert_eq!(err.data, "{not json");
    assert_eq!(err.event_type, "message");
    assert_eq!(err.last_event_id, "2");
    assert!(err.target.ends_with("Num"), "{}", err.target);
    app.destroy();
}

#[wasm_bindgen_test]
async fn the_state_follows_a_server_drop() {
    let seen = Seen::default();
    let app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props("/scenario/drop-every/2?total=6&retry=10", "message", &seen),
    )
    .render();
    seen.first_render().await;
    wait_until("event 6", 5_000, || latest_n(&seen.hook()) == Some(6)).await;
    wait_until("open again", 2_000, || seen.hook().state().is_open()).await;
    let kinds = seen.kinds();
    assert_eq!(kinds.first(), Some(&"connecting"), "{kinds:?}");
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
    app.destroy();
}

#[wasm_bindgen_test]
async fn unmounting_the_component_closes_the_connection() {
    let token = token("yew-unmount");
    let seen = Seen::default();
    let app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props(
            &format!("/scenario/named?retry=20&token={token}"),
            "chat",
            &seen,
        ),
    )
    .render();
    seen.first_render().await;
    wait_until("open", 5_000, || seen.hook().state().is_open()).await;
    let log = records(&token, 1).await;
    assert_eq!(log[0]["open"], serde_json::Value::Bool(true), "{log:?}");
    app.destroy();
    until_stream_ended(&token, 0).await;
    // The server asked for a 20 ms reconnection time: a source still alive would have
    // reconnected many times over by now.
    gloo_timers::future::TimeoutFuture::new(500).await;
    assert_eq!(request_log(&token).await.len(), 1, "nothing reconnected");
}

#[wasm_bindgen_test]
async fn a_new_url_replaces_the_connection() {
    let token = token("yew-url");
    let seen = Seen::default();
    let mut app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props(&format!("/scenario/named?token={token}&v=1"), "chat", &seen),
    )
    .render();
    seen.first_render().await;
    wait_until("chat 3", 5_000, || latest_n(&seen.hook()) == Some(3)).await;
    app.update(props(
        &format!("/scenario/named?token={token}&v=2"),
        "chat",
        &seen,
    ));
    let log = records(&token, 2).await;
    assert!(
        log[1]["path"].as_str().is_some_and(|p| p.contains("v=2")),
        "{log:?}"
    );
    until_stream_ended(&token, 0).await;
    wait_until("open on the new url", 5_000, || {
        seen.hook().state().is_open()
    })
    .await;
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_new_url_shows_nothing_of_the_old_connection_until_its_own_events() {
    // What broke: after a URL change, `message()` and `error()` kept the old URL's last
    // event and decode error until the new connection sent its own (a chat showed the
    // last room's message under the new room); then, once cleared by the effect, the
    // render that brought the new URL still showed them, and the old connection's state.
    let token = token("yew-url-clears");
    let seen = Seen::default();
    let mut app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props(
            &format!("/scenario/bad-json?token={token}"),
            "message",
            &seen,
        ),
    )
    .render();
    seen.first_render().await;
    wait_until("event 3 and the decode error", 5_000, || {
        latest_n(&seen.hook()) == Some(3) && seen.hook().error().is_some()
    })
    .await;
    // The new URL's first request gets no answer: nothing arrives on it until the
    // reconnect below.
    let new_url = format!("/scenario/stall-headers?count=1&after=2&token={token}");
    app.update(props(&new_url, "message", &seen));
    records(&token, 2).await;
    wait_until("a render with neither", 2_000, || {
        let hook = seen.hook();
        hook.message().is_none()
            && hook.error().is_none()
            && seen.0.borrow().messages.last() == Some(&None)
    })
    .await;
    let cleared_at = seen.0.borrow().messages.len();
    assert!(
        matches!(seen.hook().state(), ConnectionState::Connecting { .. }),
        "the new connection's state: {:?}",
        seen.hook().state()
    );
    seen.hook().reconnect();
    wait_until("the new url's event 2", 5_000, || {
        latest_n(&seen.hook()) == Some(2)
    })
    .await;
    assert_eq!(seen.hook().error(), None);
    let messages = seen.0.borrow().messages.clone();
    assert!(
        messages[cleared_at..].iter().all(|n| *n != Some(3)),
        "nothing of the old url after the change: {messages:?}"
    );
    // No render with the new URL showed the old message or the old connection's state.
    let first = seen.first_render_of(&new_url);
    let inner = seen.0.borrow();
    assert_eq!(
        inner.messages[first..].iter().position(|n| *n == Some(3)),
        None,
        "renders with the new url: {:?}",
        &inner.messages[first..]
    );
    assert!(
        matches!(
            inner.states[first],
            ConnectionState::Connecting { attempt: 0 }
        ),
        "the state in the render that brought the new url: {:?}",
        inner.states[first]
    );
    drop(inner);
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_handle_kept_from_the_render_that_brought_a_new_url_reads_its_connection() {
    // What broke: the render that brings a new URL hides the old connection's values
    // (a flag copied into its handle), and nothing cleared the flag once the effect
    // opened the new connection: a handle kept from that render (an effect or callback
    // keyed by the URL keeps exactly that one) read `Connecting` and no message for as
    // long as the URL stayed, whatever its connection did.
    let seen = Seen::default();
    let mut app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props(
            &format!("/scenario/named?token={}", token("yew-kept-a")),
            "chat",
            &seen,
        ),
    )
    .render();
    seen.first_render().await;
    wait_until("the first url's events", 5_000, || {
        latest_n(&seen.hook()).is_some()
    })
    .await;
    let new_url = format!("/scenario/named?token={}", token("yew-kept-b"));
    app.update(props(&new_url, "chat", &seen));
    wait_until("the new url's events", 5_000, || {
        let inner = seen.0.borrow();
        inner.urls.last().is_some_and(|u| u.ends_with(&new_url))
            && latest_n(&seen.hook()).is_some()
            && seen.hook().state().is_open()
    })
    .await;
    let kept = seen.0.borrow().handles[seen.first_render_of(&new_url)].clone();
    assert_eq!(kept.state(), seen.hook().state());
    assert_eq!(
        kept.message().map(|m| m.data.n),
        seen.hook().message().map(|m| m.data.n)
    );
    app.destroy();
}

#[wasm_bindgen_test]
async fn close_and_reconnect_control_the_connection() {
    let seen = Seen::default();
    let app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props("/scenario/named", "chat", &seen),
    )
    .render();
    seen.first_render().await;
    // The handle of the first render, kept as a callback made once would keep it.
    let first = seen.hook();
    wait_until("open", 5_000, || seen.hook().state().is_open()).await;
    seen.hook().close();
    wait_until("closed", 2_000, || {
        seen.hook().state()
            == ConnectionState::Closed {
                reason: CloseReason::ClosedByClient,
            }
    })
    .await;
    // Once closed, reconnect() opens a new connection.
    seen.hook().reconnect();
    wait_until("open again", 5_000, || seen.hook().state().is_open()).await;
    // A handle kept from the first render (a callback made once) closes and reopens
    // again and again: Yew 0.23's state handles read the live value, so its reconnect()
    // moves the generation on from the current one. (A review took them for snapshots,
    // which would reopen once and then do nothing; this pins it.)
    let kept = first;
    for round in 1..=2 {
        kept.close();
        wait_until("closed", 2_000, || seen.hook().state().is_closed()).await;
        kept.reconnect();
        wait_until(&format!("open again, round {round}"), 5_000, || {
            seen.hook().state().is_open()
        })
        .await;
    }
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_handler_on_the_hooks_source_sees_every_event_of_a_burst() {
    let channel = token("yew-source");
    let seen_by_render = Seen::default();
    let app = yew::Renderer::<Feed>::with_root_and_props(
        fresh_div(),
        props(
            &format!("/events?channel={channel}"),
            "message",
            &seen_by_render,
        ),
    )
    .render();
    seen_by_render.first_render().await;
    wait_until("open", 5_000, || seen_by_render.hook().state().is_open()).await;
    let source = seen_by_render.hook().source().expect("the open connection");
    common::a_handler_sees_three_published_at_once(&source, &channel).await;
    app.destroy();
}

/// The latest handle of [`Tokened`]'s hook, and how many times it rendered.
type TokenedSeen = Shared<(Option<UseEventSourceHandle<Num>>, u32)>;

#[derive(Properties, PartialEq)]
struct TokenedProps {
    url: AttrValue,
    seen: TokenedSeen,
}

/// Options built in the body, with a new header closure (and policy predicate) at
/// every render: the header says which render made it.
#[function_component]
fn Tokened(props: &TokenedProps) -> Html {
    let render = {
        let mut seen = props.seen.0.borrow_mut();
        seen.1 += 1;
        seen.1
    };
    let options = Options::new()
        .transport(wasm_eventsource::Transport::Fetch)
        .headers_with(move || vec![("X-Render".to_owned(), render.to_string())])
        .reconnect_policy(wasm_eventsource::ReconnectPolicy::new().retry_if(|_| true));
    let hook = use_event_source_with_options::<Num>(props.url.to_string(), "message", options);
    props.seen.0.borrow_mut().0 = Some(hook.clone());
    html! { <p>{ hook.state().kind() }</p> }
}

#[wasm_bindgen_test]
async fn options_with_new_closures_at_each_render_keep_the_connection_and_the_latest_is_called() {
    // What broke: callbacks compared by identity, so options built in the component's
    // body differed at every render; each render closed the connection and opened
    // another, whose first state rendered again: an endless open-close loop.
    let token = token("yew-closures");
    let seen = TokenedSeen::default();
    let app = yew::Renderer::<Tokened>::with_root_and_props(
        fresh_div(),
        TokenedProps {
            url: url(&format!("/scenario/stall?after=1&token={token}")).into(),
            seen: seen.clone(),
        },
    )
    .render();
    let hook = || seen.0.borrow().0.clone().expect("the component rendered");
    wait_until("the first render", 2_000, || seen.0.borrow().0.is_some()).await;
    wait_until("event 1", 5_000, || {
        hook().message().map(|m| m.data.n) == Some(1)
    })
    .await;
    let render_of = |record: &serde_json::Value| -> u32 {
        record["headers"]["x-render"]
            .as_str()
            .and_then(|n| n.parse().ok())
            .expect("a numeric X-Render")
    };
    let first = records(&token, 1).await;
    assert_eq!(first.len(), 1, "one request across the renders: {first:?}");
    let first = render_of(&first[0]);
    // The next attempt calls the header closure of the latest render (the renders of
    // Open and event 1 came after the first attempt).
    let renders = seen.0.borrow().1;
    assert!(
        renders > first,
        "{renders} renders, the first request at {first}"
    );
    hook().reconnect();
    let both = records(&token, 2).await;
    assert_eq!(both.len(), 2, "{both:?}");
    let second = render_of(&both[1]);
    assert!(
        second >= renders,
        "the reconnect sent render {second}'s header, {renders} renders before it"
    );
    app.destroy();
}

/// The latest handle of [`Ask`]'s hook, for the test to read.
type AskSlot = Rc<RefCell<Option<UseEventSourceHandle<serde_json::Value>>>>;

#[derive(Properties)]
struct AskProps {
    url: AttrValue,
    seen: AskSlot,
    /// Whether each render showed a message.
    shown: Shared<Vec<bool>>,
}

impl PartialEq for AskProps {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url && Rc::ptr_eq(&self.seen, &other.seen) && self.shown == other.shown
    }
}

/// Request mode: a prompt POSTed to the test server's OpenAI scenario.
fn ask_options() -> Options {
    let body = serde_json::json!({
        "model": "m", "stream": true,
        "messages": [{ "role": "user", "content": "Hello" }],
    })
    .to_string();
    Options::new()
        .request()
        .method("POST")
        .header("Content-Type", "application/json")
        .body(body)
}

/// The hook in request mode: a POSTed prompt.
#[function_component]
fn Ask(props: &AskProps) -> Html {
    let hook = use_event_source_with_options::<serde_json::Value>(
        props.url.to_string(),
        "message",
        ask_options(),
    );
    *props.seen.borrow_mut() = Some(hook.clone());
    props.shown.0.borrow_mut().push(hook.message().is_some());
    html! { <p>{ hook.state().kind() }</p> }
}

/// `Ask` rendered, for a prompt to the test server's OpenAI scenario (4 tokens) under
/// `token`.
fn render_ask(token: &str, seen: &AskSlot, shown: Shared<Vec<bool>>) -> yew::AppHandle<Ask> {
    yew::Renderer::<Ask>::with_root_and_props(
        fresh_div(),
        AskProps {
            url: url(&format!(
                "/scenario/llm/openai-chat?tokens=4&pace_ms=2&token={token}"
            ))
            .into(),
            seen: seen.clone(),
            shown,
        },
    )
    .render()
}

#[wasm_bindgen_test]
async fn a_request_stream_through_the_hook_completes_and_is_sent_once() {
    let token = token("yew-request");
    let seen: AskSlot = Rc::default();
    let app = render_ask(&token, &seen, Shared::default());
    let hook = || seen.borrow().clone().expect("the component rendered");
    wait_until("the first render", 2_000, || seen.borrow().is_some()).await;
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the answer to complete", 5_000, || {
        hook().state() == completed
    })
    .await;
    // The last event is the final chunk: `[DONE]` reached no handler (it is no JSON).
    let last = hook().message().expect("an event");
    assert_eq!(last.data["choices"][0]["finish_reason"], "stop");
    assert_eq!(hook().error(), None);
    let posts = records(&token, 1).await;
    assert_eq!(posts.len(), 1, "completed: the POST is not sent again");
    app.destroy();
}

#[wasm_bindgen_test]
async fn reconnect_while_the_answer_streams_sends_the_request_again_fresh() {
    // What broke (a review): reconnect() while the answer still streamed called the
    // source's reconnect(), which cuts the answer: this one has no ids, so it closed as
    // interrupted, and no new answer came, though the docs promise one.
    let token = token("yew-regenerate-open");
    let seen: AskSlot = Rc::default();
    let app = yew::Renderer::<Ask>::with_root_and_props(
        fresh_div(),
        AskProps {
            url: url(&format!(
                "/scenario/llm/openai-chat?tokens=4&pace_ms=1000&token={token}"
            ))
            .into(),
            seen: seen.clone(),
            shown: Shared::default(),
        },
    )
    .render();
    let hook = || seen.borrow().clone().expect("the component rendered");
    wait_until("the first render", 2_000, || seen.borrow().is_some()).await;
    wait_until("the first chunk", 5_000, || hook().message().is_some()).await;
    assert!(!hook().state().is_closed(), "still streaming");
    hook().reconnect();
    let log = records(&token, 2).await;
    assert_eq!(
        log[1]["lastEventId"],
        serde_json::Value::Null,
        "a new answer, not a resume: {log:?}"
    );
    wait_until("the new answer's first chunk, streaming", 5_000, || {
        hook().message().is_some() && !hook().state().is_closed()
    })
    .await;
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_feed_opened_again_by_reconnect_resumes_after_its_last_event() {
    // What broke (a review): the feed opened again by reconnect() started from nothing,
    // so what was published while it was closed never came.
    let channel = token("yew-reopen");
    let seen = Seen::default();
    let path = format!("/events?channel={channel}");
    let app =
        yew::Renderer::<Feed>::with_root_and_props(fresh_div(), props(&path, "message", &seen))
            .render();
    seen.first_render().await;
    wait_until("open", 5_000, || seen.hook().state().is_open()).await;
    let publish =
        |n: u32| serde_json::json!({"channel": channel, "event": "message", "data": {"n": n}});
    assert_eq!(common::post_json("/publish", &publish(1)).await, 200);
    wait_until("message 1", 5_000, || {
        seen.hook().message().map(|m| m.data.n) == Some(1)
    })
    .await;
    seen.hook().close();
    wait_until("closed", 2_000, || seen.hook().state().is_closed()).await;
    assert_eq!(common::post_json("/publish", &publish(2)).await, 200);
    seen.hook().reconnect();
    wait_until("message 2, published while closed", 5_000, || {
        seen.hook().message().map(|m| m.data.n) == Some(2)
    })
    .await;
    app.destroy();
}

#[wasm_bindgen_test]
async fn reconnect_on_a_completed_answer_starts_the_new_answer_over() {
    // What broke: "regenerate" (reconnect() once the answer completed) sent the request
    // again, but the hook went on showing the old answer's last event until the new
    // answer's first arrived (the React and Vue hooks start over).
    let token = token("yew-regenerate");
    let seen: AskSlot = Rc::default();
    let shown: Shared<Vec<bool>> = Shared::default();
    let app = render_ask(&token, &seen, shown.clone());
    let hook = || seen.borrow().clone().expect("the component rendered");
    wait_until("the first render", 2_000, || seen.borrow().is_some()).await;
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the first answer to complete", 5_000, || {
        hook().state() == completed
    })
    .await;
    assert!(hook().message().is_some(), "the first answer shows");
    let before = shown.0.borrow().len();
    hook().reconnect();
    // (Sent once the effect opened the new source, whose state replaced `completed`.)
    assert_eq!(
        records(&token, 2).await.len(),
        2,
        "the request was sent again"
    );
    wait_until("the second answer to complete, shown", 5_000, || {
        hook().state() == completed && shown.0.borrow().last() == Some(&true)
    })
    .await;
    let after: Vec<bool> = shown.0.borrow()[before..].to_vec();
    assert_eq!(
        after.first(),
        Some(&false),
        "the renders after reconnect() (true: a message shown): {after:?}"
    );
    assert_eq!(after.last(), Some(&true), "the new answer shows: {after:?}");
    app.destroy();
}

/// What `Parent` and the `Line` it renders with its hook's handle as a prop rendered.
type Lines = Shared<LinesInner>;

#[derive(Default)]
struct LinesInner {
    parent_renders: u32,
    /// The message each render of the child showed.
    child: Vec<Option<u32>>,
    /// Renders the parent again, with nothing new for the child.
    bump: Option<Callback<()>>,
}

#[derive(Properties, PartialEq)]
struct ParentProps {
    url: AttrValue,
    lines: Lines,
}

#[derive(Properties, PartialEq)]
struct LineProps {
    hook: UseEventSourceHandle<Num>,
    lines: Lines,
}

#[function_component]
fn Line(props: &LineProps) -> Html {
    let n = props.hook.message().map(|m| m.data.n);
    props.lines.0.borrow_mut().child.push(n);
    html! { <p>{ n }</p> }
}

#[function_component]
fn Parent(props: &ParentProps) -> Html {
    let hook = use_event_source::<Num>(props.url.to_string(), "chat");
    let unrelated = use_state(|| 0u32);
    {
        let mut lines = props.lines.0.borrow_mut();
        lines.parent_renders += 1;
        let unrelated = unrelated.clone();
        lines.bump = Some(Callback::from(move |()| unrelated.set(*unrelated + 1)));
    }
    html! {
        <>
            <Line hook={hook} lines={props.lines.clone()} />
            <span>{ *unrelated }</span>
        </>
    }
}

#[wasm_bindgen_test]
async fn a_handle_as_a_child_prop_renders_the_child_when_what_it_shows_changes() {
    // What broke: the handle had no `PartialEq`, so it could not be a child component's
    // prop (Yew's `Properties` need one): it did not compile.
    let lines = Lines::default();
    let app = yew::Renderer::<Parent>::with_root_and_props(
        fresh_div(),
        ParentProps {
            url: url("/scenario/named").into(),
            lines: lines.clone(),
        },
    )
    .render();
    // The child renders again as the messages change.
    wait_until("the child shows chat 3", 5_000, || {
        lines.0.borrow().child.last() == Some(&Some(3))
    })
    .await;
    // ("chat" 3 is the scenario's last event of that type; then it idles.)
    let (parents, children) = {
        let lines = lines.0.borrow();
        (lines.parent_renders, lines.child.len())
    };
    let bump = lines.0.borrow().bump.clone().expect("the parent rendered");
    bump.emit(());
    wait_until("the parent to render again", 2_000, || {
        lines.0.borrow().parent_renders > parents
    })
    .await;
    // (A render of the child would have come in the same run of Yew's scheduler.)
    let child = lines.0.borrow().child.clone();
    assert_eq!(
        child.len(),
        children,
        "the child rendered again with nothing new to show: {child:?}"
    );
    app.destroy();
}

thread_local! {
    /// How many [`Counted`] values exist.
    static LIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One more [`Counted`] alive while it is.
struct Live;

impl Live {
    fn new() -> Self {
        LIVE.with(|live| live.set(live.get() + 1));
        Live
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Clone for Live {
    fn clone(&self) -> Self {
        Live::new()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|live| live.set(live.get() - 1));
    }
}

/// An answer's chunk (its fields left out) that counts how many of it exist.
#[derive(Clone, Deserialize)]
struct Counted {
    #[serde(skip)]
    _live: Live,
}

#[derive(Properties)]
struct KeptProps {
    url: AttrValue,
    /// The handle of the first render, kept as a callback or an interval keeps one.
    first: Shared<Option<UseEventSourceHandle<Counted>>>,
    renders: Shared<u32>,
}

impl PartialEq for KeptProps {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url && self.first == other.first && self.renders == other.renders
    }
}

/// Reads the message through the first render's handle at every render.
#[function_component]
fn Kept(props: &KeptProps) -> Html {
    let hook =
        use_event_source_with_options::<Counted>(props.url.to_string(), "message", ask_options());
    // Read through the kept handle itself (a clone has a history of its own).
    let mut first = props.first.0.borrow_mut();
    let shown = first.get_or_insert(hook).message().is_some();
    *props.renders.0.borrow_mut() += 1;
    html! { <p>{ shown }</p> }
}

#[wasm_bindgen_test]
async fn a_handle_kept_across_renders_holds_only_the_latest_message() {
    // What broke (a review): the handle read its values through Yew's state handles,
    // whose `Deref` keeps each value it reads for the handle's life: one kept in a
    // callback or an interval and read at every event held every message it had read.
    let token = token("yew-kept");
    let first = Shared::default();
    let renders = Shared::default();
    let app = yew::Renderer::<Kept>::with_root_and_props(
        fresh_div(),
        KeptProps {
            url: url(&format!(
                "/scenario/llm/openai-chat?tokens=30&pace_ms=5&token={token}"
            ))
            .into(),
            first: first.clone(),
            renders: renders.clone(),
        },
    )
    .render();
    let completed = ConnectionState::Closed {
        reason: CloseReason::Completed,
    };
    wait_until("the answer to complete", 10_000, || {
        first
            .0
            .borrow()
            .as_ref()
            .is_some_and(|h| h.state() == completed)
    })
    .await;
    let renders = *renders.0.borrow();
    assert!(renders > 10, "a render for most chunks: {renders}");
    let live = LIVE.with(std::cell::Cell::get);
    assert!(
        live <= 4,
        "{live} messages alive after {renders} renders, where the latest is all a handle shows"
    );
    app.destroy();
}
