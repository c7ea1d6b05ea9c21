//! Events as handlers see them: [`Message`] for a decoded payload, [`DecodeError`]
//! for one that did not decode.

#[cfg(all(feature = "native", not(feature = "fetch")))]
pub(crate) mod jsjson;

use crate::core::parse::Event;
use serde::de::DeserializeOwned;
use std::fmt;
use std::rc::Rc;

/// One event from the server, with its payload decoded into `T`.
///
/// [`EventSource::on_raw`](crate::EventSource::on_raw) hands over a `Message<String>`
/// whose data is exactly as the server sent it. A typed `String` is decoded like any
/// other type: [`on::<String>`](crate::EventSource::on), `subscribe::<String>` and
/// [`request::<String>`](crate::request()) take the data as JSON, so `data: "hi"` is
/// the string `hi` and plain text (`data: hi`) is a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message<T> {
    /// The decoded payload.
    pub data: T,
    /// The event type: the `event:` field, or `"message"` when the server sent none.
    pub event_type: String,
    /// The last event id after this event (the `id:` field, which persists across events).
    pub last_event_id: String,
    /// The origin of the stream, such as `http://127.0.0.1:8080`.
    pub origin: String,
}

impl<T> Message<T> {
    /// Builds a message, for example to unit-test a handler without a server.
    ///
    /// ```
    /// let msg = wasm_eventsource::Message::new(7u32, "tick", "41", "http://127.0.0.1:8080");
    /// assert_eq!((msg.data, msg.event_type.as_str()), (7, "tick"));
    /// ```
    pub fn new(
        data: T,
        event_type: impl Into<String>,
        last_event_id: impl Into<String>,
        origin: impl Into<String>,
    ) -> Self {
        Message {
            data,
            event_type: event_type.into(),
            last_event_id: last_event_id.into(),
            origin: origin.into(),
        }
    }

    /// Changes the payload, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Message<U> {
        Message {
            data: f(self.data),
            event_type: self.event_type,
            last_event_id: self.last_event_id,
            origin: self.origin,
        }
    }
}

/// An event whose data did not decode into the handler's type.
///
/// It carries everything needed to log or recover the payload; the stream goes on
/// after it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The event type of the payload that failed.
    pub event_type: String,
    /// The raw data, unchanged; empty for an event dropped for its size
    /// ([`max_event_size`](crate::Options::max_event_size)), which `reason` then says.
    pub data: String,
    /// The last event id after this event.
    pub last_event_id: String,
    /// The Rust type the handler asked for.
    pub target: &'static str,
    /// Why it did not decode: serde_json's message, with line and column. In a build
    /// with the `native` transport but not `fetch`, where events are parsed by the
    /// browser's `JSON.parse` to leave serde_json out, its message, or serde's with the
    /// path of the value, such as `invalid type: the string "x", expected u64 (at
    /// .items[2].count)`.
    pub reason: String,
    /// Whether the event was dropped for its size, not refused by the decoder.
    dropped: bool,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each part cut short: serde's reason can quote the whole data (`invalid type:
        // string "…"`), and a type or id can be as long as an event.
        use crate::core::state::excerpt;
        let (event_type, id) = (
            excerpt(&self.event_type, 80),
            excerpt(&self.last_event_id, 80),
        );
        let reason = excerpt(&self.reason, 300);
        if self.dropped {
            return write!(
                f,
                "the \"{event_type}\" event (last id \"{id}\") did not reach the handler for {}: \
                 {reason}",
                self.target
            );
        }
        write!(
            f,
            "the \"{event_type}\" event (last id \"{id}\") does not decode into {}: {reason}; its \
             data was \"{}\" (send JSON of that shape, or change the type to what the \
             server sends; on_raw reads the text)",
            self.target,
            excerpt(&self.data, 80)
        )
    }
}

impl std::error::Error for DecodeError {}

/// An event as a transport delivers it, before decoding.
#[derive(Debug, Clone)]
pub(crate) struct RawEvent {
    event: Event,
    origin: Rc<str>,
    /// Set when the event was dropped for its size: why, for the handler.
    too_big: Option<String>,
    /// The native transport's data, still the JavaScript string the browser made:
    /// typed handlers parse it with `JSON.parse` and the JavaScript API hands it on,
    /// so it crosses into wasm only for a handler that wants the text.
    #[cfg(feature = "native")]
    js_data: Option<JsText>,
    /// The native transport's last event ID, as the JavaScript string the browser
    /// made: the JavaScript API hands it back as is rather than decoding the copy in
    /// wasm again (a `TextDecoder` call per event, a third of the native path's cost
    /// over the browser's own). Only with the JavaScript API: a Rust app never needs it.
    #[cfg(all(feature = "native", feature = "js"))]
    js_id: Option<wasm_bindgen::JsValue>,
}

/// A JavaScript string, and its text in wasm once something asked for it.
#[cfg(feature = "native")]
#[derive(Debug, Clone)]
struct JsText {
    value: wasm_bindgen::JsValue,
    text: std::cell::OnceCell<String>,
}

