//! HTTP semantics the transports share: the request an attempt sends, and what a
//! response says (status, content type, `Retry-After`). Built for the fetch transport
//! and for native's give-up check (`probe`), the two that send requests themselves.

use crate::core::failure::{is_event_stream, Failure};
use crate::core::retry_after::parse_retry_after;
use crate::options::Options;
use crate::transport::dom;
use wasm_bindgen::JsValue;
use web_sys::{Headers, RequestInit, Response};

/// The request for one attempt: method, body, credentials, and the headers (`Accept`,
/// the fixed ones, the callback's, then `Last-Event-ID`). Of ours, only
/// `Last-Event-ID` (sent when there is an id to resume after, as EventSource does) is
/// not CORS-safelisted: no `Cache-Control`, whose job `cache: "no-store"` does without
/// a preflight. It goes last, over a callback's; a `Last-Event-ID` among the fixed
/// headers is not sent as given: it is the source's first last event id.
pub(crate) fn request_init(options: &Options, last_event_id: &str) -> Result<RequestInit, String> {
    let headers = Headers::new().map_err(dom::js_message)?;
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| format!("the header \"{name}\" is not valid: {}", dom::js_message(e)))
    };
    set("Accept", "text/event-stream")?;
    for (name, value) in &options.headers {
        // The source's own goes below (`Options::first_last_event_id`).
        if !crate::options::is_last_event_id(name) {
            set(name, value)?;
        }
    }
    if let Some(f) = &options.header_fn {
        for (name, value) in f() {
            // As the fixed headers are checked when the source is made: the crate's
            // sentence, never the browser's (which may quote the value, a secret).
            if let Some(problem) = crate::options::header_problem(&name, &value) {
                return Err(problem);
            }
            set(&name, &value)?;
        }
    }
    if !last_event_id.is_empty() {
        set("Last-Event-ID", &utf8_header_value(last_event_id))?;
    }
    let init = RequestInit::new();
    init.set_method(&options.method);
    init.set_headers(&headers);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_credentials(credentials(options));
    if let Some(body) = &options.body {
        init.set_body(&JsValue::from_str(body));
    }
    Ok(init)
}

/// `text` as a header value whose characters are its UTF-8 bytes. `Headers` takes a
/// value as a ByteString (each character one byte, U+0000 to U+00FF) and refuses any
/// other character; EventSource sends the last event ID as UTF-8, so an id such as
/// `"ü"` or `"日本"` goes on the wire the same way and any id resumes.
fn utf8_header_value(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        text.into()
    } else {
        text.bytes().map(char::from).collect::<String>().into()
    }
}

/// Whether a `no-cors` GET of `url` gets an answer (an opaque one): after a CORS
/// request to it failed, that tells a CORS rejection (reachable) from a server that
/// cannot be reached. Reads only the head, then aborts; gives up after 10 s.
pub(crate) async fn reachable_without_cors(url: &str, options: &Options) -> bool {
    use futures_util::future::{select, Either};
    let request = async {
        let controller = web_sys::AbortController::new().ok()?;
        let guard = dom::AbortOnDrop(controller);
        let init = RequestInit::new();
        init.set_mode(web_sys::RequestMode::NoCors);
        init.set_cache(web_sys::RequestCache::NoStore);
        init.set_credentials(credentials(options));
        init.set_signal(Some(&guard.0.signal()));
        wasm_bindgen_futures::JsFuture::from(dom::global_fetch(url, &init))
            .await
            .ok()
    };
    let timeout = dom::sleep(std::time::Duration::from_secs(10));
    matches!(
        select(std::pin::pin!(request), timeout).await,
        Either::Left((Some(_), _))
    )
}

fn credentials(options: &Options) -> web_sys::RequestCredentials {
    if options.with_credentials {
        web_sys::RequestCredentials::Include
    } else {
        web_sys::RequestCredentials::SameOrigin
    }
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
                retry_after: header("retry-after")
                    .and_then(|v| parse_retry_after(&v, dom::wall_now())),
                body: None,
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

#[cfg(feature = "fetch")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A `ReadableStream`, for a `getReader()` that can fail.
    type Readable;
    /// `getReader()`, which throws on a body already locked (a fetch wrapper that
    /// began to read it): web-sys's binding lets the exception through.
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn get_reader(this: &Readable) -> Result<JsValue, JsValue>;
}

/// A default reader of `body`, or `None` when it is locked or gives another kind.
#[cfg(feature = "fetch")]
pub(crate) fn reader_of(
    body: &web_sys::ReadableStream,
) -> Option<web_sys::ReadableStreamDefaultReader> {
    use wasm_bindgen::JsCast;
    body.unchecked_ref::<Readable>()
        .get_reader()
        .ok()?
        .dyn_into()
        .ok()
}

