//! `POST /publish`: broadcast an event on a channel.
//!
//! Body: JSON `{"channel": string, "event": string?, "data": any JSON, "id": string?}`
//! with `Content-Type: application/json`, at most 64 KiB. The event's data on the wire is
//! the compact JSON encoding of `data`; without `event` it has the default `message`
//! type; without `id` its id is the channel's next sequence number.
//!
//! Answers `200 {"id": "...", "channel": "...", "receivers": N}` where `N` is the number
//! of live `/events` streams of the channel. Errors are `{"error": "..."}`: 415 for
//! another content type, 413 for a body over 64 KiB, 400 for invalid JSON, a missing
//! `channel` or `data`, an invalid channel name, or an `event`/`id` holding CR or LF
//! (or NUL for `id`); 503 for a new channel name once the server holds 1000 channels.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::channels::validate_channel_name;
use crate::error::ApiError;
use crate::{AppState, PUBLISH_BODY_LIMIT};

/// The `/publish` handler.
pub(crate) async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    check_content_type(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} KiB; publish a smaller `data` value",
                    PUBLISH_BODY_LIMIT / 1024
                ),
            )
        } else {
            ApiError::bad_request(format!(
                "the request body could not be read ({}); send it again",
                rejection.body_text()
            ))
        }
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not valid json ({e}); send an object like {{\"channel\": \"news\", \"data\": {{\"n\": 1}}}}"
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(
            "the request body must be a json object like {\"channel\": \"news\", \"data\": {\"n\": 1}}",
        ));
    };

    let channel = match object.get("channel") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "missing `channel`; add the name of the channel to publish on",
            ))
        }
        Some(Value::String(name)) => name.as_str(),
        Some(_) => return Err(ApiError::bad_request("`channel` must be a string")),
    };
    validate_channel_name(channel).map_err(ApiError::bad_request)?;
    let event = optional_field(&object, "event", &['\r', '\n'])?;
    let id = optional_field(&object, "id", &['\r', '\n', '\0'])?;
    let Some(data) = object.get("data") else {
        return Err(ApiError::bad_request(
            "missing `data`; add the json value to send as the event's data",
        ));
    };
    let data = data.to_string();

    let (stored, receivers) = state
        .channels()
        .get_or_create(channel)?
        .publish(event, data, id);
    Ok(Json(json!({
        "id": stored.id,
        "channel": channel,
        "receivers": receivers,
    })))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = value
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match essence {
        Some(mime) if mime.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected content-type application/json, got {}; send the body as json with that header",
                value.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"))
            ),
        )),
    }
}

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
        Some(_) => Err(ApiError::bad_request(format!("`{name}` must be a string"))),
    }
}
