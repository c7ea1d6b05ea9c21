//! `/scenario/...`: deterministic behaviours for the browser tests.
//!
//! Every scenario answers GET and POST and takes these optional query parameters:
//!
//! - `retry=MS`: send `retry: MS` and a blank line first (after the BOM in `bom`; with
//!   the route's own line ends in `line-endings`).
//! - `token=T`: append a record of the request to the log of `T`, read back with
//!   `GET /scenario/log/T` (see [Request records](#request-records)).
//! - `secrets=1`: log the `authorization`, `cookie` and `proxy-authorization` headers
//!   whole instead of `"[redacted]"`.
//!
//! A request from another site (an `Origin` that is neither a loopback origin nor this
//! server's, or `Sec-Fetch-Site: cross-site`) gets 403 with a JSON error and is not
//! logged (see the crate docs).
//!
//! Where a route says "idle", the response stays open after its events, sending
//! nothing at all (no keep-alive) until server shutdown. Event data is compact JSON.
//! Events built by axum are written `event:` (if any), `id:` (if any), `data:`.
//!
//! | route | behaviour |
//! |---|---|
//! | `end-after/{n}?event=TYPE` | events `id: k` / `data: {"n":k}` for k after Last-Event-ID (header or `lastEventId`) up to n, then the response ends |
//! | `drop-every/{k}?total=T` | events `id: n` / `data: {"n":n}` for n after Last-Event-ID up to T (default 10); the response ends after every k events of one connection; idle after event T |
//! | `status/{code}?retry_after=SECS&times=N&then_events=E` | that status (200..=599; 1xx cannot be a final response), text body `scenario status <code>`, with `Retry-After: SECS` when `retry_after` is given. With `times=N` (needs a `token`): only the first N requests of the token get that status; later ones get events `id: k` / `data: {"n":k}` after Last-Event-ID up to E (default 3, max 1,000,000), idle |
//! | `content-type?type=T` | Content-Type T (default `text/plain`), body `id: 1` / `data: {"n":1}`, ends |
//! | `no-content` | 204 |
//! | `bad-json` | ids 1, 2, 3 with data `{"n":1}`, `{not json`, `{"n":3}`, idle |
//! | `named` | `event: chat` `{"n":1}`, default type `{"n":2}`, `event: chat` `{"n":3}`, idle |
//! | `burst/{n}?event=TYPE&then=idle` | n events, data `{"seq":i,"user":"user-<i%100>","text":"<pad>","ok":true}` exactly 110 bytes, i = 1..=n, no ids, ~64 KiB chunks, then ends (or idles) |
//! | `echo` | one `event: echo` whose data is `{"method","path","query","headers","lastEventId","body"}`, idle |
//! | `trickle?delay_ms=1` | [`TRICKLE`] one byte per chunk, idle |
//! | `split-utf8?delay_ms=5` | [`SPLIT_UTF8`] in chunks cut inside characters, idle |
//! | `bom` | a UTF-8 BOM, then [`BOM_EVENTS`], idle |
//! | `line-endings/{cr,lf,crlf}` | [`LINE_ENDING_EVENTS`] with those line ends, idle |
//! | `huge?bytes=N` | `data: {"big":"x…x"}` (N x's, default 1 MiB, max 64 MiB), then `data: {"n":2}`, idle |
//! | `stall?after=N` | events `id: k` / `data: {"n":k}` after Last-Event-ID up to N (default 1), then nothing |
//! | `comments` | [`COMMENTS`], idle |
//! | `chaos?total=T&min=A&max=B&fail=P&seed=S` | see [Chaos](#chaos) |
//! | `stall-headers?count=N&after=M` | the first N (default 1, max 1,000,000) requests of the `token` never get response headers: they are held until server shutdown, then get a 503 JSON error; later requests of the token get events `id: k` / `data: {"n":k}` after Last-Event-ID up to M (default 1), idle. Without a token every request is held |
//! | `log/{token}` (GET) | JSON array of the records for that token (not itself logged) |
//!
//! # Chaos
//!
//! `chaos` serves events `id: n` / `data: {"n":n}` for n after the Last-Event-ID up to
//! `total` (default 10,000, max 1,000,000), in chunks of about 64 KiB, and misbehaves
//! like a bad network, reproducibly:
//!
//! - a share `fail` (0 to 1, default 0.2) of connects are refused with 502 or 503 (at
//!   random) and a JSON error, instead of a stream;
//! - every other connect is cut after a random number of events from `min` to `max`
//!   (defaults 20 and 300; 1 ≤ `min` ≤ `max` ≤ 1,000,000). Half of the cuts (at
//!   random) end the response between two events; the other half first write 1 to all
//!   but one of the bytes of the next event (such as `id: 57\ndata: {"n"`), which the
//!   client must discard;
//! - once event `total` is sent, the response idles.
//!
//! The randomness is SplitMix64 seeded from `seed` (default 1), the token and how many
//! times that token has connected to `chaos` before, so a token's sequence of outcomes
//! is the same on every fresh server. Without a token, the seed, the Last-Event-ID and
//! a counter shared by every untokened request are used (a seed and Last-Event-ID alone
//! would refuse the same resume forever). The server keeps these per-token counters
//! (for `chaos`, `stall-headers` and `status` with `times`) for the 10,000 most recent
//! tokens.
//!
//! # Request records
//!
//! Every request to a route of the table above (all but `log/{token}`) with a `token`
//! is logged, in arrival order, as a JSON object:
//!
//! | field | value |
//! |---|---|
//! | `method` | `"GET"`, `"POST"`, ... |
//! | `path` | the path with `?query` |
//! | `headers` | every header, lowercase name to value (repeated ones joined by `, `); `authorization`, `cookie`, `proxy-authorization` are `"[redacted]"` unless `secrets=1` |
//! | `lastEventId` | the `Last-Event-ID` header, or null |
//! | `lastEventIdQuery` | the `lastEventId` query parameter, or null |
//! | `body` | the body as text, cut to its first 64 KiB (at a character boundary); `echo` still reports it whole |
//! | `status` | the status the request was answered with (200, 502, ...), or null while it has no answer yet |
//! | `open` | true while the request waits for its answer or its response body is being streamed or idles; false once the response body is dropped (it ended or the client went away) |
//!
//! A token keeps its newest 1000 records. All tokens together keep at most
//! [`crate::Config::log_budget`] bytes (each record counts its JSON size, its token and
//! [`crate::LOG_RECORD_BUDGET_OVERHEAD`]); over it, the oldest records of all tokens
//! are evicted first. At most 10,000 tokens are kept: a new one beyond that evicts
//! every record of the token holding the oldest record. A request whose body is over
//! 1 MiB gets a 413 and is not logged.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use serde_json::{json, Value};

