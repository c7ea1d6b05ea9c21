//! Scenarios that need exact bytes on the wire: built from raw chunks, not through
//! axum's `Event`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use futures::{stream, StreamExt};

use super::event_type_param;
use super::payloads::{
    split_utf8_points, BOM_EVENTS, BURST_DATA_LEN, COMMENTS, LINE_ENDING_EVENTS, SPLIT_UTF8,
    TRICKLE,
};
use super::record::ScenarioRequest;
use crate::error::ApiError;
use crate::params::PathParam;
use crate::sse::{raw_response, raw_response_with_type, Ending};
use crate::AppState;

/// Target size of the chunks of `burst` and `huge`.
const CHUNK: usize = 64 * 1024;
/// Largest `bytes` accepted by `huge`.
const HUGE_MAX: u64 = 64 * 1024 * 1024;
/// Padding text for `burst` (ASCII without characters JSON would escape).
const PADDING: &str =
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore";
static XS: [u8; CHUNK] = [b'x'; CHUNK];

/// The `retry: MS` line requested by `retry=MS` and a blank line (as axum writes it
/// for the other routes), with `line_end`, as bytes.
pub(super) fn retry_bytes(req: &ScenarioRequest, line_end: &str) -> Result<Vec<u8>, ApiError> {
    Ok(req
        .params
        .u64("retry")?
        .map(|ms| format!("retry: {ms}{line_end}{line_end}").into_bytes())
        .unwrap_or_default())
}

fn delay_param(req: &ScenarioRequest, default: u64) -> Result<Duration, ApiError> {
    let ms = req.params.int_in("delay_ms", default, 0..=10_000)?;
    Ok(Duration::from_millis(ms))
}

/// Sends `chunks` with `delay` before each one but the first.
fn paced(chunks: Vec<Bytes>, delay: Duration) -> impl futures::Stream<Item = Bytes> + Send {
    stream::iter(chunks.into_iter().enumerate()).then(move |(i, chunk)| async move {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        chunk
    })
}

/// `/scenario/trickle?delay_ms=1`: [`TRICKLE`] one byte per chunk.
pub(crate) async fn trickle(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let mut bytes = retry_bytes(&req, "\n")?;
    bytes.extend_from_slice(TRICKLE.as_bytes());
    let bytes = Bytes::from(bytes);
    let chunks = (0..bytes.len()).map(|i| bytes.slice(i..=i)).collect();
    let delay = delay_param(&req, 1)?;
    Ok(raw_response(&state, paced(chunks, delay), Ending::Idle))
}

/// `/scenario/split-utf8?delay_ms=5`: [`SPLIT_UTF8`] cut inside characters.
pub(crate) async fn split_utf8(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let retry = retry_bytes(&req, "\n")?;
    let payload = Bytes::from_static(SPLIT_UTF8.as_bytes());
    let mut chunks = Vec::new();
    if !retry.is_empty() {
        chunks.push(Bytes::from(retry));
    }
    let mut start = 0;
    for point in split_utf8_points().into_iter().chain([payload.len()]) {
        chunks.push(payload.slice(start..point));
        start = point;
    }
    let delay = delay_param(&req, 5)?;
    Ok(raw_response(&state, paced(chunks, delay), Ending::Idle))
}

/// One chunk: `prefix`, the `retry:` line if asked (with `line_end`), `payload`.
fn one_chunk(
    req: &ScenarioRequest,
    prefix: &str,
    line_end: &str,
    payload: &str,
) -> Result<impl futures::Stream<Item = Bytes> + Send + 'static, ApiError> {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend(retry_bytes(req, line_end)?);
    bytes.extend_from_slice(payload.as_bytes());
    Ok(stream::iter([Bytes::from(bytes)]))
}

/// `/scenario/bom`: BOM, `retry:` line if asked, [`BOM_EVENTS`], in one chunk.
pub(crate) async fn bom(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let chunk = one_chunk(&req, "\u{FEFF}", "\n", BOM_EVENTS)?;
    Ok(raw_response(&state, chunk, Ending::Idle))
}

