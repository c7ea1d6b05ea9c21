//! What the scenarios know about a request ([`ScenarioRequest`]), the per-token request
//! logs ([`RequestLogs`]) and the middleware that records scenario requests
//! ([`record_requests`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::params::{last_event_id, Params};
use crate::{AppState, LOG_RECORD_BUDGET_OVERHEAD as RECORD_OVERHEAD};

/// Largest request body a scenario reads.
const BODY_LIMIT: usize = 1024 * 1024;
/// Records kept per token (the oldest are dropped).
const RECORDS_PER_TOKEN: usize = 1000;
/// Distinct tokens kept; a new token beyond this first evicts every record of the token
/// that holds the oldest record.
const MAX_TOKENS: usize = 10_000;
/// Longest body kept in a log record, in bytes; a longer one is cut at the last
/// character boundary within it.
const LOGGED_BODY_LIMIT: usize = 64 * 1024;
/// Headers whose values a log record shows as [`REDACTED`] unless the request has the
/// query parameter `secrets=1`.
const SECRET_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];
/// What a log record shows instead of a secret header's value.
pub(crate) const REDACTED: &str = "[redacted]";

/// A scenario request, read whole: what every scenario handler extracts.
#[derive(Debug, Clone)]
pub(crate) struct ScenarioRequest {
    /// The request method.
    pub(crate) method: Method,
    /// The original path, without the query.
    pub(crate) path: String,
    /// The original path with `?query` when there is one.
    pub(crate) path_and_query: String,
    /// The decoded query parameters.
    pub(crate) params: Params,
    /// Every header, lowercase name to value; repeated headers joined with `, `.
    /// Nothing is redacted here (`echo` reports it whole).
    pub(crate) headers: Map<String, Value>,
    /// The Last-Event-ID header, or else the `lastEventId` query parameter.
    pub(crate) last_event_id: Option<String>,
    /// The Last-Event-ID header alone.
    pub(crate) last_event_id_header: Option<String>,
    /// The body as text (invalid UTF-8 replaced).
    pub(crate) body: String,
}

