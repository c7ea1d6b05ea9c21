//! What the scenarios know about a request ([`ScenarioRequest`]), the per-token request
//! logs ([`RequestLogs`]) and the middleware that records scenario requests
//! ([`record_requests`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::params::{last_event_id, Params};
use crate::{AppState, LOG_RECORD_BUDGET_OVERHEAD as RECORD_OVERHEAD};

/// Largest request body a scenario reads.
const BODY_LIMIT: usize = 1024 * 1024;
/// Records kept per token (the oldest are dropped).
pub(crate) const RECORDS_PER_TOKEN: usize = 1000;
/// Most bytes of records one answer of `GET /scenario/log/{token}` holds (one record
/// at least). The answer is written a slice at a time as the client reads it, from the
/// log's own records: it copies nothing ahead, but keeps the records it names, even
/// ones the log budget evicts meanwhile (at most this much per answer, and as many
/// answers as requests at once, `--max-requests`).
pub(crate) const LOG_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Distinct tokens kept; a new token beyond this first evicts every record of the token
/// that holds the oldest record.
const MAX_TOKENS: usize = 10_000;
/// Longest body kept in a log record, in bytes; a longer one is cut at the last
/// character boundary within it.
const LOGGED_BODY_LIMIT: usize = 64 * 1024;
/// Headers whose values a log record shows as [`REDACTED`] unless the request has the
/// query parameter `secrets=1`: credentials, and the API keys of the model APIs the
/// `llm` scenarios speak (Anthropic's `x-api-key`, Azure OpenAI's `api-key`, Google's
/// `x-goog-api-key`), which a real client pointed at them sends.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
];
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
        let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|e| {
            if let Some(late) = crate::body::late(&e) {
                return ApiError::new(StatusCode::REQUEST_TIMEOUT, late.to_string());
            }
            // (The limit's error is http-body-util's `LengthLimitError` in the chain, which
            // says so; anything else, a client gone or a broken chunked body, is no reason
            // to send less.)
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(error) = source {
                if error.to_string() == "length limit exceeded" {
                    return ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "the request body is over {} KiB; send a smaller body",
                            BODY_LIMIT / 1024
                        ),
                    );
                }
                source = error.source();
            }
            ApiError::bad_request(format!(
                "the request body could not be read ({e}); send it again"
            ))
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
            // Marked closed when the body ends or is dropped.
            response.map(|inner| crate::body::holding(inner, progress))
        }
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
    /// The fields that do not change, as JSON text (an object): held as text, so that
    /// what the record counts is what it holds (as a `serde_json` map, the fields took
    /// 6 to 12 times their text), and shared, so that an answer takes it under the lock
    /// without copying it.
    text: Arc<str>,
    bytes: usize,
    progress: Arc<Progress>,
}

/// A record's text and its changing fields, taken out of the logs under the lock.
type Taken = (Arc<str>, Arc<Progress>);

