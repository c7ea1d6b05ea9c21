//! What ended a connection attempt ([`Failure`]), and the HTTP facts it carries.
//! Pure: nothing here imports web code. (`Retry-After` is read in `retry_after`.)

use crate::core::retry::millis;
use std::fmt;
use std::time::Duration;

/// What ended a connection, as the [`ReconnectPolicy`](crate::ReconnectPolicy) sees it
/// and as [`ConnectionState::Reconnecting`](crate::ConnectionState::Reconnecting)
/// reports it (where it is called [`ReconnectCause`]: the same type).
///
/// The predicate given to
/// [`ReconnectPolicy::retry_if`](crate::ReconnectPolicy::retry_if) receives one of
/// these; it never receives [`Requested`](Self::Requested) or
/// [`PageHidden`](Self::PageHidden), which are not failures and always lead to a new
/// connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The browser reported the connection lost or unreachable and is retrying it
    /// (native transport: the browser does not say which); also a shared connection's
    /// handover to another tab, on either transport.
    ConnectionLost,
    /// The server ended the response (fetch transport).
    StreamEnded,
    /// The request failed or the body broke off: the server is unreachable, the
    /// network dropped, or CORS refused the response (fetch). Native: the check of why
    /// the browser gave up failed or timed out, and, as the cause of a wait for the
    /// network, "the browser is offline".
    Network {
        /// What the browser said.
        message: String,
    },
    /// Nothing arrived for the heartbeat timeout: no bytes (fetch), or no event
    /// (native), or no response headers.
    HeartbeatTimeout {
        /// The timeout that passed.
        after: Duration,
    },
    /// The server answered with a status other than 200 and 204.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The status text (may be empty).
        status_text: String,
        /// The delay the server asked for in `Retry-After`, if it sent one that
        /// parses.
        retry_after: Option<Duration>,
        /// The response body's text, at most its first [`ERROR_BODY_LIMIT`] bytes (an
        /// API's JSON error stays text): fetch transport; `None` where it was not read
        /// (native).
        body: Option<String>,
    },
    /// The server answered 200 with a content type other than `text/event-stream`.
    ContentType {
        /// The `Content-Type` it sent (empty when none).
        content_type: String,
    },
    /// The server answered 204 No Content: "stop reconnecting".
    NoContent,
    /// [`EventSource::reconnect`](crate::EventSource::reconnect) asked for a new
    /// connection.
    Requested,
    /// The page was hidden with `pause_when_hidden` on: the connection waits for it to
    /// be visible again.
    PageHidden,
}

/// How much of an error response's body [`Failure::HttpStatus`] keeps: 64 KiB.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Why a connection is being retried: what ended the one before. The same type as
/// [`Failure`], under the name [`ConnectionState`](crate::ConnectionState) uses.
pub type ReconnectCause = Failure;

impl Failure {
    /// The default answer to "is this retried?": network errors, ended streams, lost
    /// connections, heartbeat timeouts, 5xx, 408 and 429 are; 204, other statuses and
    /// a wrong content type are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Network { .. }
            | Failure::StreamEnded
            | Failure::ConnectionLost
            | Failure::HeartbeatTimeout { .. }
            | Failure::Requested
            | Failure::PageHidden => true,
            Failure::HttpStatus { status, .. } => {
                (500..=599).contains(status) || *status == 408 || *status == 429
            }
            Failure::ContentType { .. } | Failure::NoContent => false,
        }
    }

    /// The `Retry-After` delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Whether a `Content-Type` value is `text/event-stream`, parameters aside. The value
/// may be several joined by commas (a proxy that adds the header beside the server's,
/// which `Headers.get` joins): as Fetch's "extract a MIME type" (and so the browser's
/// EventSource) reads it, the last one that parses as a MIME type, `*/*` aside, decides.
pub(crate) fn is_event_stream(content_type: &str) -> bool {
    mime_type(content_type)
        .is_some_and(|(essence, _)| essence.eq_ignore_ascii_case("text/event-stream"))
}

/// The charset an event stream's `Content-Type` names, when it is not UTF-8: Chromium's
/// EventSource refuses such a stream ("has a charset that is not UTF-8"), though the
/// format is always read as UTF-8 (the fetch transport reads it so).
#[cfg(feature = "probe")]
pub(crate) fn charset_not_utf8(content_type: &str) -> Option<&str> {
    let (essence, mut parameters) = mime_type(content_type)?;
    if !essence.eq_ignore_ascii_case("text/event-stream") {
        return None;
    }
    loop {
        let (parameter, rest) = cut(parameters, b';');
        let (name, value) = cut(parameter, b'=');
        if trim_http(name).eq_ignore_ascii_case("charset") {
            let value = trim_http(value.unwrap_or_default());
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            return (!value.eq_ignore_ascii_case("utf-8")).then_some(value);
        }
        parameters = rest?;
    }
}