mod bytes;
mod chaos;
mod payloads;
mod record;

pub(crate) use chaos::ConnectCounters;
pub use payloads::{
    split_utf8_points, BOM_EVENTS, BURST_DATA_LEN, COMMENTS, LINE_ENDING_EVENTS, SPLIT_UTF8,
    TRICKLE,
};
pub(crate) use record::RequestLogs;

use crate::error::ApiError;
use crate::params::{last_seen_number, parse_status};
use crate::sse::{events_response, Ending};
use crate::AppState;
use record::ScenarioRequest;

/// Longest accepted `event=TYPE`.
const MAX_EVENT_TYPE: usize = 256;

/// The scenario routes, to be nested at `/scenario`. Every one but `log/{token}` goes
/// through the cross-site check (`origin::check_origin`), then
/// [`record::record_requests`].
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/chaos", get(chaos::chaos).post(chaos::chaos))
        .route(
            "/stall-headers",
            get(chaos::stall_headers).post(chaos::stall_headers),
        )
        .route("/end-after/{n}", get(end_after).post(end_after))
        .route("/drop-every/{k}", get(drop_every).post(drop_every))
        .route("/status/{code}", get(status).post(status))
        .route(
            "/content-type",
            get(bytes::content_type).post(bytes::content_type),
        )
        .route("/no-content", get(no_content).post(no_content))
        .route("/bad-json", get(bad_json).post(bad_json))
        .route("/named", get(named).post(named))
        .route("/burst/{n}", get(bytes::burst).post(bytes::burst))
        .route("/echo", get(echo).post(echo))
        .route("/trickle", get(bytes::trickle).post(bytes::trickle))
        .route(
            "/split-utf8",
            get(bytes::split_utf8).post(bytes::split_utf8),
        )
        .route("/bom", get(bytes::bom).post(bytes::bom))
        .route(
            "/line-endings/{style}",
            get(bytes::line_endings).post(bytes::line_endings),
        )
        .route("/huge", get(bytes::huge).post(bytes::huge))
        .route("/stall", get(stall).post(stall))
        .route("/comments", get(bytes::comments).post(bytes::comments))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            record::record_requests,
        ))
        // Outside the recording: a request from another site is refused unrecorded.
        .route_layer(middleware::from_fn(crate::origin::check_origin))
        .route("/log/{token}", get(log))
}

/// `event=TYPE`, if given; it must fit on one line.
fn event_type_param(req: &ScenarioRequest) -> Result<Option<&str>, ApiError> {
    match req.params.get("event") {
        Some(kind) if kind.contains(['\r', '\n']) || kind.len() > MAX_EVENT_TYPE => {
            Err(ApiError::bad_request(format!(
                "query parameter `event` must be at most {MAX_EVENT_TYPE} bytes without line breaks"
            )))
        }
        other => Ok(other),
    }
}

