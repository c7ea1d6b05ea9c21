//! Query-string parameters and request fields that several routes read.

use std::collections::HashMap;
use std::fmt::Display;
use std::num::{IntErrorKind, ParseIntError};
use std::ops::RangeInclusive;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use crate::channels::validate_channel_name;
use crate::error::ApiError;

/// The decoded query string as a map (the last value of a repeated name wins).
/// A query string that cannot be decoded is a 400 with a JSON error.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub(crate) HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_uri(&parts.uri)
    }
}

/// The one parameter of a route's path (`/scenario/end-after/{n}`), as text. A path
/// that does not decode (`%FF`, not UTF-8) is a 400 with a JSON error, as every other
/// bad input, not axum's plain-text one.
#[derive(Debug, Clone)]
pub(crate) struct PathParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(text)| Self(text))
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "the path could not be read ({}); its parameter must be UTF-8 text, \
                     percent-encoded",
                    e.body_text()
                ))
            })
    }
}

impl Params {
    /// Decodes the query string of `uri`.
    pub(crate) fn from_uri(uri: &axum::http::Uri) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::try_from_uri(uri)
            .map(|Query(map)| Self(map))
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "the query string could not be decoded ({e}); send name=value pairs joined by &"
                ))
            })
    }

    /// A 400 naming the first parameter that is not one of `known` (sorted, so the
    /// answer is the same each time): for routes where a misspelt name would act on
    /// the default instead (`chanel=news` on the channel `default`).
    pub(crate) fn only(&self, known: &[&str], route: &str) -> Result<(), ApiError> {
        let mut unknown: Vec<&str> = (self.0.keys())
            .map(String::as_str)
            .filter(|name| !known.contains(name))
            .collect();
        unknown.sort_unstable();
        match unknown.first() {
            None => Ok(()),
            Some(name) => Err(ApiError::bad_request(format!(
                "`{route}` has no query parameter `{name}`; it takes {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The raw value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `name` as a whole number, `None` when absent.
    pub(crate) fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.whole(name, &0, &u64::MAX)
    }

    /// `name` as a whole number, `None` when absent; `low` and `high` are the range the
    /// error for a number too large for a `u64` gives.
    fn whole(
        &self,
        name: &str,
        low: &dyn Display,
        high: &dyn Display,
    ) -> Result<Option<u64>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value.trim().parse().map(Some).map_err(|e: ParseIntError| {
            // All digits, but more than a u64 holds: "not a whole number" is untrue.
            let message = if *e.kind() == IntErrorKind::PosOverflow {
                format!(
                    "query parameter `{name}` is too large: it must be between {low} and \
                     {high}, got `{value}`"
                )
            } else {
                format!("query parameter `{name}` must be a whole number, got `{value}`")
            };
            ApiError::bad_request(message)
        })
    }

    /// `name` as a whole number in `range`, or `default` when absent.
    pub(crate) fn int_in<T>(
        &self,
        name: &str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, ApiError>
    where
        T: TryFrom<u64> + PartialOrd + Display,
    {
        match self.whole(name, range.start(), range.end())? {
            None => Ok(default),
            Some(value) => T::try_from(value)
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter `{name}` must be between {} and {}, got {value}",
                        range.start(),
                        range.end()
                    ))
                }),
        }
    }

    /// `name` as an HTTP status (see [`parse_status`]), or `default` when absent.
    pub(crate) fn status(&self, name: &str, default: StatusCode) -> Result<StatusCode, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => parse_status(value, &format!("query parameter `{name}`")),
        }
    }

    /// `name` as a number from 0 to 1, or `default` when absent.
    pub(crate) fn fraction(&self, name: &str, default: f64) -> Result<f64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter `{name}` must be a number from 0 to 1, got `{value}`"
                    ))
                }),
        }
    }

    /// The `channel` parameter, default `default`, checked with
    /// [`validate_channel_name`].
    pub(crate) fn channel(&self) -> Result<&str, ApiError> {
        let name = self.get("channel").unwrap_or("default");
        validate_channel_name(name).map_err(ApiError::bad_request)?;
        Ok(name)
    }
}

/// `value` as an HTTP status from 200 to 599 (1xx cannot be a final response); `what`
/// names the parameter in the error. Shared by `/scenario/status/{code}` and
/// `/control/fail?status=S`.
pub(crate) fn parse_status(value: &str, what: &str) -> Result<StatusCode, ApiError> {
    value
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|c| (200..=599).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{what} needs an http status from 200 to 599, got `{value}`"
            ))
        })
}

/// The id a reconnecting client resumes from: the `Last-Event-ID` header, or else the
/// `lastEventId` query parameter (used by clients that cannot set headers).
pub(crate) fn last_event_id(headers: &HeaderMap, params: &Params) -> Option<String> {
    match headers.get("last-event-id") {
        Some(value) => Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        None => params.get("lastEventId").map(str::to_owned),
    }
}

/// A Last-Event-ID read as the number of the last event seen; anything that is not a
/// number counts as "nothing seen yet".
pub(crate) fn last_seen_number(last_event_id: Option<&str>) -> u64 {
    last_event_id
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, StatusCode};

    use super::*;

    #[test]
    fn last_event_id_prefers_the_header_to_the_query() {
        let uri = "/x?lastEventId=q".parse().expect("uri");
        let params = Params::from_uri(&uri).expect("params");
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers, &params).as_deref(), Some("q"));
        headers.insert("last-event-id", HeaderValue::from_static("h"));
        assert_eq!(last_event_id(&headers, &params).as_deref(), Some("h"));
        // An empty header still wins: the client said it has seen nothing with an id.
        headers.insert("last-event-id", HeaderValue::from_static(""));
        assert_eq!(last_event_id(&headers, &params).as_deref(), Some(""));
        assert_eq!(last_event_id(&HeaderMap::new(), &Params::default()), None);
    }

    #[test]
    fn statuses_are_checked_in_one_place() {
        assert_eq!(
            parse_status("503", "x"),
            Ok(StatusCode::SERVICE_UNAVAILABLE)
        );
        for bad in ["101", "600", "abc", ""] {
            assert!(parse_status(bad, "x").is_err(), "{bad}");
        }
        let uri = "/x?status=700".parse().expect("uri");
        let params = Params::from_uri(&uri).expect("params");
        assert!(params.status("status", StatusCode::OK).is_err());
        assert_eq!(
            Params::default().status("status", StatusCode::BAD_GATEWAY),
            Ok(StatusCode::BAD_GATEWAY)
        );
    }
}
