//! The live chat of the test server's `chat` channel, in Leptos, over
//! `wasm_eventsource::leptos::use_event_source`: the feed, a form that publishes to it,
//! and the connection state with its attempt and delay.
//!
//! Built by `scripts/build-examples.sh` into `examples-dist/leptos-chat/`, which the
//! test server serves at `/examples/leptos-chat/`. User text is only ever rendered as
//! text nodes.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_eventsource::leptos::use_event_source;
use wasm_eventsource::{ConnectionState, EventSource, Message, Subscription};

/// The data of a `chat` event, as `POST /publish` sends it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// Mounts the app when the module loads.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

/// The messages the feed shows, the newest: a tab left open on a busy chat neither
/// grows nor slows.
const FEED_MAX: usize = 200;

#[component]
fn App() -> impl IntoView {
    let chat = use_event_source::<Chat>("/events?channel=chat", "chat");

    // Every message, the newest FEED_MAX: from a handler on the hook's connection, not
    // from `message`, which is the latest (events that come in one task, a replay after
    // a reconnect or a chunk on fetch, reach effects as the last of them). Registered
    // again for each new connection (a reconnect after a close): the effect follows
    // `state`, which a new connection starts over, and runs before any of its events.
    // The rows are keyed by a number of their own, never by id (a server that restarted
    // numbers from 1 again) nor by place (the oldest go).
    let feed = RwSignal::new(Vec::<(u64, Message<Chat>)>::new());
    let held = StoredValue::new_local(None::<(EventSource, Subscription)>);
    Effect::new(move |_| {
        chat.state.track();
        let live = chat.source();
        held.update_value(|held| {
            if held.as_ref().map(|(source, _)| source) != live.as_ref() {
                *held = live.map(|source| {
                    let subscription = source.on::<Chat>("chat", move |res| {
                        if let Ok(msg) = res {
                            feed.update(|feed| {
                                let key = feed.last().map_or(0, |(n, _)| n + 1);
                                feed.push((key, msg));
                                let over = feed.len().saturating_sub(FEED_MAX);
                                feed.drain(..over);
                            });
                        }
                    });
                    (source, subscription)
                });
            }
        });
    });

    let user = RwSignal::new("leptos".to_owned());
    let text = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (who, what) = (user.get_untracked(), text.get_untracked());
        if what.trim().is_empty() {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            match publish(&who, &what).await {
                Ok(()) => {
                    text.set(String::new());
                    status.set(String::new());
                }
                Err(err) => status.set(err),
            }
        });
    };

    view! {
        <h1>"Leptos chat"</h1>
        <p id="state" class=move || format!("badge {}", chat.state.get().kind())>
            {move || badge(&chat.state.get())}
        </p>
        <p id="decode-error">{move || chat.error.get().map(|e| e.to_string())}</p>
        <ul id="feed">
            <For each=move || feed.get() key=|(n, _)| *n let:item>
                <li>
                    <b class="user">{item.1.data.user}</b>
                    ": "
                    <span class="text">{item.1.data.text}</span>
                </li>
            </For>
        </ul>
        <form id="publish" on:submit=on_submit>
            <label>
                "Name "
                <input
                    id="user"
                    placeholder="name"
                    prop:value=move || user.get()
                    on:input=move |ev| user.set(event_target_value(&ev))
                />
            </label>
            <label>
                " Message "
                <input
                    id="text"
                    placeholder="message"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
            </label>
            <button type="submit">"Send"</button>
            <button type="button" on:click=move |_| chat.reconnect()>"Reconnect"</button>
        </form>
        <p id="publish-status">{move || status.get()}</p>
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