impl RawEvent {
    pub fn new(event: Event, origin: Rc<str>) -> Self {
        RawEvent {
            event,
            origin,
            too_big: None,
            #[cfg(feature = "native")]
            js_data: None,
            #[cfg(all(feature = "native", feature = "js"))]
            js_id: None,
        }
    }

    /// The same event, with its last event ID also as the JavaScript string `id`
    /// (which must be the text of `last_event_id()`).
    #[cfg(all(feature = "native", feature = "js"))]
    pub fn with_js_id(mut self, id: wasm_bindgen::JsValue) -> Self {
        self.js_id = Some(id);
        self
    }

    /// The last event ID as a JavaScript string: the browser's own where the native
    /// transport kept it, else made from the text.
    #[cfg(feature = "js")]
    pub fn js_id(&self) -> wasm_bindgen::JsValue {
        #[cfg(feature = "native")]
        if let Some(id) = &self.js_id {
            return id.clone();
        }
        wasm_bindgen::JsValue::from_str(self.last_event_id())
    }

    /// An event whose data is a JavaScript string (the native transport): `event`'s own
    /// data is not read.
    #[cfg(feature = "native")]
    pub fn with_js_data(event: Event, data: wasm_bindgen::JsValue, origin: Rc<str>) -> Self {
        RawEvent {
            js_data: Some(JsText {
                value: data,
                text: std::cell::OnceCell::new(),
            }),
            ..RawEvent::new(event, origin)
        }
    }

