//! Query-string parameters and request fields that several routes read.

use std::collections::HashMap;
use std::fmt::Display;
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
        match self.u64(name)? {
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

    /// `name` as an HTTP status from 200 to 599 (1xx cannot be a final response), or
    /// `default` when absent.
    pub(crate) fn status(&self, name: &str, default: StatusCode) -> Result<StatusCode, ApiError> {
        let code = self.int_in(name, default.as_u16(), 200..=599)?;
        // Every code from 100 to 999 is a valid `StatusCode`, so this never falls back.
        Ok(StatusCode::from_u16(code).unwrap_or(default))
    }

    /// The `channel` parameter, default `default`, checked with
    /// [`validate_channel_name`].
    pub(crate) fn channel(&self) -> Result<&str, ApiError> {
        let name = self.get("channel").unwrap_or("default");
        validate_channel_name(name).map_err(ApiError::bad_request)?;
        Ok(name)
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