/// The last of the comma-separated values of `content_type` that parses as a MIME type,
/// `*/*` aside: its essence (`type/subtype`) and its parameters (after the first `;`).
/// The value is split at its commas, but not at those inside a quoted string (Fetch's
/// "get, decode, and split"). (Byte by byte: each delimiter is ASCII, and `str`'s
/// pattern searches would each add their own code to the wasm.)
fn mime_type(content_type: &str) -> Option<(&str, &str)> {
    let bytes = content_type.as_bytes();
    let (mut found, mut start, mut quoted, mut escaped) = (None, 0, false, false);
    for at in 0..=bytes.len() {
        match bytes.get(at) {
            Some(_) if escaped => escaped = false,
            Some(b'\\') if quoted => escaped = true,
            Some(b'"') => quoted = !quoted,
            Some(b',') if !quoted => {
                found = one_mime_type(content_type.get(start..at)?).or(found);
                start = at + 1;
            }
            Some(_) => {}
            None => found = one_mime_type(content_type.get(start..)?).or(found),
        }
    }
    found
}

/// One MIME type: its essence, if both its parts are HTTP tokens and it is not `*/*`,
/// and its parameters.
fn one_mime_type(value: &str) -> Option<(&str, &str)> {
    let (essence, parameters) = cut(value, b';');
    let essence = trim_http(essence);
    let (kind, subtype) = cut(essence, b'/');
    (is_token(kind) && is_token(subtype.unwrap_or_default()) && essence != "*/*")
        .then_some((essence, parameters.unwrap_or_default()))
}

/// `text` before and after the first `at`: all of it, and `None`, without one.
fn cut(text: &str, at: u8) -> (&str, Option<&str>) {
    match text.bytes().position(|b| b == at) {
        Some(i) => (text.get(..i).unwrap_or_default(), text.get(i + 1..)),
        None => (text, None),
    }
}

/// `text` without HTTP's whitespace around it.
pub(crate) fn trim_http(text: &str) -> &str {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |e| e + 1);
    text.get(start..end).unwrap_or_default()
}

/// An HTTP token: not empty, and only the characters RFC 9110 allows.
fn is_token(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::ConnectionLost => write!(f, "the connection was lost"),
            Failure::StreamEnded => write!(f, "the server ended the stream"),
            Failure::Network { message } => write!(f, "a network error ({message})"),
            Failure::HeartbeatTimeout { after } => write!(
                f,
                "nothing arrived for {} ms (heartbeat timeout)",
                millis(*after)
            ),
            Failure::HttpStatus {
                status,
                status_text,
                retry_after,
                body,
            } => {
                answered(f, *status, status_text)?;
                // (Whole seconds, rounded up; under one, milliseconds, which is what a
                // date gives; none, nothing. In u64: a u128 division would link its
                // own routine into the wasm.)
                match retry_after {
                    Some(wait) if wait.as_secs() > 0 => write!(
                        f,
                        " asking for a wait of {} s (Retry-After)",
                        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
                    )?,
                    Some(wait) if !wait.is_zero() => write!(
                        f,
                        " asking for a wait of {} ms (Retry-After)",
                        wait.subsec_millis()
                    )?,
                    _ => {}
                }
                said(f, body.as_deref())
            }
            // (Native learns the type from the browser, which may not tell it.)
            Failure::ContentType { content_type } if content_type.is_empty() => write!(
                f,
                "the server answered 200 without a content type (or the browser did not tell \
                 which)"
            ),
            Failure::ContentType { content_type } => write!(
                f,
                "the server answered with content type \"{content_type}\""
            ),
            Failure::NoContent => write!(f, "the server answered 204 No Content"),
            Failure::Requested => write!(f, "a reconnect was requested"),
            Failure::PageHidden => write!(f, "the page is hidden"),
        }
    }
}

/// "the server answered HTTP 404 Not Found" (HTTP/2 has no reason phrase, and native
/// learns only the status).
pub(crate) fn answered(f: &mut fmt::Formatter<'_>, status: u16, text: &str) -> fmt::Result {
    let space = if text.is_empty() { "" } else { " " };
    write!(f, "the server answered HTTP {status}{space}{text}")
}

/// "; it said: …", the start of an error answer's body, where there is one.
pub(crate) fn said(f: &mut fmt::Formatter<'_>, body: Option<&str>) -> fmt::Result {
    match body.map(str::trim) {
        Some(body) if !body.is_empty() => {
            write!(f, "; it said: {}", super::state::excerpt(body, 200))
        }
        _ => Ok(()),
    }
}

#[cfg(all(test, feature = "probe"))]
mod tests {
    use super::*;

    #[test]
    fn an_event_streams_charset_other_than_utf8_is_told() {
        // What broke (a review): Chromium's EventSource refuses an event stream whose
        // charset is not UTF-8, and native's check of why the browser gave up found a
        // valid stream, so the source retried it for good, a check with each attempt.
        assert_eq!(
            charset_not_utf8("text/event-stream; charset=ISO-8859-1"),
            Some("ISO-8859-1")
        );
        assert_eq!(
            charset_not_utf8(r#"text/event-stream;charset="utf8""#),
            Some("utf8")
        );
        assert_eq!(charset_not_utf8("text/event-stream; charset=UTF-8"), None);
        assert_eq!(charset_not_utf8("text/event-stream"), None);
        assert_eq!(charset_not_utf8("text/html; charset=iso-8859-1"), None);
        // The value that decides, as for the essence: the last that parses.
        assert_eq!(
            charset_not_utf8("text/event-stream; charset=latin1, text/event-stream"),
            None
        );
    }
}