/// Writes a record as the log answers it: its `text` with the fields that change after
/// it is logged (`status`, `open`, `endedAt`) added at the end.
fn write_record(out: &mut String, text: &str, progress: &Progress) {
    let fields = text.strip_suffix('}').unwrap_or(text);
    out.push_str(fields);
    if fields != "{" {
        out.push(',');
    }
    // (Writing to a `String` cannot fail.)
    match progress.status.load(Ordering::Relaxed) {
        0 => out.push_str("\"status\":null"),
        status => {
            let _ = write!(out, "\"status\":{status}");
        }
    }
    let _ = write!(out, ",\"open\":{}", progress.open.load(Ordering::Relaxed));
    match progress.ended_at.load(Ordering::Relaxed) {
        0 => out.push_str(",\"endedAt\":null}"),
        ended_at => {
            let _ = write!(out, ",\"endedAt\":{ended_at}}}");
        }
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
        // (A map of strings always serializes.)
        let text: Arc<str> = Arc::from(serde_json::to_string(&fields).unwrap_or_default());
        let bytes = text.len() + token.len() + RECORD_OVERHEAD;
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
                text,
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

    /// The records of `token` whose number is `from` or more, oldest first, as many as
    /// fit in `limit` bytes of text (one at least), taken under the lock without
    /// copying their text; and the number of the first record left out, if any.
    /// (Numbers, not places: the places move as the oldest records go, and a reader
    /// of the pages would miss records without knowing.)
    fn page(&self, token: &str, from: u64, limit: usize) -> (Vec<Taken>, Option<u64>) {
        let logs = self.lock();
        let Some(log) = logs.by_token.get(token) else {
            return (Vec::new(), None);
        };
        let mut records = Vec::new();
        let mut bytes = 0;
        for record in log.iter().skip_while(|record| record.id < from) {
            if !records.is_empty() && bytes + record.text.len() > limit {
                return (records, Some(record.id));
            }
            bytes += record.text.len();
            records.push((Arc::clone(&record.text), Arc::clone(&record.progress)));
        }
        (records, None)
    }

    /// The answer of `GET /scenario/log/{token}?from=N`: the JSON array of the
    /// records of `token` numbered `from` or more, oldest first, at most
    /// [`LOG_ANSWER_BYTES`] of them (one at least); and the number of the first record
    /// left out, if any.
    #[cfg(test)]
    pub(crate) fn answer(&self, token: &str, from: u64) -> (String, Option<u64>) {
        let (slices, next) = self.answer_slices(token, from, usize::MAX);
        (slices.collect(), next)
    }

    /// [`answer`](Self::answer) in pieces of about `slice` bytes (one record at least),
    /// each written as it is taken: the records' texts are the log's own, shared, not
    /// copied ahead, so an answer the client does not read holds a piece and the
    /// records' handles (and a record evicted meanwhile, up to [`LOG_ANSWER_BYTES`]).
    pub(crate) fn answer_slices(
        &self,
        token: &str,
        from: u64,
        slice: usize,
    ) -> (impl Iterator<Item = String> + Send + 'static, Option<u64>) {
        let (records, next) = self.page(token, from, LOG_ANSWER_BYTES);
        let mut records = records.into_iter().enumerate();
        let mut done = false;
        let mut first = true;
        let slices = std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut out = String::new();
            if std::mem::take(&mut first) {
                out.push('[');
            }
            while out.len() < slice {
                let Some((n, (text, progress))) = records.next() else {
                    out.push(']');
                    done = true;
                    break;
                };
                if n > 0 {
                    out.push(',');
                }
                write_record(&mut out, &text, &progress);
            }
            Some(out)
        });
        (slices, next)
    }

    /// Every record of `token`, oldest first; empty if none.
    pub(crate) fn get(&self, token: &str) -> Vec<Value> {
        let (records, _) = self.page(token, 0, usize::MAX);
        records
            .iter()
            .map(|(text, progress)| {
                let mut out = String::new();
                write_record(&mut out, text, progress);
                // (Its own writing always parses.)
                serde_json::from_str(&out).unwrap_or(Value::Null)
            })
            .collect()
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

    // What broke (a review): a record counted the length of its JSON text but was held
    // as a `serde_json` map, 6 to 12 times as big (a record of 100 one-letter headers:
    // about 1 KiB counted, 10 KiB held), so the logs held far more than the budget.
    #[test]
    fn a_record_counts_at_least_what_it_holds() {
        let mut headers = Map::new();
        for n in 0..100 {
            headers.insert(format!("h{n}"), Value::from("x"));
        }
        let mut fields = Map::new();
        fields.insert("headers".to_owned(), Value::Object(headers));
        let logs = RequestLogs::new(usize::MAX);
        // The first record makes the token's queue and index.
        drop(logs.record("t", fields.clone()));
        let (heap_before, counted_before) = (crate::testing::heap::live(), logs.bytes());
        for _ in 0..20 {
            drop(logs.record("t", fields.clone()));
        }
        let held = crate::testing::heap::live() - heap_before;
        let counted = logs.bytes() - counted_before;
        assert!(
            usize::try_from(held).is_ok_and(|held| held <= counted),
            "{held} bytes held, {counted} counted"
        );
    }

    /// Logs whose token `t` has `count` records, each with a body a tenth of an answer.
    fn logs_of_tenths(count: usize) -> RequestLogs {
        let logs = RequestLogs::new(usize::MAX);
        let body = "x".repeat(LOG_ANSWER_BYTES / 10);
        for n in 0..count {
            let mut record = fields(n);
            record.insert("body".to_owned(), Value::from(body.as_str()));
            drop(logs.record("t", record));
        }
        logs
    }

    #[test]
    fn an_answer_holds_a_bounded_page_and_says_where_the_rest_starts() {
        let logs = logs_of_tenths(25);
        let mut from = 0;
        let mut pages = Vec::new();
        let mut seen = Vec::new();
        loop {
            let (json, next) = logs.answer("t", from);
            assert!(
                json.len() <= LOG_ANSWER_BYTES + 1024,
                "{} bytes",
                json.len()
            );
            let page: Vec<Value> = serde_json::from_str(&json).expect("a json array");
            pages.push(page.len());
            seen.extend(page.iter().map(|record| record["n"].as_u64()));
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        assert_eq!(pages, [9, 9, 7]);
        assert_eq!(seen, (0..25).map(Some).collect::<Vec<_>>());
        // One record over the bound still goes, alone.
        let mut huge = fields(99);
        huge.insert("body".to_owned(), Value::from("y".repeat(LOG_ANSWER_BYTES)));
        drop(logs.record("huge", huge));
        drop(logs.record("huge", fields(100)));
        let (json, next) = logs.answer("huge", 0);
        assert!(json.len() > LOG_ANSWER_BYTES);
        let rest = logs.answer("huge", next.expect("the record left out")).0;
        let rest: Vec<Value> = serde_json::from_str(&rest).expect("a json array");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0]["n"], 100);
        // Past the end, and an unknown token: an empty array.
        assert_eq!(logs.answer("t", u64::MAX), ("[]".to_owned(), None));
        assert_eq!(logs.answer("nobody", 0), ("[]".to_owned(), None));
    }

    #[test]
    fn an_answer_is_written_as_it_is_read() {
        // What broke (a review): the answer was built whole (up to 8 MiB) before a byte
        // went out, and an answer the client did not read held it all.
        let logs = logs_of_tenths(9);
        let before = crate::testing::heap::live();
        let (mut slices, next) = logs.answer_slices("t", 0, 64 * 1024);
        let first = slices.next().expect("a slice");
        let held = crate::testing::heap::live() - before;
        assert!(held < 2 * 1024 * 1024, "{held} bytes held after one slice");
        assert!(next.is_none());
        let json = first + &slices.collect::<String>();
        let page: Vec<Value> = serde_json::from_str(&json).expect("a json array");
        assert_eq!(page.len(), 9);
    }

    #[test]
    fn a_page_goes_on_from_its_record_while_the_oldest_go() {
        // What broke (a review): pages went by place in the token's log, and the places
        // move as its oldest records go (its cap of 1,000, the budget): a reader asking
        // for the rest from place 127 after three records went missed three records.
        let logs = RequestLogs::new(usize::MAX);
        let body = "x".repeat(LOG_ANSWER_BYTES / 100);
        let record = |n: usize| {
            let mut record = fields(n);
            record.insert("body".to_owned(), Value::from(body.as_str()));
            drop(logs.record("t", record));
        };
        for n in 0..RECORDS_PER_TOKEN {
            record(n);
        }
        let (first, next) = logs.answer("t", 0);
        let first: Vec<Value> = serde_json::from_str(&first).expect("a json array");
        let last = first
            .last()
            .and_then(|r| r["n"].as_u64())
            .expect("a record");
        for n in RECORDS_PER_TOKEN..RECORDS_PER_TOKEN + 3 {
            record(n);
        }
        let (rest, _) = logs.answer("t", next.expect("more"));
        let rest: Vec<Value> = serde_json::from_str(&rest).expect("a json array");
        assert_eq!(rest.first().and_then(|r| r["n"].as_u64()), Some(last + 1));
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