    /// The data as a JavaScript string: the native transport's is one already and is
    /// handed on as is, never copied into wasm and out again.
    #[cfg(any(
        feature = "js",
        feature = "share",
        all(feature = "native", not(feature = "fetch"))
    ))]
    pub fn js_data(&self) -> wasm_bindgen::JsValue {
        #[cfg(feature = "native")]
        if let Some(js) = &self.js_data {
            return js.value.clone();
        }
        wasm_bindgen::JsValue::from_str(self.data())
    }

    /// An event that was dropped because it went over the size cap: `event` with its
    /// type, id and whether the id was its own, and no data.
    #[cfg(feature = "fetch")]
    pub fn oversize(event: Event, size: usize, limit: usize, origin: Rc<str>) -> Self {
        RawEvent {
            too_big: Some(format!(
                "the event was dropped: its data ({size} bytes) with its type and id is \
                 over the limit of {limit} bytes; raise Options::max_event_size (JS: \
                 maxEventSize) if such events are expected"
            )),
            ..RawEvent::new(event, origin)
        }
    }

    /// The same event, dropped for its size with `reason` (a shared source's follower
    /// receives it so from the leader).
    #[cfg(feature = "share")]
    pub fn with_too_big(mut self, reason: Option<String>) -> Self {
        self.too_big = reason;
        self
    }

    pub fn event_type(&self) -> &str {
        self.event.event_type()
    }

    pub fn data(&self) -> &str {
        #[cfg(feature = "native")]
        if let Some(js) = &self.js_data {
            return js
                .text
                .get_or_init(|| js.value.as_string().unwrap_or_default());
        }
        self.event.data()
    }

    pub fn last_event_id(&self) -> &str {
        self.event.last_event_id()
    }

    /// The last event ID's allocation when the parser shares it (a long one).
    pub fn shared_id(&self) -> Option<&std::sync::Arc<String>> {
        self.event.shared_id()
    }

    /// Whether the event carried its id in an `id` field of its own.
    pub fn has_own_id(&self) -> bool {
        self.event.has_own_id()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The origin, shared (the JavaScript API's held chunks, fetch).
    #[cfg_attr(not(all(feature = "js", feature = "fetch")), allow(dead_code))]
    pub fn origin_rc(&self) -> Rc<str> {
        Rc::clone(&self.origin)
    }

    /// Why the event was dropped, if it was.
    pub fn too_big(&self) -> Option<&str> {
        self.too_big.as_deref()
    }

    /// Decodes the data as JSON into `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<Message<T>, DecodeError> {
        let result = match &self.too_big {
            Some(reason) => Err(reason.clone()),
            None => self.parse::<T>(),
        };
        match result {
            Ok(data) => Ok(self.message(data)),
            Err(reason) => Err(DecodeError {
                event_type: self.event_type().to_owned(),
                data: self.data().to_owned(),
                last_event_id: self.last_event_id().to_owned(),
                target: std::any::type_name::<T>(),
                reason,
                dropped: self.too_big.is_some(),
            }),
        }
    }

    /// The data decoded by serde_json...
    #[cfg(any(feature = "fetch", not(feature = "native")))]
    fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str::<T>(self.data()).map_err(|e| e.to_string())
    }

    /// ... or, in a build with the native transport and without fetch, by `JSON.parse`
    /// ([`crate::decode::jsjson`]), so that such an app carries no serde_json.
    #[cfg(all(feature = "native", not(feature = "fetch")))]
    fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        crate::decode::jsjson::decode::<T>(&self.js_data())
    }

    /// The event with its raw text as the payload.
    pub fn text(&self) -> Message<String> {
        self.message(self.data().to_owned())
    }

    fn message<T>(&self, data: T) -> Message<T> {
        Message::new(data, self.event_type(), self.last_event_id(), self.origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Chat {
        user: String,
    }

    fn raw(data: &str) -> RawEvent {
        RawEvent::new(
            Event::new("chat", data, "7"),
            "http://127.0.0.1:8080".into(),
        )
    }

    #[test]
    fn decodes_into_the_requested_type_with_metadata() {
        let msg = raw(r#"{"user":"ann"}"#)
            .decode::<Chat>()
            .expect("valid JSON");
        assert_eq!(msg.data, Chat { user: "ann".into() });
        assert_eq!(msg.event_type, "chat");
        assert_eq!(msg.last_event_id, "7");
        assert_eq!(msg.origin, "http://127.0.0.1:8080");
    }

    #[test]
    fn bad_payload_is_an_error_value_with_the_raw_data() {
        let err = raw("{not json").decode::<Chat>().expect_err("invalid JSON");
        assert_eq!(err.data, "{not json");
        assert_eq!(err.event_type, "chat");
        assert!(err.target.ends_with("Chat"), "{}", err.target);
        let text = err.to_string();
        // (Not "not valid JSON": what broke, a review, was that sentence for valid JSON
        // of another shape too; and it now says what to do.)
        assert!(text.contains("does not decode into"), "{text}");
        assert!(
            text.contains("send JSON of that shape, or change the type"),
            "{text}"
        );
        assert!(text.contains("{not json"), "{text}");
    }

    #[test]
    fn the_sentence_is_short_however_long_the_event() {
        // What broke (a review): serde's reason quotes a string whole (`invalid type:
        // string "…"`), and the id was shown whole: a 10 KB string, or a long id, made a
        // sentence as long, to a log or the console with each event.
        let long = format!("\"{}\"", "x".repeat(10_000));
        let raw = RawEvent::new(
            Event::new("chat", &long, &"7".repeat(10_000)),
            "http://x".into(),
        );
        let err = raw.decode::<Chat>().expect_err("a string is no Chat");
        assert!(err.reason.len() > 10_000, "{}", err.reason.len());
        let text = err.to_string();
        assert!(text.len() < 1_000, "{} bytes: {text}", text.len());
        assert!(text.contains("invalid type: string"), "{text}");
    }

    #[test]
    fn wrong_shape_names_the_missing_field() {
        let err = raw(r#"{"name":"ann"}"#)
            .decode::<Chat>()
            .expect_err("wrong shape");
        assert!(
            err.reason.contains("missing field `user`"),
            "{}",
            err.reason
        );
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn an_oversize_event_reaches_typed_handlers_as_an_error_that_says_what_to_do() {
        let raw = RawEvent::oversize(
            Event::new("chat", "", "9"),
            2_000_000,
            1_048_576,
            "http://x".into(),
        );
        let err = raw.decode::<Chat>().expect_err("dropped");
        assert_eq!(
            (err.event_type.as_str(), err.last_event_id.as_str()),
            ("chat", "9")
        );
        assert!(
            err.reason.contains("over the limit of 1048576 bytes"),
            "{}",
            err.reason
        );
        assert!(err.reason.contains("max_event_size"), "{}", err.reason);
        // What broke (a review): its sentence said the event "is not valid JSON …; its
        // data was \"\"", though its data was dropped unread.
        assert!(err.data.is_empty());
        let text = err.to_string();
        assert!(
            !text.contains("does not decode") && text.contains("did not reach the handler"),
            "{text}"
        );
        // What broke (a review): the cap counts the type and id too, but the sentence
        // said the data alone was over it, "9 bytes or more, over the limit of 16".
        let mut parser = crate::core::parse::Parser::with_max_event_size(16);
        parser.feed(b"event: abcdefgh\ndata: 12345678\n\n");
        let Some(crate::core::parse::Item::Oversize { size, limit, .. }) = parser.next_item()
        else {
            panic!("the event is over the cap with its type");
        };
        let raw = RawEvent::oversize(Event::new("abcdefgh", "", ""), size, limit, "x".into());
        let reason = raw.decode::<Chat>().expect_err("dropped").reason;
        assert!(
            reason.contains("its data (9 bytes) with its type and id is over the limit of 16"),
            "{reason}"
        );
    }

    #[test]
    fn display_truncates_long_data_on_a_char_boundary() {
        let long = "é".repeat(200);
        let text = raw(&long)
            .decode::<Chat>()
            .expect_err("not JSON")
            .to_string();
        assert!(text.contains('…'));
        assert!(text.len() < 400, "{}", text.len());
    }
}
