//! examples/minimal's job (one typed handler on the browser's EventSource) with
//! gloo-net + serde_json: the size anchor of `npm run bench`.

use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[derive(Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// A live subscription. Freeing it closes the connection.
#[wasm_bindgen]
pub struct Feed {
    _source: EventSource,
}

/// Opens `url` and calls `on_chat(user, text)` for each `message` event whose data is
/// a chat message. Events that do not decode are skipped.
#[wasm_bindgen]
pub fn watch(url: &str, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    let mut source = EventSource::new(url).map_err(|e| JsError::new(&e.to_string()))?;
    let mut messages = source
        .subscribe("message")
        .map_err(|e| JsError::new(&e.to_string()))?;
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(Ok((_, event))) = messages.next().await {
            let Some(data) = event.data().as_string() else {
                continue;
            };
            if let Ok(chat) = serde_json::from_str::<Chat>(&data) {
                let _ = on_chat.call2(
                    &JsValue::NULL,
                    &JsValue::from(chat.user),
                    &JsValue::from(chat.text),
                );
            }
        }
    });
    Ok(Feed { _source: source })
}