/// `/scenario/line-endings/{cr|lf|crlf}`: [`LINE_ENDING_EVENTS`] in one chunk.
pub(crate) async fn line_endings(
    State(state): State<AppState>,
    PathParam(style): PathParam,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let line_end = match style.as_str() {
        "cr" => "\r",
        "lf" => "\n",
        "crlf" => "\r\n",
        _ => {
            return Err(ApiError::bad_request(format!(
                "unknown line-ending style `{style}`; use cr, lf or crlf"
            )))
        }
    };
    let payload = LINE_ENDING_EVENTS.replace('\n', line_end);
    let chunk = one_chunk(&req, "", line_end, &payload)?;
    Ok(raw_response(&state, chunk, Ending::Idle))
}

/// `/scenario/comments`: [`COMMENTS`].
pub(crate) async fn comments(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let chunk = one_chunk(&req, "", "\n", COMMENTS)?;
    Ok(raw_response(&state, chunk, Ending::Idle))
}

/// `/scenario/content-type?type=T`: one event `id: 1` / `data: {"n":1}` served with
/// `Content-Type: T` (default `text/plain`); the response then ends.
pub(crate) async fn content_type(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let value = req.params.get("type").unwrap_or("text/plain");
    let content_type = HeaderValue::from_str(value).map_err(|_| {
        ApiError::bad_request(format!(
            "query parameter `type` is not a valid header value: `{value}`"
        ))
    })?;
    let chunk = one_chunk(&req, "", "\n", "id: 1\ndata: {\"n\":1}\n\n")?;
    Ok(raw_response_with_type(
        &state,
        chunk,
        Ending::Close,
        content_type,
    ))
}

/// `/scenario/huge?bytes=N`: `data: {"big":"<N times x>"}`, then `data: {"n":2}`.
pub(crate) async fn huge(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let size = req.params.int_in("bytes", 1024 * 1024, 0..=HUGE_MAX)?;
    let mut head = retry_bytes(&req, "\n")?;
    head.extend_from_slice(b"data: {\"big\":\"");
    let mut remaining = usize::try_from(size).unwrap_or(0);
    let xs = std::iter::from_fn(move || {
        let len = remaining.min(CHUNK);
        remaining -= len;
        (len > 0).then(|| Bytes::from_static(&XS[..len]))
    });
    let tail = Bytes::from_static(b"\"}\n\ndata: {\"n\":2}\n\n");
    let chunks = stream::iter(
        std::iter::once(Bytes::from(head))
            .chain(xs)
            .chain(std::iter::once(tail)),
    );
    Ok(raw_response(&state, chunks, Ending::Idle))
}

/// `/scenario/long-id?bytes=N&events=M&char=C`: an event whose `id` is the character
/// `C` (default `x`; any but CR, LF and NUL) repeated to N bytes (default 100,000, at
/// most 1 MiB), then M events without an id of their own (default 2,000, at most
/// 100,000), `data: {"n":0}` to `{"n":M}`, in one chunk: the id goes with each of
/// them. (A non-ASCII `C` makes a client's glue encode the id as UTF-8 where it crosses
/// into wasm, which a test can count.)
pub(crate) async fn long_id(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let size = req.params.int_in("bytes", 100_000, 0..=1024 * 1024)?;
    let events = req.params.int_in("events", 2_000, 0..=100_000)?;
    let unit = match req.params.get("char") {
        None => 'x',
        Some(text) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !matches!(c, '\r' | '\n' | '\0') => c,
                _ => {
                    return Err(ApiError::bad_request(
                        "char must be one character, not CR, LF or NUL",
                    ))
                }
            }
        }
    };
    let mut body = retry_bytes(&req, "\n")?;
    body.extend_from_slice(b"id: ");
    let mut utf8 = [0; 4];
    let unit = unit.encode_utf8(&mut utf8).as_bytes();
    let count = usize::try_from(size).unwrap_or(0) / unit.len();
    body.extend(std::iter::repeat_n(unit, count).flatten());
    body.push(b'\n');
    for n in 0..=events {
        body.extend_from_slice(format!("data: {{\"n\":{n}}}\n\n").as_bytes());
    }
    Ok(raw_response(
        &state,
        stream::iter([Bytes::from(body)]),
        Ending::Idle,
    ))
}

