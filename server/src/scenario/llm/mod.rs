//! `/scenario/llm/...`: language-model answers streamed as OpenAI Chat Completions,
//! OpenAI Responses and Anthropic Messages send them, with resumable ids, cuts and
//! refusals on demand. The routes, parameters and the answer formula are documented
//! in [Language-model streams](super#language-model-streams).

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{stream, StreamExt};
use serde_json::{json, Value};

use super::record::ScenarioRequest;
use crate::error::ApiError;
use crate::params::{last_seen_number, Params};
use crate::AppState;

mod prompt;
mod wire;

/// Most tokens an answer may have (`tokens=N`).
const MAX_TOKENS: u64 = 1000;
/// Default answer length.
const DEFAULT_TOKENS: u64 = 12;
/// Default wait before each token, in milliseconds.
const DEFAULT_PACE_MS: u64 = 20;
/// Longest wait before each token, in milliseconds.
const MAX_PACE_MS: u64 = 10_000;
/// Largest `times` and `cuts`.
const MAX_COUNT: u64 = 1_000_000;
/// Largest `retry_after`, in seconds (a day).
const MAX_RETRY_AFTER: u64 = 86_400;
/// How long a cut waits after the bytes before it: for them to be written out, and
/// read by the client, since a connection reset makes the browser drop what it has
/// received but not yet handed to the page (a cut right after 4 events delivered 1).
const FLUSH_WAIT: Duration = Duration::from_millis(100);
/// The `Content-Type` of every answer, as the real APIs send it.
const EVENT_STREAM: &str = "text/event-stream; charset=utf-8";

/// Which API a route imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// OpenAI Chat Completions (`/v1/chat/completions`).
    OpenAiChat,
    /// OpenAI Responses (`/v1/responses`).
    OpenAiResponses,
    /// Anthropic Messages (`/v1/messages`).
    Anthropic,
}

impl Provider {
    /// The route under `/scenario/llm/`.
    fn route(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai-chat",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
        }
    }
}

/// `cut_after`, `cut_mid`, `cut_end` and `cuts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    /// Events this response sends before the cut.
    after: u64,
    /// Whether half of the next event is written before the cut.
    mid: bool,
    /// Whether the cut ends the body cleanly instead of with a network error.
    clean: bool,
    /// How many streamed requests of the token are cut.
    times: u64,
}

/// `refuse`, `times` and `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refuse {
    status: StatusCode,
    /// How many requests of the token are refused; every one when `None`.
    times: Option<u64>,
    retry_after: Option<u64>,
}

/// The query parameters of an answer route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    tokens: usize,
    pace: Duration,
    ids: bool,
    /// Numbered events, but the whole answer whatever the Last-Event-ID.
    ignore_resume: bool,
    cut: Option<Cut>,
    refuse: Option<Refuse>,
    error_after: Option<usize>,
}

/// A `0`/`1` query parameter; absent is `false`.
fn flag(params: &Params, name: &str) -> Result<bool, ApiError> {
    match params.get(name) {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "query parameter `{name}` must be 1 or 0, got `{other}`"
        ))),
    }
}