impl ScenarioRequest {
    /// Reads the request line, headers and body (at most [`BODY_LIMIT`] bytes).
    async fn read(parts: &Parts, body: Body) -> Result<Self, ApiError> {
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
        Ok(Self {
            method: parts.method.clone(),
            path: uri.path().to_owned(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            params,
            headers,
            last_event_id,
            last_event_id_header,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// The static part of the log record: method, path with query, headers (secret
    /// ones redacted unless `secrets=1`), Last-Event-ID header and `lastEventId` query
    /// parameter (or nulls) and body (at most [`LOGGED_BODY_LIMIT`] bytes of it).
    fn log_fields(&self) -> Map<String, Value> {
        let mut headers = self.headers.clone();
        if self.params.get("secrets") != Some("1") {
            for name in SECRET_HEADERS {
                if let Some(value) = headers.get_mut(name) {
                    *value = Value::String(REDACTED.to_owned());
                }
            }
        }
        let record = json!({
            "method": self.method.as_str(),
            "path": self.path_and_query,
            "headers": headers,
            "lastEventId": self.last_event_id_header,
            "lastEventIdQuery": self.params.get("lastEventId"),
            "body": truncate(&self.body, LOGGED_BODY_LIMIT),
        });
        match record {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

impl FromRequest<AppState> for ScenarioRequest {
    type Rejection = ApiError;

    async fn from_request(mut req: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        // [`record_requests`] has read it already.
        if let Some(read) = req.extensions_mut().remove::<Self>() {
            return Ok(read);
        }
        let (parts, body) = req.into_parts();
        Self::read(&parts, body).await
    }
}

/// Middleware of the scenario routes: reads the request into a [`ScenarioRequest`]
/// for the handler and, when it has a `token` query parameter, appends a record of it
/// to that token's log, then fills in the status it was answered with and whether its
/// response body is still open.
pub(crate) async fn record_requests(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let request = match ScenarioRequest::read(&parts, body).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    // Dropped with this future if the client goes away before the answer.
    let progress = request
        .params
        .get("token")
        .map(|token| state.logs().record(token, request.log_fields()));
    parts.extensions.insert(request);
    let response = next.run(Request::from_parts(parts, Body::empty())).await;
    match progress {
        None => response,
        Some(progress) => {
            progress.answered(response.status());
            response.map(|inner| {
                Body::new(TrackedBody {
                    inner,
                    _open: progress,
                })
            })
        }
    }
}

/// A response body that marks its log record closed when dropped.
struct TrackedBody {
    inner: Body,
    /// Held only for its `Drop`.
    _open: OpenRecord,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
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

/// Milliseconds since the Unix epoch by the system clock (0 if the clock is before
/// 1970): the clock a browser's `Date.now()` reads on the same machine.
pub(crate) fn epoch_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// What changes in a record after it is logged.
#[derive(Debug)]
struct Progress {
    /// The response status; 0 until answered.
    status: AtomicU16,
    /// Whether the request is being answered or its response body is still open.
    open: AtomicBool,
    /// When the record closed, in [`epoch_millis`]; 0 while open.
    ended_at: AtomicU64,
}

/// Keeps a record `open` until dropped; notifies waiters of every change.
pub(crate) struct OpenRecord {
    progress: Arc<Progress>,
    changed: Arc<watch::Sender<u64>>,
}

impl OpenRecord {
    fn answered(&self, status: StatusCode) {
        self.progress
            .status
            .store(status.as_u16(), Ordering::Relaxed);
        self.changed.send_modify(|version| *version += 1);
    }
}

impl Drop for OpenRecord {
    fn drop(&mut self) {
        // Never 0, which means "still open".
        self.progress
            .ended_at
            .store(epoch_millis().max(1), Ordering::Relaxed);
        self.progress.open.store(false, Ordering::Relaxed);
        self.changed.send_modify(|version| *version += 1);
    }
}

struct Record {
    id: u64,
    fields: Map<String, Value>,
    bytes: usize,
    progress: Arc<Progress>,
}

impl Record {
    fn to_json(&self) -> Value {
        let mut fields = self.fields.clone();
        let status = self.progress.status.load(Ordering::Relaxed);
        fields.insert(
            "status".to_owned(),
            if status == 0 {
                Value::Null
            } else {
                Value::from(status)
            },
        );
        fields.insert(
            "open".to_owned(),
            Value::Bool(self.progress.open.load(Ordering::Relaxed)),
        );
        let ended_at = self.progress.ended_at.load(Ordering::Relaxed);
        fields.insert(
            "endedAt".to_owned(),
            if ended_at == 0 {
                Value::Null
            } else {
                Value::from(ended_at)
            },
        );
        Value::Object(fields)
    }
}

#[derive(Default)]
struct Logs {
    by_token: HashMap<Arc<str>, VecDeque<Record>>,
    /// Every record's id, oldest first, with its token: the eviction order.
    order: BTreeMap<u64, Arc<str>>,
    bytes: usize,
    next_id: u64,
}

impl Logs {
    /// Removes the oldest record of all; returns whether there was one.
    fn evict_oldest(&mut self) -> bool {
        let Some((id, token)) = self.order.pop_first() else {
            return false;
        };
        if let Some(log) = self.by_token.get_mut(&token) {
            if log.front().is_some_and(|r| r.id == id) {
                if let Some(record) = log.pop_front() {
                    self.bytes -= record.bytes;
                }
            }
            if log.is_empty() {
                self.by_token.remove(&token);
            }
        }
        true
    }

    /// Removes every record of `token`.
    fn evict_token(&mut self, token: &str) {
        if let Some(log) = self.by_token.remove(token) {
            for record in log {
                self.order.remove(&record.id);
                self.bytes -= record.bytes;
            }
        }
    }
}

/// Request records per token, for `GET /scenario/log/{token}`, within one byte budget
/// for all tokens together.
pub(crate) struct RequestLogs {
    logs: Mutex<Logs>,
    budget: usize,
    changed: Arc<watch::Sender<u64>>,
}

impl RequestLogs {
    /// Empty logs that hold at most `budget` bytes together.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            logs: Mutex::new(Logs::default()),
            budget,
            changed: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Logs> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a record to the log of `token`, evicting the oldest records of all
    /// tokens while over the budget, with `startedAt` set to now. The record stays
    /// `open` until the returned guard is dropped.
    fn record(&self, token: &str, mut fields: Map<String, Value>) -> OpenRecord {
        fields.insert("startedAt".to_owned(), Value::from(epoch_millis()));
        let progress = Arc::new(Progress {
            status: AtomicU16::new(0),
            open: AtomicBool::new(true),
            ended_at: AtomicU64::new(0),
        });
        let bytes = serde_json::to_vec(&fields).map_or(0, |json| json.len())
            + token.len()
            + RECORD_OVERHEAD;
        {
            let mut logs = self.lock();
            if !logs.by_token.contains_key(token) && logs.by_token.len() >= MAX_TOKENS {
                if let Some(oldest) = logs.order.first_key_value().map(|(_, t)| Arc::clone(t)) {
                    logs.evict_token(&oldest);
                }
            }
            let id = logs.next_id;
            logs.next_id += 1;
            let token: Arc<str> = match logs.by_token.get_key_value(token) {
                Some((key, _)) => Arc::clone(key),
                None => Arc::from(token),
            };
            let log = logs.by_token.entry(Arc::clone(&token)).or_default();
            let dropped = if log.len() >= RECORDS_PER_TOKEN {
                log.pop_front()
            } else {
                None
            };
            log.push_back(Record {
                id,
                fields,
                bytes,
                progress: Arc::clone(&progress),
            });
            if let Some(dropped) = dropped {
                logs.order.remove(&dropped.id);
                logs.bytes -= dropped.bytes;
            }
            logs.order.insert(id, token);
            logs.bytes += bytes;
            while logs.bytes > self.budget && logs.evict_oldest() {}
        }
        self.changed.send_modify(|version| *version += 1);
        OpenRecord {
            progress,
            changed: Arc::clone(&self.changed),
        }
    }

    /// The records for `token`, oldest first; empty if none.
    pub(crate) fn get(&self, token: &str) -> Vec<Value> {
        self.lock()
            .by_token
            .get(token)
            .map(|log| log.iter().map(Record::to_json).collect())
            .unwrap_or_default()
    }

    /// Bytes held by all logs together, as counted against the budget.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Resolves once `done` holds for the records of `token` (at once if it already
    /// does), re-checking after every change to any log.
    pub(crate) async fn wait_for(&self, token: &str, done: impl Fn(&[Value]) -> bool) {
        let mut changes = self.changed.subscribe();
        loop {
            changes.mark_unchanged();
            if done(&self.get(token)) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(n: usize) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("n".to_owned(), Value::from(n));
        map
    }

    #[test]
    fn the_budget_evicts_the_oldest_records_of_all_tokens() {
        let logs = RequestLogs::new(4096);
        for n in 0..1000 {
            drop(logs.record(&format!("t{}", n % 7), fields(n)));
            assert!(logs.bytes() <= 4096);
        }
        assert_eq!(
            logs.get("t5").last().map(|r| r["n"].clone()),
            Some(999.into())
        );
        assert_eq!(
            logs.get("t6").last().map(|r| r["n"].clone()),
            Some(993.into())
        );
        assert!(logs
            .get("t0")
            .first()
            .is_some_and(|r| r["n"].as_u64() > Some(900)));
        let held: usize = logs.lock().by_token.values().map(VecDeque::len).sum();
        assert_eq!(held, logs.lock().order.len());
    }

    #[test]
    fn per_token_cap_keeps_the_order_index_in_step() {
        let logs = RequestLogs::new(usize::MAX);
        for n in 0..RECORDS_PER_TOKEN + 10 {
            drop(logs.record("one", fields(n)));
        }
        assert_eq!(logs.get("one").len(), RECORDS_PER_TOKEN);
        assert_eq!(logs.lock().order.len(), RECORDS_PER_TOKEN);
        assert_eq!(logs.get("one")[0]["n"], 10);
    }

    #[test]
    fn status_open_and_times_follow_the_guard() {
        let logs = RequestLogs::new(usize::MAX);
        let before = epoch_millis();
        let guard = logs.record("t", fields(1));
        let record = &logs.get("t")[0];
        assert_eq!(record["status"], Value::Null);
        assert_eq!(record["open"], true);
        assert_eq!(record["endedAt"], Value::Null);
        let started = record["startedAt"].as_u64().expect("startedAt is a number");
        assert!(started >= before && started <= epoch_millis(), "{started}");
        guard.answered(StatusCode::BAD_GATEWAY);
        assert_eq!(logs.get("t")[0]["status"], 502);
        drop(guard);
        let record = &logs.get("t")[0];
        assert_eq!(record["open"], false);
        let ended = record["endedAt"].as_u64().expect("endedAt is a number");
        assert!(ended >= started && ended <= epoch_millis(), "{ended}");
    }
}