/// A number from the path, or a 400 naming the route.
fn path_number(value: &str, route: &str) -> Result<u64, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`/scenario/{route}` needs a whole number in the path, got `{value}`"
        ))
    })
}

/// The `retry:` event asked for, followed by `events`.
fn with_retry<I>(
    req: &ScenarioRequest,
    events: I,
) -> Result<impl Iterator<Item = Event> + Send + 'static, ApiError>
where
    I: IntoIterator<Item = Event>,
    I::IntoIter: Send + 'static,
{
    let retry = req
        .params
        .u64("retry")?
        .map(|ms| Event::default().retry(std::time::Duration::from_millis(ms)));
    Ok(retry.into_iter().chain(events))
}

/// Events `id: k` / `data: {"n":k}` for k in `range`, with an optional type.
fn numbered(
    range: std::ops::RangeInclusive<u64>,
    kind: Option<&str>,
) -> impl Iterator<Item = Event> + Send + 'static {
    let kind = kind.map(str::to_owned);
    range.map(move |k| {
        crate::sse::event(
            kind.as_deref(),
            &k.to_string(),
            &json!({ "n": k }).to_string(),
        )
    })
}

async fn end_after(
    State(state): State<AppState>,
    Path(n): Path<String>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let n = path_number(&n, "end-after/{n}")?;
    let kind = event_type_param(&req)?;
    let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
    let events = with_retry(&req, numbered(first..=n, kind))?;
    Ok(events_response(&state, events, Ending::Close))
}

async fn drop_every(
    State(state): State<AppState>,
    Path(k): Path<String>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let k = path_number(&k, "drop-every/{k}")?;
    if k == 0 {
        return Err(ApiError::bad_request(
            "`/scenario/drop-every/{k}` needs k of at least 1",
        ));
    }
    let total = req.params.int_in("total", 10, 0..=1_000_000)?;
    let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
    let last = first.saturating_add(k - 1).min(total);
    let ending = if last >= total {
        Ending::Idle
    } else {
        Ending::Close
    };
    let events = with_retry(&req, numbered(first..=last, None))?;
    Ok(events_response(&state, events, ending))
}

async fn stall(State(state): State<AppState>, req: ScenarioRequest) -> Result<Response, ApiError> {
    let after = req.params.int_in("after", 1, 0..=1_000_000)?;
    let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
    let events = with_retry(&req, numbered(first..=after, None))?;
    Ok(events_response(&state, events, Ending::Idle))
}

/// Largest `then_events` of `status/{code}`.
const MAX_THEN_EVENTS: u64 = 1_000_000;

async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let status = parse_status(&code, "`/scenario/status/{code}`")?;
    let retry_after = req.params.u64("retry_after")?;
    let then_events = req.params.int_in("then_events", 3, 0..=MAX_THEN_EVENTS)?;
    if let Some(times) = req.params.u64("times")? {
        let Some(token) = req.params.get("token") else {
            return Err(ApiError::bad_request(
                "`times` counts the requests of a token; add `token=T` (any name unique to your test)",
            ));
        };
        if state.counters().next("status", token) >= times {
            let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
            let events = with_retry(&req, numbered(first..=then_events, None))?;
            return Ok(events_response(&state, events, Ending::Idle));
        }
    }
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("scenario status {}", status.as_u16()),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

async fn no_content(_req: ScenarioRequest) -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn bad_json(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let events = with_retry(
        &req,
        [
            Event::default().id("1").data(r#"{"n":1}"#),
            Event::default().id("2").data("{not json"),
            Event::default().id("3").data(r#"{"n":3}"#),
        ],
    )?;
    Ok(events_response(&state, events, Ending::Idle))
}

async fn named(State(state): State<AppState>, req: ScenarioRequest) -> Result<Response, ApiError> {
    let events = with_retry(
        &req,
        [
            Event::default().event("chat").data(r#"{"n":1}"#),
            Event::default().data(r#"{"n":2}"#),
            Event::default().event("chat").data(r#"{"n":3}"#),
        ],
    )?;
    Ok(events_response(&state, events, Ending::Idle))
}

async fn echo(State(state): State<AppState>, req: ScenarioRequest) -> Result<Response, ApiError> {
    let data = json!({
        "method": req.method.as_str(),
        "path": req.path,
        "query": req.params.0,
        "headers": req.headers,
        "lastEventId": req.last_event_id_header,
        "body": req.body,
    });
    let events = with_retry(
        &req,
        [Event::default().event("echo").data(data.to_string())],
    )?;
    Ok(events_response(&state, events, Ending::Idle))
}

async fn log(State(state): State<AppState>, Path(token): Path<String>) -> Json<Value> {
    Json(Value::Array(state.logs().get(&token)))
}