/// The text of an error response's body: at most
/// [`ERROR_BODY_LIMIT`](crate::core::failure::ERROR_BODY_LIMIT) bytes, read within
/// `timeout`; the rest is left unread and the body cancelled. `None` when there is no
/// body or nothing of it could be read. Invalid UTF-8 becomes U+FFFD, and an
/// incomplete character at the end is left out (one the limit or the timeout cut, or
/// one the body itself ends in: the text is for reading, not a byte-exact copy).
#[cfg(feature = "fetch")]
pub(crate) async fn error_body(
    response: &Response,
    timeout: std::time::Duration,
) -> Option<String> {
    use crate::core::failure::ERROR_BODY_LIMIT;
    use futures_util::future::select;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let reader = reader_of(&response.body()?)?;
    let mut bytes = Vec::new();
    {
        let read = async {
            while bytes.len() < ERROR_BODY_LIMIT {
                let Ok(chunk) = JsFuture::from(reader.read()).await else {
                    return;
                };
                if js_sys::Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy()) {
                    return;
                }
                let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into())
                    .and_then(|v| v.dyn_into::<js_sys::Uint8Array>())
                else {
                    return;
                };
                let take = (ERROR_BODY_LIMIT - bytes.len()).min(value.length() as usize);
                let start = bytes.len();
                bytes.resize(start + take, 0);
                value.subarray(0, take as u32).copy_to(&mut bytes[start..]);
            }
        };
        let _ = select(std::pin::pin!(read), std::pin::pin!(dom::sleep(timeout))).await;
    }
    // The rest is not wanted (a JsFuture handles the promise's rejection, if any).
    drop(JsFuture::from(reader.cancel()));
    (!bytes.is_empty()).then(|| text_of(bytes))
}

/// UTF-8 text of `bytes`, invalid sequences as U+FFFD, an incomplete character at the
/// end left out.
#[cfg(any(test, feature = "fetch"))]
fn text_of(mut bytes: Vec<u8>) -> String {
    // The end alone: an invalid byte earlier does not keep a cut character.
    let len = bytes.len();
    for k in 1..=len.min(3) {
        if let Err(e) = std::str::from_utf8(&bytes[len - k..]) {
            if e.valid_up_to() == 0 && e.error_len().is_none() {
                bytes.truncate(len - k);
                break;
            }
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_event_stream, text_of, utf8_header_value};

    #[test]
    fn an_error_body_cut_at_the_limit_keeps_whole_characters() {
        assert_eq!(
            text_of(br#"{"error":"rate"}"#.to_vec()),
            r#"{"error":"rate"}"#
        );
        // "ü" is C3 BC: cut after C3, the half character is left out.
        assert_eq!(text_of(b"ab\xc3".to_vec()), "ab");
        assert_eq!(text_of(b"a\xffb".to_vec()), "a\u{fffd}b");
        // Regression: an invalid byte before the cut one was the first error, and the
        // cut character became a U+FFFD too.
        assert_eq!(text_of(b"a\xffb\xe6\x97".to_vec()), "a\u{fffd}b");
        assert_eq!(text_of(b"\xff\xc3\xbc".to_vec()), "\u{fffd}\u{fc}");
        assert_eq!(text_of(b"ab\xbc".to_vec()), "ab\u{fffd}");
    }

    #[test]
    fn a_last_event_id_goes_on_the_wire_as_utf8() {
        // Regression: Headers.set threw for an id outside ISO-8859-1, and the source
        // closed with invalid-request instead of resuming.
        assert_eq!(utf8_header_value("41"), "41");
        assert_eq!(utf8_header_value("ü"), "\u{c3}\u{bc}");
        assert_eq!(utf8_header_value("日"), "\u{e6}\u{97}\u{a5}");
        assert!(utf8_header_value("id-日本-ü")
            .chars()
            .all(|c| u32::from(c) <= 0xff));
    }

    #[test]
    fn content_type_essence_is_compared_without_parameters_or_case() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream "));
        assert!(!is_event_stream("text/plain"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text/event-streamx"));
    }

    #[test]
    fn a_content_type_given_twice_is_read_as_fetch_reads_it() {
        // Regression (a review): a proxy that adds `Content-Type: text/event-stream`
        // beside the server's own makes `Headers.get` join the two, and the joined
        // value was refused (the fetch transport closed with a content-type failure),
        // where EventSource reads the last value that parses.
        assert!(is_event_stream("text/event-stream, text/event-stream"));
        assert!(is_event_stream(
            "text/html, text/event-stream; charset=utf-8"
        ));
        assert!(!is_event_stream("text/event-stream, text/html"));
        // What does not parse, and `*/*`, are passed over.
        assert!(is_event_stream("text/event-stream, */*"));
        assert!(is_event_stream("text/event-stream, nonsense, "));
        assert!(!is_event_stream("nonsense, text/event-stream/x"));
        // A comma inside a quoted parameter splits nothing.
        assert!(is_event_stream(r#"text/event-stream; note="a, text/html""#));
        assert!(is_event_stream(
            r#"text/event-stream; note="\", text/html""#
        ));
        assert!(!is_event_stream("text /event-stream"));
    }
}
