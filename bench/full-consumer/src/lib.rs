//! A full Rust consumer for the size table of `npm run bench`: default features (both
//! transports), one typed handler on each.

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_eventsource::{EventSource, Options, Subscription, Transport};

#[derive(Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// A live subscription. Freeing it closes the connection.
#[wasm_bindgen]
pub struct Feed {
    _subscription: Subscription,
    _source: EventSource,
}

fn open(url: &str, transport: Transport, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    let options = Options::new().transport(transport);
    let source =
        EventSource::with_options(url, options).map_err(|e| JsError::new(&e.to_string()))?;
    let subscription = source.on_message::<Chat>(move |res| {
        if let Ok(msg) = res {
            let _ = on_chat.call2(
                &JsValue::NULL,
                &JsValue::from(msg.data.user),
                &JsValue::from(msg.data.text),
            );
        }
    });
    Ok(Feed {
        _subscription: subscription,
        _source: source,
    })
}

/// `on_chat(user, text)` for each chat message of `url`, over the browser's EventSource.
#[wasm_bindgen]
pub fn watch_native(url: &str, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    open(url, Transport::Native, on_chat)
}

/// The same over fetch.
#[wasm_bindgen]
pub fn watch_fetch(url: &str, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    open(url, Transport::Fetch, on_chat)
}
