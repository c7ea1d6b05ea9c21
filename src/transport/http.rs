//! HTTP semantics the transports share: the request an attempt sends, and what a
//! response says (status, content type, `Retry-After`).

use crate::core::failure::{parse_retry_after, Failure};
use crate::options::Options;
use crate::transport::dom;
use wasm_bindgen::JsValue;
use web_sys::{Headers, RequestInit, Response};

/// The request for one attempt: method, body, credentials, and the headers (ours,
/// the fixed ones, then the callback's). Of ours, only `Last-Event-ID` (sent when there
/// is an id to resume after, as EventSource does) is not CORS-safelisted: no
/// `Cache-Control`, whose job `cache: "no-store"` does without a preflight.
pub(crate) fn request_init(options: &Options, last_event_id: &str) -> Result<RequestInit, String> {
    let headers = Headers::new().map_err(dom::js_message)?;
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| format!("the header \"{name}\" is not valid: {}", dom::js_message(e)))
    };
    set("Accept", "text/event-stream")?;
    if !last_event_id.is_empty() {
        set("Last-Event-ID", last_event_id)?;
    }
    for (name, value) in &options.headers {
        set(name, value)?;
    }
    if let Some(f) = &options.header_fn {
        for (name, value) in f() {
            set(&name, &value)?;
        }
    }
    let init = RequestInit::new();
    init.set_method(&options.method);
    init.set_headers(&headers);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_credentials(if options.with_credentials {
        web_sys::RequestCredentials::Include
    } else {
        web_sys::RequestCredentials::SameOrigin
    });
    if let Some(body) = &options.body {
        init.set_body(&JsValue::from_str(body));
    }
    Ok(init)
}

/// WHATWG "event stream interpretation" applied to a response: a status other than
/// 200, or a content type other than `text/event-stream`, fails the connection; 204
/// asks the client to stop. `None` when the response is an event stream.
pub(crate) fn check_response(response: &Response) -> Option<Failure> {
    let header = |name: &str| response.headers().get(name).ok().flatten();
    match response.status() {
        200 => {}
        204 => return Some(Failure::NoContent),
        status => {
            return Some(Failure::HttpStatus {
                status,
                status_text: response.status_text(),
                retry_after: header("retry-after").and_then(|v| parse_retry_after(&v, dom::now())),
            })
        }
    }
    let content_type = header("content-type").unwrap_or_default();
    if is_event_stream(&content_type) {
        None
    } else {
        Some(Failure::ContentType { content_type })
    }
}

/// Whether a `Content-Type` value is `text/event-stream`, parameters aside.
pub(crate) fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::is_event_stream;

    #[test]
    fn content_type_essence_is_compared_without_parameters_or_case() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream "));
        assert!(!is_event_stream("text/plain"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text/event-streamx"));
    }
}
