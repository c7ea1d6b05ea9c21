//! A typed, observable Server-Sent Events client for the browser.
//!
//! `wasm-eventsource` wraps the browser's `EventSource` so that Rust front ends get:
//!
//! - **typed handlers**: [`EventSource::on`] decodes each event's JSON into your type
//!   with serde; a payload that does not decode arrives as a [`DecodeError`] value,
//!   and the stream goes on;
//! - **the truth about the connection**: [`EventSource::on_state`] reports
//!   [`ConnectionState::Connecting`], [`Open`](ConnectionState::Open),
//!   [`Reconnecting`](ConnectionState::Reconnecting) with the attempt and cause, and
//!   [`Closed`](ConnectionState::Closed) with the reason. The browser's
//!   `EventSource` only says 0/1/2 and fires a bare `error`;
//! - **no leaks**: every listener is owned by a guard; dropping the last handle closes
//!   the connection and frees every closure;
//! - **streams**: [`EventSource::subscribe`] gives a `futures` `Stream` that ends when
//!   the source closes;
//! - **a JavaScript class**, `TypedEventSource`, for code that imports the package
//!   from a bundle.
//!
//! ```no_run
//! use serde::Deserialize;
//! use wasm_eventsource::{ConnectionState, EventSource, Options};
//!
//! #[derive(Deserialize)]
//! struct Chat {
//!     user: String,
//!     text: String,
//! }
//!
//! # fn main() -> Result<(), wasm_eventsource::Error> {
//! let source = EventSource::with_options(
//!     "/events?channel=chat",
//!     Options::new().with_credentials(false),
//! )?;
//!
//! // Keep the subscriptions: dropping one removes its handler. (`println!` stands for
//! // the app's code: on wasm32 it prints nothing.)
//! let chat = source.on::<Chat>("chat", |result| match result {
//!     Ok(msg) => println!("#{} {}: {}", msg.last_event_id, msg.data.user, msg.data.text),
//!     Err(err) => println!("skipped: {err}"),
//! });
//! let state = source.on_state(|state| match state {
//!     ConnectionState::Reconnecting { attempt, cause, .. } => {
//!         println!("reconnecting (attempt {attempt}): {cause}")
//!     }
//!     ConnectionState::Closed { reason } => println!("closed: {reason}"),
//!     other => println!("{other}"),
//! });
//!
//! // Later: close the connection. Handlers run no more after this.
//! source.close();
//! # drop((chat, state));
//! # Ok(())
//! # }
//! ```
//!
//! The API runs in a browser (or a worker) compiled to `wasm32-unknown-unknown`. It
//! also compiles for other targets, so that documentation and types check there, but
//! it can only run where there is a browser.
//!
//! # Features
//!
//! - `native` (default): [`Transport::Native`], over the browser's `EventSource`.
//! - `fetch` (default): [`Transport::Fetch`], over `fetch` and the crate's own parser.
//! - `share` (default): [`Options::share_across_tabs`], one connection for the tabs of
//!   an origin.
//! - `probe` (default, implies `native`): when the browser gives up on its
//!   `EventSource` and its Resource Timing entry does not say why, one `fetch` asks the
//!   server (cross-origin, a `no-cors` one more where that fails), so the close reason
//!   is precise. Without it (4.4 KB less gzipped wasm in
//!   a native-only app) such a give-up is a [`Failure::Network`] the policy retries.
//! - `js`: the JavaScript class `TypedEventSource` (the npm package is built with it).
//! - `leptos`, `yew`: hooks for those frameworks, in the modules `leptos` and `yew`
//!   (Leptos 0.8, Yew 0.23).
//!
//! An app that uses one transport builds with `default-features = false` and that
//! transport's feature, and ships less; asking for a transport that is not compiled
//! in is an [`Error::InvalidOptions`] that names the feature.
//!
//! Typed handlers decode with serde_json, except in a build with `native` and without
//! `fetch`: there the browser's `JSON.parse` parses each event and a small serde
//! deserializer reads the values the type asks for, so that the app carries no
//! serde_json (14.7 KB less gzipped wasm for `examples/minimal`). The trade-off: decoding
//! costs about three times as much (1.6 µs against 0.5 µs for a four-field struct,
//! small beside the browser's ~10 µs per native event), integers beyond ±2⁵³ are
//! refused rather than rounded, and [`DecodeError::reason`] carries `JSON.parse`'s or
//! serde's words, with the path of the value, instead of serde_json's line and column.
#![warn(missing_docs)]
// A build with no transport (features neither `native` nor `fetch`) compiles, so that
// every combination of features does, but can open nothing: the engine that the
// transports drive is unused there, and only there.
#![cfg_attr(
    not(any(feature = "native", feature = "fetch")),
    allow(dead_code, unused_variables, unreachable_code)
)]

// The npm package's allocator: talc's wasm allocator is 1.7 KB (gzipped) smaller than std's
// dlmalloc in the shipped module. Only for the `npm` feature, the package's own build:
// a Rust app keeps whatever allocator it chose.
#[cfg(all(
    feature = "npm",
    target_family = "wasm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod bindings;
mod core;
mod decode;
mod error;
mod options;
#[cfg(feature = "fetch")]
mod request;
mod source;
mod stream;
mod transport;

pub use crate::core::parse;
#[cfg(feature = "js")]
pub use bindings::js;
#[cfg(feature = "leptos")]
pub use bindings::leptos;
#[cfg(feature = "yew")]
pub use bindings::yew;

pub use crate::core::dedupe::{Gap, DEDUPE_WINDOW};
pub use crate::core::failure::ERROR_BODY_LIMIT;
pub use crate::core::failure::{Failure, ReconnectCause};
pub use crate::core::retry::{ReconnectPolicy, HEALTHY_AFTER};
pub use crate::core::state::{CloseReason, ConnectionState, ShareRole};
pub use decode::{DecodeError, Message};
pub use error::{Error, JsError};
pub use options::{Options, Transport, DEFAULT_RESUME_PARAM};
#[cfg(feature = "fetch")]
pub use request::{
    request, RequestError, RequestStream, REQUEST_STREAM_BYTES, REQUEST_STREAM_CAPACITY,
};
pub use source::{EventSource, Subscription, WeakEventSource};
pub use stream::{EventStream, DEFAULT_STREAM_CAPACITY};

/// The README's examples, compiled as doctests so they cannot drift from the code:
/// with the hooks' features, which its Leptos and Yew examples need (`npm test` runs
/// them so), so that the README shows them whole, with no hidden lines.
#[cfg(all(doctest, feature = "leptos", feature = "yew"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