/// An optional whole number in `range`.
fn optional_in(
    params: &Params,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ApiError> {
    match params.u64(name)? {
        Some(value) if !range.contains(&value) => Err(ApiError::bad_request(format!(
            "query parameter `{name}` must be between {} and {}, got {value}",
            range.start(),
            range.end()
        ))),
        other => Ok(other),
    }
}

/// A 400 for parameter `name` given without `needed`.
fn needs(name: &str, needed: &str) -> ApiError {
    ApiError::bad_request(format!(
        "query parameter `{name}` only makes sense with `{needed}`; add it or drop `{name}`"
    ))
}

fn usize_of(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

impl Options {
    fn parse(params: &Params, provider: Provider) -> Result<Self, ApiError> {
        let has_token = params.get("token").is_some();
        let tokens = params.int_in("tokens", DEFAULT_TOKENS, 0..=MAX_TOKENS)?;
        let pace_ms = params.int_in("pace_ms", DEFAULT_PACE_MS, 0..=MAX_PACE_MS)?;
        let ids = flag(params, "ids")?;
        let ignore_resume = flag(params, "ignore_resume")?;
        if ignore_resume && !ids {
            return Err(needs("ignore_resume", "ids=1"));
        }

        let cut_after = params.u64("cut_after")?;
        let cut_mid = flag(params, "cut_mid")?;
        let cut_end = flag(params, "cut_end")?;
        let cuts = optional_in(params, "cuts", 1..=MAX_COUNT)?;
        if cut_after.is_none() {
            if cut_mid {
                return Err(needs("cut_mid", "cut_after=K"));
            }
            if cut_end {
                return Err(needs("cut_end", "cut_after=K"));
            }
            if cuts.is_some() {
                return Err(needs("cuts", "cut_after=K"));
            }
        }
        if cuts.is_some() && !has_token {
            return Err(needs("cuts", "token=T (requests are counted per token)"));
        }
        let cut = cut_after.map(|after| Cut {
            after,
            mid: cut_mid,
            clean: cut_end,
            times: cuts.unwrap_or(1),
        });

        let times = optional_in(params, "times", 1..=MAX_COUNT)?;
        let retry_after = optional_in(params, "retry_after", 0..=MAX_RETRY_AFTER)?;
        let refuse = match params.get("refuse") {
            None => {
                if times.is_some() {
                    return Err(needs("times", "refuse=STATUS"));
                }
                if retry_after.is_some() {
                    return Err(needs("retry_after", "refuse=STATUS"));
                }
                None
            }
            Some(value) => {
                let allowed = wire::refusable(provider);
                let status = value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|code| allowed.contains(code))
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "query parameter `refuse` must be one of {allowed:?} for `/scenario/llm/{}`, got `{value}`",
                            provider.route()
                        ))
                    })?;
                if times.is_some() && !has_token {
                    return Err(needs("times", "token=T (requests are counted per token)"));
                }
                Some(Refuse {
                    status,
                    times,
                    retry_after,
                })
            }
        };

        let error_after = optional_in(params, "error_after", 0..=MAX_TOKENS)?;
        if error_after.is_some() && provider != Provider::Anthropic {
            return Err(ApiError::bad_request(
                "query parameter `error_after` is only for `/scenario/llm/anthropic`",
            ));
        }
        Ok(Self {
            tokens: usize_of(tokens),
            pace: Duration::from_millis(pace_ms),
            ids,
            ignore_resume,
            cut,
            refuse,
            error_after: error_after.map(usize_of),
        })
    }
}

/// A JSON error body with `status`, and `Retry-After` when given.
fn json_error(status: StatusCode, body: String, retry_after: Option<u64>) -> Response {
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// One step of writing an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Write these bytes.
    Send(Bytes),
    /// Wait this long (the pace, before a token).
    Pause(Duration),
    /// Give the connection [`FLUSH_WAIT`] to flush what was written.
    Flush,
    /// End the body with an error: the connection is closed without the chunked
    /// terminator, so the client sees a network error, not an end.
    Cut,
}

/// The steps that write `events` after the first `resume_after`, numbered from 1
/// (`id: n` when `ids`), waiting `pace` before each token, cut as `cut` says.
fn plan(
    events: &[wire::WireEvent],
    ids: bool,
    resume_after: usize,
    pace: Duration,
    cut: Option<Cut>,
) -> Vec<Step> {
    let mut steps = Vec::with_capacity(2 * events.len() + 2);
    let remaining = events.iter().enumerate().skip(resume_after);
    for (sent, (index, event)) in (0_u64..).zip(remaining) {
        let id = ids.then_some(index as u64 + 1);
        if event.token && !pace.is_zero() {
            steps.push(Step::Pause(pace));
        }
        let bytes = event.to_bytes(id);
        if let Some(cut) = cut.filter(|cut| cut.after == sent) {
            if cut.mid {
                let half = (bytes.len() / 2).max(1);
                steps.push(Step::Send(Bytes::from(bytes).slice(..half)));
            } else if event.token && !pace.is_zero() {
                // No token follows: the wait was for nothing.
                steps.pop();
            }
            if !cut.clean {
                steps.extend([Step::Flush, Step::Cut]);
            }
            return steps;
        }
        steps.push(Step::Send(Bytes::from(bytes)));
    }
    if cut.is_some_and(|cut| !cut.clean) {
        steps.extend([Step::Flush, Step::Cut]);
    }
    steps
}

