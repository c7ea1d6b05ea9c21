//! What the scenarios know about a request, and the per-token request logs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{last_event_id, Params};
use crate::AppState;

/// Largest request body a scenario reads.
const BODY_LIMIT: usize = 1024 * 1024;
/// Records kept per token (the oldest are dropped).
const RECORDS_PER_TOKEN: usize = 1000;
/// Distinct tokens kept (new tokens are ignored beyond this).
const MAX_TOKENS: usize = 10_000;
/// Longest body kept in a log record, in bytes; a longer one is cut at the last
/// character boundary within it.
const LOGGED_BODY_LIMIT: usize = 64 * 1024;

/// A scenario request, read whole. Extracting it also appends a record to the log of
/// the `token` query parameter, if there is one.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    /// The request method.
    pub(crate) method: Method,
    /// The original path, without the query.
    pub(crate) path: String,
    /// The original path with `?query` when there is one.
    pub(crate) path_and_query: String,
    /// The decoded query parameters.
    pub(crate) params: Params,
    /// Every header, lowercase name to value; repeated headers joined with `, `.
    pub(crate) headers: Map<String, Value>,
    /// The Last-Event-ID header, or else the `lastEventId` query parameter.
    pub(crate) last_event_id: Option<String>,
    /// The Last-Event-ID header alone (what the log and echo report).
    pub(crate) last_event_id_header: Option<String>,
    /// The body as text (invalid UTF-8 replaced).
    pub(crate) body: String,
}

impl FromRequest<AppState> for Captured {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
        let params = Params::from_uri(&uri)?;
        let mut headers = Map::new();
        for name in parts.headers.keys() {
            let joined = parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            headers.insert(name.as_str().to_owned(), Value::String(joined));
        }
        let last_event_id_header = parts
            .headers
            .get("last-event-id")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let last_event_id = last_event_id(&parts.headers, &params);
        let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over {} KiB or could not be read; send a smaller body",
                    BODY_LIMIT / 1024
                ),
            )
        })?;
        let captured = Self {
            method: parts.method,
            path: uri.path().to_owned(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            params,
            headers,
            last_event_id,
            last_event_id_header,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        if let Some(token) = captured.params.get("token") {
            state.logs().record(token, captured.log_record());
        }
        Ok(captured)
    }
}

impl Captured {
    /// The record kept in the log: method, path with query, headers, Last-Event-ID
    /// header (or null) and body (at most [`LOGGED_BODY_LIMIT`] bytes of it).
    fn log_record(&self) -> Value {
        json!({
            "method": self.method.as_str(),
            "path": self.path_and_query,
            "headers": self.headers,
            "lastEventId": self.last_event_id_header,
            "body": truncate(&self.body, LOGGED_BODY_LIMIT),
        })
    }
}

/// The longest prefix of `text` that is at most `limit` bytes and ends on a character
/// boundary.
fn truncate(text: &str, limit: usize) -> &str {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Request records per token, for `GET /scenario/log/{token}`.
#[derive(Default)]
pub(crate) struct RequestLogs {
    map: Mutex<HashMap<String, VecDeque<Value>>>,
}

impl RequestLogs {
    fn record(&self, token: &str, record: Value) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_TOKENS && !map.contains_key(token) {
            return;
        }
        let log = map.entry(token.to_owned()).or_default();
        if log.len() == RECORDS_PER_TOKEN {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// The records for `token`, oldest first; empty if none.
    pub(crate) fn get(&self, token: &str) -> Vec<Value> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(token)
            .map(|log| log.iter().cloned().collect())
            .unwrap_or_default()
    }
}
