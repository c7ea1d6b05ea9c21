//! The crate's error type.

use wasm_bindgen::{JsCast, JsValue};

/// Why an [`EventSource`](crate::EventSource) could not be created.
///
/// Errors that happen later, while the source runs, are not `Error`s: they are
/// reported as [`ConnectionState`](crate::ConnectionState) transitions, and payloads
/// that do not decode reach the handler as a [`DecodeError`](crate::DecodeError).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed, or its scheme is not `http` or `https`.
    #[error("invalid event source url \"{url}\": {reason}; pass an absolute http(s) url or a path relative to the page")]
    InvalidUrl {
        /// The URL as given, with a user name and password in it as `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The options given cannot be used together, or one has a bad value.
    #[error("invalid event source options: {0}")]
    InvalidOptions(String),
    /// The browser threw when asked to create the connection. Not produced at
    /// present: the connection is made after the source is created, so a refusal
    /// arrives as `Closed { reason: InvalidRequest }`.
    #[error("the browser refused to open the event source: {0}")]
    Browser(JsError),
}

/// An error thrown by JavaScript, turned into an owned, printable Rust value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsError {
    name: String,
    message: String,
}

impl JsError {
    /// The JavaScript error's name, such as `SyntaxError`, or `Error` for a non-Error value.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The JavaScript error's message, or the thrown value as text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for JsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for JsError {}

impl From<JsValue> for JsError {
    fn from(value: JsValue) -> Self {
        // An Error's `name` and `message` read as any property: a getter may throw, or
        // give what is not a string (js-sys's `String::from` would throw through the
        // wasm then, leaving the task that read it stuck).
        let text = |key: &str| {
            js_sys::Reflect::get(&value, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
        };
        match value.dyn_ref::<js_sys::Error>() {
            Some(_) => JsError {
                name: text("name").unwrap_or_else(|| "Error".to_owned()),
                message: text("message").unwrap_or_default(),
            },
            None => JsError {
                name: "Error".to_owned(),
                // A thrown value that is not an Error: its text, its JSON, else its type
                // (not `Debug`, which the npm build compiles away).
                message: value
                    .as_string()
                    .or_else(|| js_sys::JSON::stringify(&value).ok()?.as_string())
                    .or_else(|| value.js_typeof().as_string())
                    .unwrap_or_default(),
            },
        }
    }
}
