//! `/scenario/...`: deterministic behaviours for the browser tests.
//!
//! Every scenario but `llm/...` answers GET and POST and takes these optional query
//! parameters (`llm/...` take `token` and `secrets` only, and have their own: see
//! [Language-model streams](#language-model-streams)):
//!
//! - `retry=MS`: send `retry: MS` and a blank line first (after the BOM in `bom`; with
//!   the route's own line ends in `line-endings`).
//! - `token=T`: append a record of the request to the log of `T`, read back with
//!   `GET /scenario/log/T` (see [Request records](#request-records)).
//! - `preflight=refuse`: refuse CORS preflights of the URL with 403, as a server
//!   written for EventSource does (its requests need none); works on `/events` too.
//! - `cors=refuse`: answer with no CORS headers, as a server that does not allow the
//!   page's origin; the request is served and logged. Works on `/events` too.
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
//! | `end-after/{n}?event=TYPE&linger_ms=MS&from=K&clear_id=1` | events `id: k` / `data: {"n":k}` for k after Last-Event-ID (header or `lastEventId`), or from K on whatever that id is, up to n (with `clear_id=1`, then `id` empty / `data: {"n":"cleared"}`, which clears the last event ID), then, after MS of silence (default 0, max 60,000), the response ends |
//! | `drop-every/{k}?total=T` | events `id: n` / `data: {"n":n}` for n after Last-Event-ID up to T (default 10); the response ends after every k events of one connection; idle after event T |
//! | `status/{code}?retry_after=SECS&times=N&then_events=E&body_delay_ms=MS` | that status (200..=599; 1xx cannot be a final response), text body `scenario status <code>` (sent `body_delay_ms` after the head, default 0, max 60,000), with `Retry-After: SECS` when `retry_after` is given. With `times=N` (needs a `token`): only the first N requests of the token get that status (after the first K with `skip=K`); the others get events `id: k` / `data: {"n":k}` after Last-Event-ID up to E (default 3, max 1,000,000), idle. With `bare=1` the status comes with no CORS headers, as a proxy's error page |
//! | `content-type?type=T` | Content-Type T (default `text/plain`), body `id: 1` / `data: {"n":1}`, ends |
//! | `no-content` | 204 |
//! | `bad-json` | ids 1, 2, 3 with data `{"n":1}`, `{not json`, `{"n":3}`, idle |
//! | `deep?depth=N` | data `{"n":1,"deep":[[…]]}` with N nested arrays (default 100,000, max 1,000,000), then `{"n":2,"deep":[]}`, idle |
//! | `replay` | no Last-Event-ID: `id: 1..3` / `data: {"n":k}`, then ends; resumed (any Last-Event-ID): `id: 3` `{"n":3}` again, `event: reset` `{"n":"reset"}` and `{"n":"plain"}` without ids, then `id: 1` `{"n":101}`, `id: 2` `{"n":102}` (a server that restarted), idle |
//! | `named` | `event: chat` `{"n":1}`, default type `{"n":2}`, `event: chat` `{"n":3}`, idle |
//! | `burst/{n}?event=TYPE&then=idle` | n events, data `{"seq":i,"user":"user-<i%100>","text":"<pad>","ok":true}` exactly 110 bytes, i = 1..=n, no ids, ~64 KiB chunks, then ends (or idles) |
//! | `echo` | one `event: echo` whose data is `{"method","path","query","headers","lastEventId","body"}`, idle |
//! | `trickle?delay_ms=1` | [`TRICKLE`] one byte per chunk, idle |
//! | `split-utf8?delay_ms=5` | [`SPLIT_UTF8`] in chunks cut inside characters, idle |
//! | `bom` | a UTF-8 BOM, then [`BOM_EVENTS`], idle |
//! | `line-endings/{cr,lf,crlf}` | [`LINE_ENDING_EVENTS`] with those line ends, idle |
//! | `huge?bytes=N` | `data: {"big":"x…x"}` (N x's, default 1 MiB, max 64 MiB), then `data: {"n":2}`, idle |
//! | `long-id?bytes=N&events=M&char=C` | `id: x…x` (N bytes of `C`, default `x`, 100,000 bytes, max 1 MiB) with `data: {"n":0}`, then M events without an id (default 2,000, max 100,000), in one chunk, idle |
//! | `stall?after=N` | events `id: k` / `data: {"n":k}` after Last-Event-ID up to N (default 1), then nothing |
//! | `comments` | [`COMMENTS`], idle |
//! | `chaos?total=T&min=A&max=B&fail=P&seed=S` | see [Chaos](#chaos) |
//! | `stall-headers?count=N&after=M` | the first N (default 1, max 1,000,000) requests of the `token` never get response headers: they are held until server shutdown, then get a 503 JSON error; later requests of the token get events `id: k` / `data: {"n":k}` after Last-Event-ID up to M (default 1), idle. Without a token every request is held |
//! | `llm/openai-chat` (POST) | an answer streamed as OpenAI Chat Completions: see [Language-model streams](#language-model-streams) |
//! | `llm/openai-responses` (POST) | the same answer as OpenAI Responses events |
//! | `llm/anthropic?error_after=K` (POST) | the same answer as Anthropic Messages events |
//! | `llm/expected?prompt=TEXT&tokens=N` (GET) | `{"tokens":[…],"text":"…"}`: the answer those routes stream for that prompt |
//! | `redirect?to=PATH` | 307 to `http://<Host>PATH` (a path on this server), with the request's other query parameters appended |
//! | `log/{token}?from=N` (GET) | JSON array of the records for that token, oldest first, at most 8 MiB of them (one at least; `from`: from the record the header below named): when it leaves some out, the header `X-Log-More-From: N` says to ask again with `from=N` (not itself logged) |
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
//! # Language-model streams
//!
//! `POST /scenario/llm/openai-chat`, `/scenario/llm/openai-responses` and
//! `/scenario/llm/anthropic` stream a deterministic answer to a prompt in the format
//! of OpenAI Chat Completions, OpenAI Responses and Anthropic Messages, byte for byte
//! as those APIs write their events (which fields were checked, and where, is noted
//! in the source of `llm/wire.rs`). Responses have `Content-Type: text/event-stream;
//! charset=utf-8` and `Cache-Control: no-cache`.
//!
//! **The request body** is JSON with `"stream": true` and an optional `model` (a
//! string of at most 256 bytes, echoed in the events; default `scenario-model`):
//!
//! - `openai-chat`: `messages`, an array of `{role, content}`;
//! - `anthropic`: `messages`, the same (`max_tokens` and the rest are ignored);
//! - `openai-responses`: `input`, a string or an array of `{role, content}` items.
//!
//! The prompt is the text of the last message (item) with `role: "user"`: its
//! `content` when that is a string, else the `text` of its parts of type `text`
//! (`input_text` for Responses) joined by `\n`; a string `input` is the prompt
//! itself. A body that is not JSON, lacks `"stream": true`, the messages (input) or a
//! user message, or has a bad `model`, gets a 400 with the API's own error body:
//! `{"error":{"message","type":"invalid_request_error","param","code"}}` (OpenAI) or
//! `{"type":"error","error":{"type":"invalid_request_error","message"}}` (Anthropic).
//!
//! **The answer** to a prompt is `tokens=N` tokens (default 12, 0 to 1000): the
//! prompt's words are its runs of non-white-space characters (Unicode white space),
//! each cut to its first 40 characters, or the one word `(empty)` when there are
//! none; token 0 is `Echo:` and token i ≥ 1 is a space followed by word
//! `(i - 1) mod W` of the W words. So the prompt `"Hello, wide world"` with
//! `tokens=6` streams `["Echo:", " Hello,", " wide", " world", " Hello,", " wide"]`,
//! whose text is `"Echo: Hello, wide world Hello, wide"`. `GET
//! /scenario/llm/expected?prompt=TEXT&tokens=N` answers `{"tokens": [...], "text":
//! "..."}` for a prompt. Every token is one delta event, preceded by a wait of
//! `pace_ms=MS` (default 20, 0 to 10,000); the other events are not delayed.
//!
//! **The events**, N being the number of tokens (ids, `created` and `created_at` are
//! fixed so that every answer to a prompt is the same bytes: `chatcmpl-scenario`,
//! `resp_scenario`, `msg_scenario`, 1750000000):
//!
//! - `openai-chat` (N + 3 events): `data:` lines only, each a `chat.completion.chunk`:
//!   the delta `{"role":"assistant","content":"","refusal":null}`, a delta
//!   `{"content":"<token>"}` per token, the delta `{}` with `"finish_reason":"stop"`,
//!   then `data: [DONE]`; then the response ends;
//! - `openai-responses` (N + 8 events): `event: <type>` and `data:` with `type` and
//!   `sequence_number` (0, 1, ...): `response.created`, `response.in_progress`,
//!   `response.output_item.added`, `response.content_part.added`, a
//!   `response.output_text.delta` per token, `response.output_text.done`,
//!   `response.content_part.done`, `response.output_item.done`,
//!   `response.completed` (`usage.input_tokens` = W, `output_tokens` = N); then the
//!   response ends (no `[DONE]`);
//! - `anthropic` (N + 6 events): `message_start`, `content_block_start`, `ping`, a
//!   `content_block_delta` (`text_delta`) per token, `content_block_stop`,
//!   `message_delta` (`stop_reason: "end_turn"`, `usage.output_tokens` = N),
//!   `message_stop`; then the response ends. With `error_after=K` (0 to 1000): the
//!   events up to the min(K, N)-th delta, then `event: error` with `data: {"type":
//!   "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`, then
//!   the response ends.
//!
//! **Query parameters** of the three (each bad value is a 400 with the server's own
//! `{"error": "..."}`):
//!
//! - `ids=1`: every event gets `id: n` (after `event:`, before `data:`), n counting
//!   the answer's events from 1, so the answer is resumable: a request with
//!   `Last-Event-ID: k` (header, or `lastEventId=k` in the query) gets only the
//!   events after event k, the same bytes as the first time (none when k is the last
//!   or beyond); a Last-Event-ID that is not a number counts as 0. Without `ids=1`,
//!   Last-Event-ID is ignored and the whole answer is sent; so it is with
//!   `ignore_resume=1` too, numbered from 1 each time (a server that stamps ids and
//!   cannot resume).
//! - `cut_after=K`: the response sends at most K events (of those it would send),
//!   then, 100 ms later (so that the client has read them: a reset makes a browser
//!   drop what it received but did not hand to the page yet), is cut as a network
//!   failure: the connection is closed without the end of the chunked body, so a
//!   client reading it gets an error, not an end. With
//!   `cut_mid=1`, the first half (rounded down, at least one byte) of the next
//!   event's bytes is written first; with `cut_end=1`, the body then ends cleanly (as a
//!   proxy or a function's time limit ends it) instead of with a network error. With a
//!   token, only the first `cuts=N` requests
//!   (one by default) of the token that get a stream are cut; later ones (resumed
//!   with `Last-Event-ID` or not) run to the end. Without a token, every request is
//!   cut.
//! - `refuse=STATUS` (400, 429, 500 or 503; for `anthropic` also 529): the request
//!   is answered with that status, `Content-Type: application/json`, the provider's
//!   error body below, and `Retry-After: SECS` when `retry_after=SECS` (0 to 86,400)
//!   is given. With a token, only the first `times=N` requests of the token are
//!   refused (every one without `times`), later ones stream normally; a refused
//!   request does not count as a streamed one for `cuts`. `times` needs a token.
//!
//! | `refuse` | OpenAI `error.type` / `error.code` / `error.message` | Anthropic `error.type` / `error.message` |
//! |---|---|---|
//! | 400 | `invalid_request_error` / null / `Invalid request. (test server: refuse=400)` | `invalid_request_error` / `Invalid request. (test server: refuse=400)` |
//! | 429 | `requests` / `rate_limit_exceeded` / `Rate limit reached for requests. (test server: refuse=429)` | `rate_limit_error` / `Number of requests has exceeded your rate limit. (test server: refuse=429)` |
//! | 500 | `server_error` / null / `The server had an error while processing your request. Sorry about that! (test server: refuse=500)` | `api_error` / `Internal server error. (test server: refuse=500)` |
//! | 503 | `server_error` / null / `That model is currently overloaded with other requests. (test server: refuse=503)` | `overloaded_error` / `Overloaded. (test server: refuse=503)` |
//! | 529 | (not accepted) | `overloaded_error` / `Overloaded. (test server: refuse=529)` |
//!
//! OpenAI bodies are `{"error":{"message","type","param":null,"code"}}`, Anthropic
//! ones `{"type":"error","error":{"type","message"}}`. The order of the checks: query
//! parameters, then the body, then `refuse`, then `cut_after`.
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
//! | `open` | true while the request waits for its answer or its response body is being streamed or idles; false once the response body is dropped (it ended, or the client went away: a closed connection is noticed at once, also while a stream waits between events) |
//! | `startedAt` | when the request was logged (its head and body read), in milliseconds since the Unix epoch by the system clock (what `Date.now()` reads in a browser on the same machine) |
//! | `endedAt` | when `open` became false, in the same milliseconds; null while open |
//!
//! A token keeps its newest 1000 records. All tokens together keep at most
//! [`crate::Config::log_budget`] bytes (each record counts its JSON size, its token and
//! [`crate::LOG_RECORD_BUDGET_OVERHEAD`]); over it, the oldest records of all tokens
//! are evicted first. At most 10,000 tokens are kept: a new one beyond that evicts
//! every record of the token holding the oldest record. A request whose body is over
//! 1 MiB gets a 413 and is not logged.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use serde_json::json;

