//! What ended a connection attempt ([`Failure`]), and the HTTP facts it carries:
//! `Retry-After` and HTTP dates. Pure: nothing here imports web code.

use crate::core::retry::{millis, MAX_TIMER};
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
    /// (native transport: the browser does not say which).
    ConnectionLost,
    /// The server ended the response (fetch transport).
    StreamEnded,
    /// The request failed or the body broke off: the server is unreachable, the
    /// network dropped, or CORS refused the response (fetch transport).
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
            Failure::HttpStatus { status, .. } => write!(f, "the server answered HTTP {status}"),
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

/// Parses a `Retry-After` header value: delay-seconds, or an HTTP date compared with
/// `now_ms` (milliseconds since the Unix epoch). A date in the past is no delay.
/// Anything else is `None`.
///
/// RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`.
pub(crate) fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_TIMER));
    }
    let at = parse_http_date(value)?;
    let ms = (at as f64 * 1000.0 - now_ms).max(0.0);
    Some(Duration::from_millis(ms as u64).min(MAX_TIMER))
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// the form RFC 9110 requires senders to use.
fn parse_http_date(value: &str) -> Option<i64> {
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let (h, m, s): (i64, i64, i64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        // 1994-11-06T08:49:37Z is 784111777 s after the epoch.
        let now = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sat, 29 Feb 2020 00:00:01 GMT", 1_582_934_400_000.0),
            Some(Duration::from_secs(1))
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_TIMER)
        );
    }
}
