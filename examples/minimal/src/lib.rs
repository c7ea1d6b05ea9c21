//! The smallest wasm-eventsource app: one typed handler on the native transport, built
//! with `default-features = false, features = ["native"]` so that only the browser's
//! EventSource transport is compiled in, without sharing across tabs and without the
//! `probe` feature (a give-up the browser does not explain is retried as a network
//! failure instead of being asked about).
//!
//! ```sh
//! # after `npm run setup` (the wasm32 target, the wasm-bindgen CLI), into
//! # examples-dist/minimal/, which the test server (`npm start`) serves at /examples/minimal/
//! cargo build --release --target wasm32-unknown-unknown --manifest-path examples/minimal/Cargo.toml
//! wasm-bindgen --target web --out-dir examples-dist/minimal \
//!   examples/minimal/target/wasm32-unknown-unknown/release/wasm_eventsource_minimal.wasm
//! cp examples/minimal/index.html examples-dist/minimal/
//! ```
//!
//! ```js
//! import init, { watch } from "./wasm_eventsource_minimal.js";
//! await init();
//! const feed = watch("/events?channel=chat", (user, text) => console.log(user, text));
//! // later: feed.free() closes the connection.
//! ```
//!
//! `npm run bench` measures its size (wasm-opt -Oz, gzip -9) against gloo-net +
//! serde_json doing the same job (bench/gloo-minimal).

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_eventsource::{EventSource, Subscription};

/// The events' data: `{"user": "...", "text": "..."}` (other fields are ignored).
#[derive(Deserialize)]
struct Chat {
    user: String,
    text: String,
}

/// A live subscription. Freeing it (`feed.free()`) closes the connection.
#[wasm_bindgen]
pub struct Feed {
    _subscription: Subscription,
    _source: EventSource,
}

/// Opens `url` and calls `on_chat(user, text)` for each `message` event whose data is
/// a chat message. Events that do not decode are skipped.
#[wasm_bindgen]
pub fn watch(url: &str, on_chat: js_sys::Function) -> Result<Feed, JsError> {
    let source = EventSource::new(url).map_err(|e| JsError::new(&e.to_string()))?;
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