mod bytes;
mod chaos;
mod llm;
mod payloads;
mod record;

pub(crate) use chaos::ConnectCounters;
pub use payloads::{
    split_utf8_points, BOM_EVENTS, BURST_DATA_LEN, COMMENTS, LINE_ENDING_EVENTS, SPLIT_UTF8,
    TRICKLE,
};
pub(crate) use record::RequestLogs;

use crate::error::ApiError;
use crate::params::{last_seen_number, parse_status, Params, PathParam};
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
        .route("/deep", get(bytes::deep).post(bytes::deep))
        .route("/named", get(named).post(named))
        .route("/replay", get(replay).post(replay))
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
        .route("/long-id", get(bytes::long_id).post(bytes::long_id))
        .route("/stall", get(stall).post(stall))
        .route("/comments", get(bytes::comments).post(bytes::comments))
        .route("/llm/openai-chat", post(llm::openai_chat))
        .route("/llm/openai-responses", post(llm::openai_responses))
        .route("/llm/anthropic", post(llm::anthropic))
        .route("/llm/expected", get(llm::expected))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            record::record_requests,
        ))
        // Not recorded: the request it sends on is, under its own route.
        .route("/redirect", get(redirect).post(redirect))
        // Outside the recording: a request from another site is refused unrecorded.
        .route_layer(middleware::from_fn(crate::origin::check_origin))
        .route("/log/{token}", get(log))
        .method_not_allowed_fallback(crate::wrong_method)
}