/// The response body that carries out `steps`, ended early (cleanly) at shutdown.
fn body(state: &AppState, steps: Vec<Step>) -> Body {
    let chunks = stream::iter(steps)
        .filter_map(|step| async move {
            match step {
                Step::Send(bytes) => Some(Ok(bytes)),
                Step::Pause(wait) => {
                    tokio::time::sleep(wait).await;
                    None
                }
                Step::Flush => {
                    // Pending hands the connection a turn: hyper writes out what it
                    // holds before it polls the body again. Without it, the cut
                    // closes the connection with the bytes (even the head) unsent.
                    tokio::time::sleep(FLUSH_WAIT).await;
                    None
                }
                Step::Cut => Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the test server cut this answer on purpose (cut_after)",
                ))),
            }
        })
        .take_until(state.shutdown_signal());
    Body::from_stream(chunks)
}

/// Whether a counted behaviour applies to this request: always without a token,
/// else for the first `times` requests of the token that reach this point.
fn counted(state: &AppState, req: &ScenarioRequest, key: &str, times: Option<u64>) -> bool {
    match (req.params.get("token"), times) {
        (Some(token), Some(times)) => state.counters().next(key, token) < times,
        _ => true,
    }
}

/// Answers one request to `provider`'s route.
async fn answer(
    state: &AppState,
    req: &ScenarioRequest,
    provider: Provider,
) -> Result<Response, ApiError> {
    let options = Options::parse(&req.params, provider)?;
    let prompt = match prompt::read(provider, &req.body) {
        Ok(prompt) => prompt,
        Err(error) => {
            return Ok(json_error(
                StatusCode::BAD_REQUEST,
                wire::bad_body(provider, &error),
                None,
            ))
        }
    };
    let route = provider.route();
    if let Some(refuse) = options.refuse {
        let key = format!("llm/{route}/refuse");
        if counted(state, req, &key, refuse.times) {
            return Ok(json_error(
                refuse.status,
                wire::refusal(provider, refuse.status),
                refuse.retry_after,
            ));
        }
    }
    let cut = options.cut.filter(|cut| {
        let key = format!("llm/{route}/cut");
        counted(state, req, &key, Some(cut.times))
    });
    let tokens = prompt::answer(&prompt.text, options.tokens);
    let input_tokens = prompt::words(&prompt.text).len();
    let events = match provider {
        Provider::OpenAiChat => wire::openai_chat(&prompt.model, &tokens),
        Provider::OpenAiResponses => wire::openai_responses(&prompt.model, input_tokens, &tokens),
        Provider::Anthropic => {
            wire::anthropic(&prompt.model, input_tokens, &tokens, options.error_after)
        }
    };
    let resume_after = if options.ids && !options.ignore_resume {
        usize_of(last_seen_number(req.last_event_id.as_deref()))
    } else {
        0
    };
    let steps = plan(&events, options.ids, resume_after, options.pace, cut);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body(state, steps),
    )
        .into_response())
}

/// `POST /scenario/llm/openai-chat`.
pub(crate) async fn openai_chat(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    answer(&state, &req, Provider::OpenAiChat).await
}

/// `POST /scenario/llm/openai-responses`.
pub(crate) async fn openai_responses(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    answer(&state, &req, Provider::OpenAiResponses).await
}

/// `POST /scenario/llm/anthropic`.
pub(crate) async fn anthropic(
    State(state): State<AppState>,
    req: ScenarioRequest,
) -> Result<Response, ApiError> {
    answer(&state, &req, Provider::Anthropic).await
}

