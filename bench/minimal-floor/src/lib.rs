//! examples/minimal's job (one typed handler on the browser's EventSource) with no
//! library at all: web-sys's EventSource, one listener, and the decoder examples/minimal
//! decodes with (the crate's `JSON.parse` deserializer, compiled in from its source).
//! No reconnection policy, states, resume, dedupe or error values: what is left of
//! examples/minimal's size when all of that is taken away, the bench's measure of how
//! much of it the library's own machinery is.

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[allow(dead_code)]
#[path = "../../../src/decode/jsjson.rs"]
mod jsjson;

#[derive(Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// A live subscription. Freeing it closes the connection.
#[wasm_bindgen]
pub struct Feed {
    source: web_sys::EventSource,
    _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens `url` and calls `on_chat(user, text)` for each `message` event whose data is
/// a chat message. Events that do not decode are skipped.
#[wasm_bindgen]
pub fn watch(url: &str, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    let source = web_sys::EventSource::new(url)
        .map_err(|_| JsError::new("the URL cannot be opened as an EventSource"))?;
    let listener =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Ok(chat) = jsjson::decode::<Chat>(&e.data()) {
                let _ = on_chat.call2(
                    &JsValue::NULL,
                    &JsValue::from(chat.user),
                    &JsValue::from(chat.text),
                );
            }
        });
    source
        .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
        .map_err(|_| JsError::new("the listener could not be added"))?;
    Ok(Feed {
        source,
        _listener: listener,
    })
}