/// `redirect?to=PATH`: a 307 to `PATH` on this server, named by the request's `Host`
/// (so a page that reached the server through a proxy of its own origin is sent to
/// another origin), with the request's other query parameters appended, as a redirect
/// that moves a path keeps its query. A 307 keeps the method and body.
async fn redirect(
    headers: axum::http::HeaderMap,
    uri: axum::extract::OriginalUri,
) -> Result<Response, ApiError> {
    let uri = uri.0;
    let params = crate::params::Params::from_uri(&uri)?;
    let to = match params.get("to") {
        Some(to) if to.starts_with('/') && !to.starts_with("//") && !to.contains('\\') => to,
        _ => {
            return Err(ApiError::bad_request(
                "`redirect` needs `to=PATH`, a path on this server starting with one `/` (percent-encode its query)",
            ))
        }
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Err(ApiError::bad_request("`redirect` needs a Host header"));
    };
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && *pair != "to" && !pair.starts_with("to="))
        .collect();
    let mut location = format!("http://{host}{to}");
    if !rest.is_empty() {
        location.push(if to.contains('?') { '&' } else { '?' });
        location.push_str(&rest.join("&"));
    }
    let location = HeaderValue::from_str(&location)
        .map_err(|_| ApiError::bad_request("`to` must make a valid Location header"))?;
    Ok((
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response())
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
    PathParam(n): PathParam,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let n = path_number(&n, "end-after/{n}")?;
    let kind = event_type_param(&req)?;
    // `from`: a server that sends what it holds on every connection, whatever the
    // client saw (a replay the client's dedupe must drop).
    let first = match req.params.u64("from")? {
        Some(from) => from,
        None => last_seen_number(req.last_event_id.as_deref()).saturating_add(1),
    };
    // `clear_id=1`: then a block whose empty `id` clears the last event ID (a server
    // that tells its clients to start afresh next time).
    let clear = (req.params.int_in("clear_id", 0u8, 0..=1)? == 1)
        .then(|| crate::sse::event(None, "", r#"{"n":"cleared"}"#));
    let events = with_retry(&req, numbered(first..=n, kind).chain(clear))?;
    let linger = req.params.int_in("linger_ms", 0, 0..=60_000)?;
    let ending = match linger {
        0 => Ending::Close,
        ms => Ending::CloseAfter(std::time::Duration::from_millis(ms)),
    };
    Ok(events_response(&state, events, ending))
}

async fn drop_every(
    State(state): State<AppState>,
    PathParam(k): PathParam,
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
    PathParam(code): PathParam,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let status = parse_status(&code, "`/scenario/status/{code}`")?;
    let retry_after = req.params.u64("retry_after")?;
    let then_events = req.params.int_in("then_events", 3, 0..=MAX_THEN_EVENTS)?;
    let body_delay = req.params.int_in("body_delay_ms", 0, 0..=60_000)?;
    let skip = req.params.u64("skip")?;
    if let Some(times) = req.params.u64("times")? {
        let Some(token) = req.params.get("token") else {
            return Err(ApiError::bad_request(
                "`times` counts the requests of a token; add `token=T` (any name unique to your test)",
            ));
        };
        let skip = skip.unwrap_or(0);
        let count = state.counters().next("status", token);
        if count < skip || count - skip >= times {
            let first = last_seen_number(req.last_event_id.as_deref()).saturating_add(1);
            let events = with_retry(&req, numbered(first..=then_events, None))?;
            return Ok(events_response(&state, events, Ending::Idle));
        }
    }
    let text = format!("scenario status {}", status.as_u16());
    let body = if body_delay == 0 {
        axum::body::Body::from(text)
    } else {
        // The head now, the body later: a client is reading it meanwhile.
        let later = async move {
            tokio::time::sleep(std::time::Duration::from_millis(body_delay)).await;
            Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(text))
        };
        // Cut off at shutdown, as every other body here: a long delay must not hold
        // the server's graceful shutdown.
        let body =
            futures::StreamExt::take_until(futures::stream::once(later), state.shutdown_signal());
        axum::body::Body::from_stream(body)
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if req.params.get("bare") == Some("1") {
        // As a proxy's error page: no CORS headers (see `cors::strip_unallowed`).
        response.extensions_mut().insert(crate::cors::Bare);
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

/// The first request (no Last-Event-ID) gets ids 1 to 3 and ends. A resumed one
/// replays inclusively, then acts like a server that restarted: event 3 again, a
/// `reset` and a plain event without ids, then ids 1 and 2 again for new events, idle.
async fn replay(State(state): State<AppState>, req: ScenarioRequest) -> Result<Response, ApiError> {
    let resumed = req
        .last_event_id
        .as_deref()
        .is_some_and(|id| !id.is_empty());
    let events: Vec<Event> = if resumed {
        vec![
            Event::default().id("3").data(r#"{"n":3}"#),
            Event::default().event("reset").data(r#"{"n":"reset"}"#),
            Event::default().data(r#"{"n":"plain"}"#),
            Event::default().id("1").data(r#"{"n":101}"#),
            Event::default().id("2").data(r#"{"n":102}"#),
        ]
    } else {
        numbered(1..=3, None).collect()
    };
    let ending = if resumed { Ending::Idle } else { Ending::Close };
    Ok(events_response(&state, with_retry(&req, events)?, ending))
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

/// The header of a `log/{token}` answer that left records out: the `from` to ask for
/// the rest with.
pub const LOG_MORE_FROM: &str = "x-log-more-from";

/// The size of the slices a log answer is sent in (see [`log`]).
const LOG_SLICE: usize = 64 * 1024;

async fn log(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    params: Params,
) -> Result<Response, ApiError> {
    let from = params.u64("from")?.unwrap_or(0);
    // In slices written as hyper pulls them, as the client reads: the answer holds its
    // request permit till then (one frame of megabytes would be queued whole and let go
    // of the permit at once, however slowly the client reads), and no copy of the
    // records is made ahead.
    let (slices, next) = state.logs().answer_slices(&token, from, LOG_SLICE);
    let slices =
        slices.map(|slice| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(slice)));
    let body = axum::body::Body::from_stream(futures::stream::iter(slices));
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(next) = next {
        response
            .headers_mut()
            .insert(LOG_MORE_FROM, HeaderValue::from(next));
    }
    Ok(response)
}
