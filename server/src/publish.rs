//! `POST /publish`: broadcast an event on a channel.
//!
//! Body: JSON `{"channel": string, "event": string?, "data": any JSON, "id": string?}`
//! with `Content-Type: application/json`, at most 64 KiB. The event's data on the wire is
//! the compact JSON encoding of `data`; without `event` it has the default `message`
//! type; without `id` its id is the channel's next sequence number (an explicit `id` that
//! is such a number, up to 2^53, moves the sequence on to it, so no later event repeats it).
//!
//! Answers `200 {"id": "...", "channel": "...", "receivers": N}` where `N` is the number
//! of live `/events` streams of the channel. Errors are `{"error": "..."}`: 415 for
//! another content type, 413 for a body over 64 KiB, 408 for a body that did not
//! arrive within [`crate::Config::header_timeout`] of the head, 400 for invalid JSON, a missing
//! `channel` or `data`, an invalid channel name, an `event` holding CR or LF (or named
//! `reset`, the server's own: see [`crate::events`]), or an `id`
//! holding a control character but tab, or beginning or ending with a space or tab (it
//! must come back as a reconnect's `Last-Event-ID` header as it is); 403 for a request
//! from another site (see the crate docs); 503 for a new channel name once the server
//! holds 1000 channels.
//!
//! With the Redis broker (see [`crate::broker::redis`]) a 200 means Redis stored the
//! event; `id` is its stream id (an explicit `id` must be a stream id greater than the
//! channel's newest, else 400); `receivers` counts this instance's streams only; and
//! when Redis cannot be reached, or refuses the command (a key of another type, missing
//! rights, no memory), the answer is 503 with a JSON error saying which.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::broker::NewEvent;
use crate::channels::validate_channel_name;
use crate::error::ApiError;
use crate::{AppState, PUBLISH_BODY_LIMIT};

/// The `/publish` handler. axum's [`Json`] extractor checks the content type, the size
/// and the syntax; [`rejection_error`] turns its rejections into our JSON errors.
pub(crate) async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(value) = body.map_err(|rejection| {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        rejection_error(rejection, content_type)
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(
            "the request body must be a json object like {\"channel\": \"news\", \"data\": {\"n\": 1}}",
        ));
    };

    // A misspelt field would otherwise be dropped in silence (an `evnet` sends a
    // `message` no `chat` listener hears).
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field `{unknown}` in the request body; the fields are `channel`, \
             `event`, `id` and `data`"
        )));
    }
    let channel = match object.get("channel") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "missing `channel`; add the name of the channel to publish on",
            ))
        }
        Some(Value::String(name)) => name.as_str(),
        Some(other) => return Err(ApiError::bad_request(not_a_string("channel", other))),
    };
    validate_channel_name(channel).map_err(ApiError::bad_request)?;
    let event = optional_field(&object, "event", &['\r', '\n'])?;
    if event.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "`event` must not be empty; leave it out to send a `message` event",
        ));
    }
    if event.as_deref() == Some("reset") {
        return Err(ApiError::bad_request(
            "`event` \"reset\" is the server's own: it tells a client that the events \
             after its Last-Event-ID are no longer held, and clients start over on it; \
             name the event otherwise",
        ));
    }
    let id = optional_field(&object, "id", &['\r', '\n', '\0'])?;
    if let Some(id) = &id {
        check_id(id)?;
    }
    let Some(data) = object.get("data") else {
        return Err(ApiError::bad_request(
            "missing `data`; add the json value to send as the event's data",
        ));
    };
    let data = data.to_string();

    let record = state.channels().get_or_create(channel)?;
    let published = state
        .broker()
        .publish(
            record.channel(),
            channel,
            NewEvent {
                event,
                data,
                id,
                retry: None,
            },
        )
        .await?;
    let receivers = published.receivers;
    Ok(Json(json!({
        "id": published.id,
        "channel": channel,
        "receivers": receivers,
    })))
}

/// Our JSON error for each way axum's [`Json`] extractor rejects a body.
fn rejection_error(rejection: JsonRejection, content_type: Option<String>) -> ApiError {
    if let Some(late) = crate::body::late(&rejection) {
        return ApiError::new(StatusCode::REQUEST_TIMEOUT, late.to_string());
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected content-type application/json, got {}; send the body as json with that header",
                content_type.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"))
            ),
        ),
        JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
            ApiError::bad_request(format!(
                "the request body is not valid json ({}); send an object like {{\"channel\": \"news\", \"data\": {{\"n\": 1}}}}",
                rejection.body_text()
            ))
        }
        rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} KiB; publish a smaller `data` value",
                PUBLISH_BODY_LIMIT / 1024
            ),
        ),
        rejection => ApiError::bad_request(format!(
            "the request body could not be read ({}); send it again",
            rejection.body_text()
        )),
    }
}

/// The fields of a publish body.
const FIELDS: [&str; 4] = ["channel", "event", "id", "data"];

/// An id comes back as the `Last-Event-ID` header of a reconnect, so it must go there
/// as it is: a control character but tab makes that request unreadable (HTTP servers,
/// this one too, answer 400 before any route, and EventSource then stops for good), and
/// a space or tab at either end is trimmed on the way, so the resume would find no such
/// id.
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() > MAX_ID_BYTES {
        return Err(ApiError::bad_request(format!(
            "`id` is {} bytes, over the limit of {MAX_ID_BYTES}: a reconnect sends it back \
             in a header or the URL, which servers and proxies bound, and a resume looks it \
             up among the held events; use a shorter id",
            id.len()
        )));
    }
    if id.is_empty() {
        return Err(ApiError::bad_request(
            "`id` must not be empty: after it a reconnect sends no Last-Event-ID and \
             resumes from nothing; leave `id` out to let the server number the event",
        ));
    }
    if id.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(ApiError::bad_request(
            "`id` must not contain control characters (U+0000 to U+001F but tab, U+007F): \
             a reconnect sends it back in the Last-Event-ID header, which cannot carry \
             them; remove them",
        ));
    }
    if id.starts_with([' ', '\t']) || id.ends_with([' ', '\t']) {
        return Err(ApiError::bad_request(
            "`id` must not begin or end with a space: a reconnect sends it back in the \
             Last-Event-ID header, which drops it, and the resume would not find the id; \
             trim it",
        ));
    }
    Ok(())
}

/// The longest explicit `id` a publish may give. A resume compares the client's
/// Last-Event-ID with held ids under the store's lock: 1,000 held ids of 64 KB, equal
/// in length, made each connect compare 65 MB there.
const MAX_ID_BYTES: usize = 1024;

/// An optional string field that must not contain any of `forbidden`.
fn optional_field(
    object: &Map<String, Value>,
    name: &str,
    forbidden: &[char],
) -> Result<Option<String>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.contains(forbidden) => Err(ApiError::bad_request(format!(
            "`{name}` must not contain line breaks{}; remove them",
            if forbidden.contains(&'\0') {
                " or NUL characters"
            } else {
                ""
            }
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(not_a_string(name, other))),
    }
}

/// Why the field `name` is refused: `value` is not a string. Says what came, and, for
/// a number (an id as the server's own ids look), how to send it.
fn not_a_string(name: &str, value: &Value) -> String {
    let got = match value {
        Value::Bool(_) => "a boolean",
        Value::Number(_) => {
            return format!(
                "`{name}` must be a string, got the number {value}; send it as \"{value}\""
            )
        }
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        // (Null is taken as absent before this.)
        Value::Null | Value::String(_) => "null",
    };
    format!("`{name}` must be a string, got {got}")
}
