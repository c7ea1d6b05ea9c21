//! Connection states as the plain objects the JavaScript API hands to `onState`.

use crate::core::failure::ReconnectCause;
use crate::core::state::{CloseReason, ConnectionState};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

pub(super) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in fields {
        // Setting a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

pub(super) fn state_to_js(state: &ConnectionState) -> JsValue {
    let kind: JsValue = state.kind().into();
    match state {
        ConnectionState::Connecting { attempt } => {
            object(&[("kind", kind), ("attempt", (*attempt).into())])
        }
        ConnectionState::Open => object(&[("kind", kind)]),
        ConnectionState::Reconnecting {
            attempt,
            delay,
            cause,
        } => {
            let mut fields = vec![
                ("kind", kind),
                ("attempt", (*attempt).into()),
                (
                    "delayMs",
                    delay.map_or(JsValue::NULL, |d| (d.as_millis() as f64).into()),
                ),
                ("cause", cause_name(cause).into()),
                ("message", state.to_string().into()),
            ];
            if let ReconnectCause::HttpStatus { status, body, .. } = cause {
                push_http(&mut fields, *status, body.as_deref());
            }
            object(&fields)
        }
        ConnectionState::Closed { reason } => {
            let mut fields = vec![
                ("kind", kind),
                ("reason", reason_name(reason).into()),
                ("message", reason.to_string().into()),
            ];
            match reason {
                CloseReason::HttpStatus { status, body, .. } => {
                    push_http(&mut fields, *status, body.as_deref())
                }
                CloseReason::ContentType { content_type } => {
                    fields.push(("contentType", content_type.as_str().into()))
                }
                CloseReason::GaveUp { attempts, cause } => {
                    fields.push(("attempts", (*attempts).into()));
                    // A 429 that ran out of retries still says what the server said.
                    if let ReconnectCause::HttpStatus { status, body, .. } = cause {
                        push_http(&mut fields, *status, body.as_deref());
                    }
                }
                CloseReason::Interrupted { received } => {
                    fields.push(("received", (*received as f64).into()))
                }
                _ => {}
            }
            object(&fields)
        }
    }
}

/// `status` and, when read, `body` of an HTTP error.
fn push_http(fields: &mut Vec<(&str, JsValue)>, status: u16, body: Option<&str>) {
    fields.push(("status", status.into()));
    if let Some(body) = body {
        fields.push(("body", body.into()));
    }
}

pub(super) fn cause_name(cause: &ReconnectCause) -> &'static str {
    match cause {
        ReconnectCause::ConnectionLost => "connection-lost",
        ReconnectCause::StreamEnded => "stream-ended",
        ReconnectCause::Network { .. } => "network",
        ReconnectCause::HeartbeatTimeout { .. } => "heartbeat-timeout",
        ReconnectCause::HttpStatus { .. } => "http-status",
        ReconnectCause::ContentType { .. } => "content-type",
        ReconnectCause::NoContent => "no-content",
        ReconnectCause::Requested => "requested",
        ReconnectCause::PageHidden => "hidden",
    }
}

pub(super) fn reason_name(reason: &CloseReason) -> &'static str {
    match reason {
        CloseReason::ClosedByClient => "client",
        CloseReason::Failed => "failed",
        CloseReason::HttpStatus { .. } => "http-status",
        CloseReason::ContentType { .. } => "content-type",
        CloseReason::NoContent => "no-content",
        CloseReason::InvalidRequest { .. } => "invalid-request",
        CloseReason::GaveUp { .. } => "gave-up",
        CloseReason::Completed => "completed",
        CloseReason::Interrupted { .. } => "interrupted",
    }
}
