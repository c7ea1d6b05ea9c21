//! Query-string parameters and request fields that several routes read.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::HeaderMap;

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

    /// The raw value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `name` as a whole number, `None` when absent.
    pub(crate) fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => value.trim().parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "query parameter `{name}` must be a whole number, got `{value}`"
                ))
            }),
        }
    }

    /// `name` as a whole number from `min..=max`, or `default` when absent.
    pub(crate) fn u64_in(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ApiError> {
        let value = self.u64(name)?.unwrap_or(default);
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ApiError::bad_request(format!(
                "query parameter `{name}` must be between {min} and {max}, got {value}"
            )))
        }
    }
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