/// `/scenario/deep?depth=N`: an event whose data nests `N` arrays (valid JSON that a
/// recursive decoder must refuse rather than overflow its stack on), then a plain one.
pub(crate) async fn deep(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let depth = req.params.int_in("depth", 100_000, 1..=1_000_000)?;
    let depth = usize::try_from(depth).unwrap_or(1);
    let mut body = retry_bytes(&req, "\n")?;
    body.extend_from_slice(b"data: {\"n\":1,\"deep\":");
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.extend_from_slice(b"}\n\ndata: {\"n\":2,\"deep\":[]}\n\n");
    Ok(raw_response(
        &state,
        stream::iter([Bytes::from(body)]),
        Ending::Idle,
    ))
}

/// `/scenario/burst/{n}?event=TYPE&then=idle`: `n` events with 110-byte JSON data, in
/// chunks of about 64 KiB, then the response ends (or idles with `then=idle`).
pub(crate) async fn burst(
    State(state): State<AppState>,
    PathParam(n): PathParam,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    let count: u64 = n.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`/scenario/burst/{{n}}` needs a whole number of events, got `{n}`"
        ))
    })?;
    let ending = match req.params.get("then") {
        None | Some("close") => Ending::Close,
        Some("idle") => Ending::Idle,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `then` must be idle or close, got `{other}`"
            )))
        }
    };
    let mut prefix = Vec::new();
    if let Some(kind) = event_type_param(&req)? {
        prefix = format!("event: {kind}\n").into_bytes();
    }
    let mut first = Some(retry_bytes(&req, "\n")?);
    let mut next: u64 = 1;
    let chunks = std::iter::from_fn(move || {
        // `first` holds the start of the next chunk while events remain.
        let mut buf = first.take()?;
        buf.reserve(CHUNK + 512);
        while next <= count && buf.len() < CHUNK {
            write_burst_event(&mut buf, next, &prefix);
            next += 1;
        }
        if next <= count {
            first = Some(Vec::new());
        }
        // An empty chunk would be pointless on the wire; only n = 0 without retry
        // produces one.
        (!buf.is_empty()).then(|| Bytes::from(buf))
    });
    Ok(raw_response(&state, stream::iter(chunks), ending))
}

/// Appends `[prefix]data: {"seq":i,"user":"user-<i%100>","text":"<pad>","ok":true}\n\n`
/// with the padding chosen so that the data is exactly [`BURST_DATA_LEN`] bytes.
fn write_burst_event(buf: &mut Vec<u8>, i: u64, prefix: &[u8]) {
    const FIXED: usize = r#"{"seq":,"user":"user-","text":"","ok":true}"#.len();
    let user = i % 100;
    let pad = BURST_DATA_LEN.saturating_sub(FIXED + decimal_len(i) + decimal_len(user));
    buf.extend_from_slice(prefix);
    buf.extend_from_slice(b"data: {\"seq\":");
    push_decimal(buf, i);
    buf.extend_from_slice(b",\"user\":\"user-");
    push_decimal(buf, user);
    buf.extend_from_slice(b"\",\"text\":\"");
    buf.extend_from_slice(&PADDING.as_bytes()[..pad.min(PADDING.len())]);
    buf.extend_from_slice(b"\",\"ok\":true}\n\n");
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

pub(super) fn push_decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_data_is_always_110_bytes() {
        for i in [1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut buf = Vec::new();
            write_burst_event(&mut buf, i, b"");
            let line = std::str::from_utf8(&buf).expect("ascii");
            let data = line
                .strip_prefix("data: ")
                .and_then(|s| s.strip_suffix("\n\n"))
                .expect("one data line");
            assert_eq!(data.len(), BURST_DATA_LEN, "{data}");
            let value: serde_json::Value = serde_json::from_str(data).expect("json");
            assert_eq!(value["seq"], i);
            assert_eq!(value["user"], format!("user-{}", i % 100));
        }
    }
}
