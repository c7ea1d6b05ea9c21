//! The live chat of the test server's `chat` channel, in Yew, over
//! `wasm_eventsource::yew::use_event_source`: the feed, a form that publishes to it,
//! and the connection state with its attempt and delay.
//!
//! Built by `scripts/build-examples.sh` into `examples-dist/yew-chat/`, which the test
//! server serves at `/examples/yew-chat/`. User text is only ever rendered as text
//! nodes.

use serde::Deserialize;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_eventsource::yew::use_event_source;

use wasm_eventsource::{ConnectionState, EventSource, Message, Subscription};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The data of a `chat` event, as `POST /publish` sends it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// Renders the app into the body when the module loads.
#[wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<App>::new().render();
}

/// The messages the feed shows, the newest: a tab left open on a busy chat neither
/// grows nor slows.
const FEED_MAX: usize = 200;

#[function_component]
fn App() -> Html {
    let chat = use_event_source::<Chat>("/events?channel=chat", "chat");

    // Every message, the newest FEED_MAX: from a handler on the hook's connection, not
    // from `message()`, which is the latest at each render (Yew renders several events
    // once when they come in one task, or while its scheduler yields). Registered once
    // per connection, by an effect that runs after every render right after the hook's
    // own (which opens the connection, and another on a reconnect after a close), so
    // that no event comes before it. The rows are keyed by a number of their own, never
    // by id (a server that restarted numbers from 1 again) nor by place (the oldest go).
    let feed = use_reducer(Feed::default);
    let held = use_mut_ref(|| None::<(EventSource, Subscription)>);
    {
        let (chat, held, feed) = (chat.clone(), held.clone(), feed.dispatcher());
        use_effect(move || {
            let live = chat.source();
            let mut held = held.borrow_mut();
            if held.as_ref().map(|(source, _)| source) != live.as_ref() {
                *held = live.map(|source| {
                    let subscription = source.on::<Chat>("chat", move |res| {
                        if let Ok(msg) = res {
                            feed.dispatch(Rc::new(msg));
                        }
                    });
                    (source, subscription)
                });
            }
        });
    }
    {
        let held = held.clone();
        use_effect_with((), move |_| move || drop(held.borrow_mut().take()));
    }

    let user = use_state(|| "yew".to_owned());
    let text = use_state(String::new);
    let status = use_state(String::new);
    let on_submit = {
        let (user, text, status) = (user.clone(), text.clone(), status.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let (who, what) = ((*user).clone(), (*text).clone());
            if what.trim().is_empty() {
                return;
            }
            let (text, status) = (text.clone(), status.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match publish(&who, &what).await {
                    Ok(()) => {
                        text.set(String::new());
                        status.set(String::new());
                    }
                    Err(err) => status.set(err),
                }
            });
        })
    };
    let on_user = {
        let user = user.clone();
        Callback::from(move |ev: InputEvent| {
            user.set(ev.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let on_text = {
        let text = text.clone();
        Callback::from(move |ev: InputEvent| {
            text.set(ev.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let reconnect = {
        let chat = chat.clone();
        Callback::from(move |_| chat.reconnect())
    };
    let state = chat.state();

    html! {
        <>
            <h1>{ "Yew chat" }</h1>
            <p id="state" class={classes!("badge", state.kind())}>{ badge(&state) }</p>
            <p id="decode-error">{ chat.error().map(|e| e.to_string()) }</p>
            <ul id="feed">
                { for feed.rows.iter().map(|(n, msg)| html! {
                    <li key={*n}>
                        <b class="user">{ msg.data.user.clone() }</b>
                        { ": " }
                        <span class="text">{ msg.data.text.clone() }</span>
                    </li>
                }) }
            </ul>
            <form id="publish" onsubmit={on_submit}>
                <label>
                    { "Name " }
                    <input id="user" placeholder="name" value={(*user).clone()} oninput={on_user} />
                </label>
                <label>
                    { " Message " }
                    <input id="text" placeholder="message" value={(*text).clone()} oninput={on_text} />
                </label>
                <button type="submit">{ "Send" }</button>
                <button type="button" onclick={reconnect}>{ "Reconnect" }</button>
            </form>
            <p id="publish-status">{ (*status).clone() }</p>
        </>
    }
}

/// The feed's rows, each under a number of its own, the newest [`FEED_MAX`] (shared:
/// a new state copies only the pointers).
#[derive(Clone, Default)]
struct Feed {
    rows: VecDeque<(u64, Rc<Message<Chat>>)>,
    next: u64,
}

impl Reducible for Feed {
    type Action = Rc<Message<Chat>>;

    fn reduce(self: Rc<Self>, msg: Rc<Message<Chat>>) -> Rc<Self> {
        let mut feed = Rc::unwrap_or_clone(self);
        feed.rows.push_back((feed.next, msg));
        feed.next += 1;
        if feed.rows.len() > FEED_MAX {
            feed.rows.pop_front();
        }
        Rc::new(feed)
    }
}

/// The badge: the state's kind, its attempt and its delay.
fn badge(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Connecting { attempt } => format!("connecting · attempt {attempt}"),
        ConnectionState::Open => "open".to_owned(),
        ConnectionState::Reconnecting {
            attempt,
            delay,
            cause,
            ..
        } => match delay {
            Some(delay) => format!(
                "reconnecting · attempt {attempt} · in {} ms · {cause}",
                delay.as_millis()
            ),
            None => format!("reconnecting · attempt {attempt} · {cause}"),
        },
        other => other.to_string(),
    }
}

/// `POST /publish` of a `chat` event on the `chat` channel.
async fn publish(user: &str, text: &str) -> Result<(), String> {
    let body = serde_json::json!({
        "channel": "chat",
        "event": "chat",
        "data": { "user": user, "text": text },
    });
    let js = |e: JsValue| format!("publishing failed: {}", js_message(&e));
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().map_err(js)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(js)?;
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body.to_string()));
    let window = web_sys::window().ok_or("publishing failed: no window")?;
    let response = JsFuture::from(window.fetch_with_str_and_init("/publish", &init))
        .await
        .map_err(js)?
        .dyn_into::<web_sys::Response>()
        .map_err(js)?;
    if response.ok() {
        return Ok(());
    }
    // The server says what was wrong, and what to do, in `{"error": "..."}`.
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let said = text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| Some(v.get("error")?.as_str()?.to_owned()));
    Err(match said {
        Some(said) => format!("publishing failed: {said} (HTTP {})", response.status()),
        None => format!("publishing failed: HTTP {}", response.status()),
    })
}

/// What a failed JavaScript call says: an `Error`'s message, or the value as text.
fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