/// `GET /scenario/llm/expected?prompt=TEXT&tokens=N`: the answer's tokens and text.
pub(crate) async fn expected(req: ScenarioRequest) -> Result<Json<Value>, ApiError> {
    let prompt = req.params.get("prompt").ok_or_else(|| {
        ApiError::bad_request(
            "`/scenario/llm/expected` needs `prompt=TEXT` (URL-encoded): the last user message's text",
        )
    })?;
    let tokens = req
        .params
        .int_in("tokens", DEFAULT_TOKENS, 0..=MAX_TOKENS)?;
    let answer = prompt::answer(prompt, usize_of(tokens));
    let text = answer.concat();
    Ok(Json(json!({ "tokens": answer, "text": text })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        let uri = format!("/x?{query}").parse().expect("uri");
        Params::from_uri(&uri).expect("params")
    }

    fn event(data: &str, token: bool) -> wire::WireEvent {
        wire::WireEvent {
            kind: None,
            data: data.to_owned(),
            token,
        }
    }

    fn sent(steps: &[Step]) -> String {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Send(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn plans_pace_tokens_number_events_and_cut() {
        let events = [event("a", false), event("b", true), event("c", false)];
        let pace = Duration::from_millis(5);
        let steps = plan(&events, true, 0, pace, None);
        assert_eq!(
            steps,
            [
                Step::Send(Bytes::from_static(b"id: 1\ndata: a\n\n")),
                Step::Pause(pace),
                Step::Send(Bytes::from_static(b"id: 2\ndata: b\n\n")),
                Step::Send(Bytes::from_static(b"id: 3\ndata: c\n\n")),
            ]
        );
        // Resumed after event 1.
        assert_eq!(
            sent(&plan(&events, true, 1, pace, None)),
            "id: 2\ndata: b\n\nid: 3\ndata: c\n\n"
        );
        // Cut after one event; cut_mid writes half of the next first.
        let cut = |after, mid| {
            Some(Cut {
                after,
                mid,
                clean: false,
                times: 1,
            })
        };
        let steps = plan(&events, false, 0, pace, cut(1, false));
        assert_eq!(
            steps,
            [
                Step::Send(Bytes::from_static(b"data: a\n\n")),
                Step::Flush,
                Step::Cut,
            ]
        );
        let steps = plan(&events, false, 0, pace, cut(1, true));
        assert_eq!(sent(&steps), "data: a\n\ndata");
        assert_eq!(steps.last(), Some(&Step::Cut));
        // A cut past the last event still cuts instead of ending.
        let steps = plan(&events, false, 0, Duration::ZERO, cut(9, true));
        assert_eq!(sent(&steps), "data: a\n\ndata: b\n\ndata: c\n\n");
        assert_eq!(steps.last(), Some(&Step::Cut));
        // cut_end: the body ends there, with no network error.
        let clean = Cut {
            clean: true,
            ..cut(1, true).expect("a cut")
        };
        let steps = plan(&events, false, 0, pace, Some(clean));
        assert_eq!(sent(&steps), "data: a\n\ndata");
        assert!(!steps.contains(&Step::Cut), "{steps:?}");
    }

    #[test]
    fn options_check_their_combinations() {
        let ok = Options::parse(&params("ids=1&tokens=3&pace_ms=0"), Provider::OpenAiChat)
            .expect("valid");
        assert_eq!((ok.tokens, ok.pace, ok.ids), (3, Duration::ZERO, true));
        let defaults = Options::parse(&params(""), Provider::Anthropic).expect("valid");
        assert_eq!(
            (
                defaults.tokens,
                defaults.pace,
                defaults.cut,
                defaults.refuse
            ),
            (12, Duration::from_millis(20), None, None)
        );
        for bad in [
            "ids=yes",
            "tokens=1001",
            "pace_ms=10001",
            "cut_mid=1",
            "cut_end=1",
            "cut_after=2&cuts=2",
            "times=2",
            "refuse=429&times=2",
            "retry_after=3",
            "refuse=418",
            "refuse=529",
            "error_after=2",
        ] {
            assert!(
                Options::parse(&params(bad), Provider::OpenAiChat).is_err(),
                "{bad}"
            );
        }
        let anthropic = Options::parse(
            &params("refuse=529&error_after=2&token=t&times=1&retry_after=0"),
            Provider::Anthropic,
        )
        .expect("valid");
        assert_eq!(anthropic.error_after, Some(2));
        assert_eq!(
            anthropic.refuse,
            Some(Refuse {
                status: StatusCode::from_u16(529).expect("529"),
                times: Some(1),
                retry_after: Some(0)
            })
        );
    }
}
