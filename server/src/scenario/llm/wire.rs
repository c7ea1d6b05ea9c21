//! The events and error bodies of the three formats, field for field.
//!
//! # What was checked, and where
//!
//! Checked in 2025/2026 against the providers' API references and against raw
//! streams the real APIs sent (recorded as test fixtures by client libraries, e.g.
//! prism-php/prism `tests/Fixtures/{openai,anthropic}/stream-basic-text*`):
//!
//! - **OpenAI Chat Completions** (API reference, "The chat completion chunk object";
//!   a recorded `gpt-4` stream of June 2025): `data:` lines only, no `event:`, each a
//!   compact JSON `chat.completion.chunk` with, in this order, `id` (the same in every
//!   chunk), `object`, `created` (Unix seconds, the same in every chunk), `model`,
//!   `service_tier`, `system_fingerprint`, `choices: [{index, delta, logprobs,
//!   finish_reason}]`. The first delta is `{"role":"assistant","content":"","refusal":null}`,
//!   then one `{"content":"…"}` per token, then `{}` with `finish_reason: "stop"`,
//!   then `data: [DONE]`. Events end with a blank line. Left out: the `usage` chunk
//!   (only with `stream_options.include_usage`) and the random `obfuscation` padding
//!   field newer streams add.
//! - **OpenAI Responses** (API reference, "Streaming events"; a recorded stream of
//!   June 2025): `event: <type>` plus `data:` with the same `type` first, then
//!   `sequence_number` (from 0, one per event), in the order `response.created`,
//!   `response.in_progress` (both with the whole response object, `status:
//!   "in_progress"`, empty `output`), `response.output_item.added` (`output_index`,
//!   `item`), `response.content_part.added` (`item_id`, `output_index`,
//!   `content_index`, `part`), `response.output_text.delta` (`item_id`,
//!   `output_index`, `content_index`, `delta`, `logprobs`) per token,
//!   `response.output_text.done` (`text`), `response.content_part.done`,
//!   `response.output_item.done`, `response.completed` (`status: "completed"`,
//!   `output`, `usage`). No `[DONE]`. `logprobs: []` on text events and parts is
//!   from the current reference (the 2025 recording predates it).
//! - **Anthropic Messages** (docs "Streaming Messages", including its error-event
//!   example; a recorded `claude-3-7-sonnet` stream of 2025): `event: <type>` plus
//!   `data:` with the same `type`, in the order `message_start` (the message with
//!   empty `content`, `stop_reason: null`, `usage`), `content_block_start` (`index`,
//!   `content_block: {"type":"text","text":""}`), `ping`, `content_block_delta`
//!   (`index`, `delta: {"type":"text_delta","text":"…"}`) per token,
//!   `content_block_stop`, `message_delta` (`delta: {"stop_reason":"end_turn",
//!   "stop_sequence":null}`, `usage: {"output_tokens":N}`), `message_stop`. The real
//!   API writes `ping` and the mid-stream `error` event with spaces after `:` and `,`
//!   (`{"type": "ping"}`), the others compact; so do we. Left out: the run of spaces
//!   the real API pads some events with before their last `}`.
//! - **Error bodies**: OpenAI `{"error":{"message","type","param","code"}}` (`type`
//!   `invalid_request_error` for 400, `requests` with `code: "rate_limit_exceeded"`
//!   for 429, `server_error` for 500 and 503); Anthropic
//!   `{"type":"error","error":{"type","message"}}` with `invalid_request_error`
//!   (400), `rate_limit_error` (429), `api_error` (500), `overloaded_error` (503 and
//!   Anthropic's own 529), as in its "Errors" page.

use axum::http::StatusCode;
use serde::Serialize;

use super::prompt::BodyError;
use super::Provider;

/// The id of every Chat Completions answer.
pub(crate) const CHAT_ID: &str = "chatcmpl-scenario";
/// The id of every Responses answer.
pub(crate) const RESPONSE_ID: &str = "resp_scenario";
/// The id of the message item of every Responses answer, and of every Anthropic
/// message.
pub(crate) const MESSAGE_ID: &str = "msg_scenario";
/// `created` / `created_at` of every answer (Unix seconds): fixed, so that a resumed
/// answer repeats the same bytes.
pub(crate) const CREATED: u64 = 1_750_000_000;

/// One SSE event of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireEvent {
    /// The `event:` field, if any.
    pub(crate) kind: Option<&'static str>,
    /// The `data:` field (one line).
    pub(crate) data: String,
    /// Whether it carries a token (and so waits for the pace).
    pub(crate) token: bool,
}

impl WireEvent {
    fn new(kind: Option<&'static str>, data: &impl Serialize, token: bool) -> Self {
        Self {
            kind,
            // Serializing these plain structs cannot fail.
            data: serde_json::to_string(data).unwrap_or_default(),
            token,
        }
    }

    fn raw(kind: &'static str, data: &str) -> Self {
        Self {
            kind: Some(kind),
            data: data.to_owned(),
            token: false,
        }
    }

    /// The event on the wire: `event:` (if any), `id: n` (if given), `data:`, blank
    /// line.
    pub(crate) fn to_bytes(&self, id: Option<u64>) -> Vec<u8> {
        let mut out = String::with_capacity(self.data.len() + 48);
        if let Some(kind) = self.kind {
            out.push_str("event: ");
            out.push_str(kind);
            out.push('\n');
        }
        if let Some(id) = id {
            out.push_str(&format!("id: {id}\n"));
        }
        out.push_str("data: ");
        out.push_str(&self.data);
        out.push_str("\n\n");
        out.into_bytes()
    }
}

/// JSON `null` in a serialized struct.
type Null = Option<()>;

/// JSON `{}`.
#[derive(Serialize)]
struct Empty {}

// ---- OpenAI Chat Completions ----

#[derive(Serialize)]
struct ChatChunk<'a> {
    id: &'a str,
    object: &'a str,
    created: u64,
    model: &'a str,
    service_tier: &'a str,
    system_fingerprint: Null,
    choices: [ChatChoice<'a>; 1],
}

#[derive(Serialize)]
struct ChatChoice<'a> {
    index: u32,
    delta: ChatDelta<'a>,
    logprobs: Null,
    finish_reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ChatDelta<'a> {
    Role {
        role: &'a str,
        content: &'a str,
        refusal: Null,
    },
    Content {
        content: &'a str,
    },
    End {},
}

/// Chat Completions: the role chunk, a chunk per token, the stop chunk, `[DONE]`.
pub(crate) fn openai_chat(model: &str, tokens: &[String]) -> Vec<WireEvent> {
    let chunk = |delta, finish_reason| ChatChunk {
        id: CHAT_ID,
        object: "chat.completion.chunk",
        created: CREATED,
        model,
        service_tier: "default",
        system_fingerprint: None,
        choices: [ChatChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
        }],
    };
    let mut events = Vec::with_capacity(tokens.len() + 3);
    let role = ChatDelta::Role {
        role: "assistant",
        content: "",
        refusal: None,
    };
    events.push(WireEvent::new(None, &chunk(role, None), false));
    for token in tokens {
        let delta = ChatDelta::Content { content: token };
        events.push(WireEvent::new(None, &chunk(delta, None), true));
    }
    events.push(WireEvent::new(
        None,
        &chunk(ChatDelta::End {}, Some("stop")),
        false,
    ));
    events.push(WireEvent {
        kind: None,
        data: "[DONE]".to_owned(),
        token: false,
    });
    events
}

// ---- OpenAI Responses ----

#[derive(Serialize)]
struct ResponseEvent<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    sequence_number: u64,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct WithResponse<'a> {
    response: ResponseObject<'a>,
}

#[derive(Serialize)]
struct ResponseObject<'a> {
    id: &'a str,
    object: &'a str,
    created_at: u64,
    status: &'a str,
    background: bool,
    error: Null,
    incomplete_details: Null,
    instructions: Null,
    max_output_tokens: Null,
    model: &'a str,
    output: Vec<MessageItem<'a>>,
    parallel_tool_calls: bool,
    previous_response_id: Null,
    reasoning: Reasoning,
    service_tier: &'a str,
    store: bool,
    temperature: f64,
    text: TextConfig,
    tool_choice: &'a str,
    tools: [(); 0],
    top_p: f64,
    truncation: &'a str,
    usage: Option<ResponseUsage>,
    user: Null,
    metadata: Empty,
}

#[derive(Serialize)]
struct Reasoning {
    effort: Null,
    summary: Null,
}

#[derive(Serialize)]
struct TextConfig {
    format: TextFormat,
}

#[derive(Serialize)]
struct TextFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ResponseUsage {
    input_tokens: usize,
    input_tokens_details: CachedTokens,
    output_tokens: usize,
    output_tokens_details: ReasoningTokens,
    total_tokens: usize,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: usize,
}

#[derive(Serialize)]
struct ReasoningTokens {
    reasoning_tokens: usize,
}

#[derive(Serialize)]
struct MessageItem<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    status: &'a str,
    content: Vec<OutputText<'a>>,
    role: &'a str,
}

#[derive(Serialize)]
struct OutputText<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    annotations: [(); 0],
    logprobs: [(); 0],
    text: &'a str,
}

#[derive(Serialize)]
struct WithItem<'a> {
    output_index: u32,
    item: MessageItem<'a>,
}

#[derive(Serialize)]
struct WithPart<'a> {
    item_id: &'a str,
    output_index: u32,
    content_index: u32,
    part: OutputText<'a>,
}

#[derive(Serialize)]
struct TextDelta<'a> {
    item_id: &'a str,
    output_index: u32,
    content_index: u32,
    delta: &'a str,
    logprobs: [(); 0],
}

#[derive(Serialize)]
struct TextDone<'a> {
    item_id: &'a str,
    output_index: u32,
    content_index: u32,
    text: &'a str,
    logprobs: [(); 0],
}

fn output_text(text: &str) -> OutputText<'_> {
    OutputText {
        kind: "output_text",
        annotations: [],
        logprobs: [],
        text,
    }
}

fn message_item<'a>(status: &'a str, content: Vec<OutputText<'a>>) -> MessageItem<'a> {
    MessageItem {
        id: MESSAGE_ID,
        kind: "message",
        status,
        content,
        role: "assistant",
    }
}

/// Responses: `response.created` … `response.completed`, a
/// `response.output_text.delta` per token. `input_tokens` is reported in `usage`.
pub(crate) fn openai_responses(
    model: &str,
    input_tokens: usize,
    tokens: &[String],
) -> Vec<WireEvent> {
    let text = tokens.concat();
    let response = |status, output, usage: Option<ResponseUsage>| ResponseObject {
        id: RESPONSE_ID,
        object: "response",
        created_at: CREATED,
        status,
        background: false,
        error: None,
        incomplete_details: None,
        instructions: None,
        max_output_tokens: None,
        model,
        output,
        parallel_tool_calls: true,
        previous_response_id: None,
        reasoning: Reasoning {
            effort: None,
            summary: None,
        },
        service_tier: if usage.is_some() { "default" } else { "auto" },
        store: true,
        temperature: 1.0,
        text: TextConfig {
            format: TextFormat { kind: "text" },
        },
        tool_choice: "auto",
        tools: [],
        top_p: 1.0,
        truncation: "disabled",
        usage,
        user: None,
        metadata: Empty {},
    };
    let mut events = Vec::with_capacity(tokens.len() + 8);
    let created = WithResponse {
        response: response("in_progress", Vec::new(), None),
    };
    push_response_event(&mut events, "response.created", &created, false);
    push_response_event(&mut events, "response.in_progress", &created, false);
    let added = WithItem {
        output_index: 0,
        item: message_item("in_progress", Vec::new()),
    };
    push_response_event(&mut events, "response.output_item.added", &added, false);
    let part = |text| WithPart {
        item_id: MESSAGE_ID,
        output_index: 0,
        content_index: 0,
        part: output_text(text),
    };
    push_response_event(&mut events, "response.content_part.added", &part(""), false);
    for token in tokens {
        let delta = TextDelta {
            item_id: MESSAGE_ID,
            output_index: 0,
            content_index: 0,
            delta: token,
            logprobs: [],
        };
        push_response_event(&mut events, "response.output_text.delta", &delta, true);
    }
    let done = TextDone {
        item_id: MESSAGE_ID,
        output_index: 0,
        content_index: 0,
        text: &text,
        logprobs: [],
    };
    push_response_event(&mut events, "response.output_text.done", &done, false);
    push_response_event(
        &mut events,
        "response.content_part.done",
        &part(&text),
        false,
    );
    let item_done = WithItem {
        output_index: 0,
        item: message_item("completed", vec![output_text(&text)]),
    };
    push_response_event(&mut events, "response.output_item.done", &item_done, false);
    let usage = ResponseUsage {
        input_tokens,
        input_tokens_details: CachedTokens { cached_tokens: 0 },
        output_tokens: tokens.len(),
        output_tokens_details: ReasoningTokens {
            reasoning_tokens: 0,
        },
        total_tokens: input_tokens + tokens.len(),
    };
    let completed = WithResponse {
        response: response(
            "completed",
            vec![message_item("completed", vec![output_text(&text)])],
            Some(usage),
        ),
    };
    push_response_event(&mut events, "response.completed", &completed, false);
    events
}

/// Appends a Responses event of type `kind` numbered by its position.
fn push_response_event<T: Serialize>(
    events: &mut Vec<WireEvent>,
    kind: &'static str,
    body: &T,
    token: bool,
) {
    let sequence_number = events.len() as u64;
    let event = ResponseEvent {
        kind,
        sequence_number,
        body,
    };
    events.push(WireEvent::new(Some(kind), &event, token));
}

// ---- Anthropic Messages ----

#[derive(Serialize)]
struct MessageStart<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: AnthropicMessage<'a>,
}

#[derive(Serialize)]
struct AnthropicMessage<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    role: &'a str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Null,
    stop_sequence: Null,
    usage: StartUsage,
}

#[derive(Serialize)]
struct StartUsage {
    input_tokens: usize,
    cache_creation_input_tokens: usize,
    cache_read_input_tokens: usize,
    output_tokens: usize,
    service_tier: &'static str,
}

#[derive(Serialize)]
struct BlockStart<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    index: u32,
    content_block: TextBlock<'a>,
}

#[derive(Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct BlockDelta<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    index: u32,
    delta: TextBlock<'a>,
}

#[derive(Serialize)]
struct BlockStop<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    index: u32,
}

#[derive(Serialize)]
struct MessageDelta<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    delta: StopDelta<'a>,
    usage: OutputUsage,
}

#[derive(Serialize)]
struct StopDelta<'a> {
    stop_reason: &'a str,
    stop_sequence: Null,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: usize,
}

#[derive(Serialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
}

/// The `ping` event's data, spaced as the real API writes it.
pub(crate) const ANTHROPIC_PING: &str = r#"{"type": "ping"}"#;
/// The mid-stream `error` event's data, spaced as the real API writes it.
pub(crate) const ANTHROPIC_OVERLOADED: &str =
    r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;

/// Anthropic Messages: `message_start` … `message_stop`, a `content_block_delta` per
/// token; with `error_after = Some(k)`, the events up to the `min(k, tokens)`-th
/// delta, then an `error` event, and nothing more.
pub(crate) fn anthropic(
    model: &str,
    input_tokens: usize,
    tokens: &[String],
    error_after: Option<usize>,
) -> Vec<WireEvent> {
    let mut events = Vec::with_capacity(tokens.len() + 6);
    let start = MessageStart {
        kind: "message_start",
        message: AnthropicMessage {
            id: MESSAGE_ID,
            kind: "message",
            role: "assistant",
            model,
            content: [],
            stop_reason: None,
            stop_sequence: None,
            usage: StartUsage {
                input_tokens,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 0,
                output_tokens: 1,
                service_tier: "standard",
            },
        },
    };
    events.push(WireEvent::new(Some("message_start"), &start, false));
    let block = BlockStart {
        kind: "content_block_start",
        index: 0,
        content_block: TextBlock {
            kind: "text",
            text: "",
        },
    };
    events.push(WireEvent::new(Some("content_block_start"), &block, false));
    events.push(WireEvent::raw("ping", ANTHROPIC_PING));
    let sent = error_after.map_or(tokens.len(), |k| k.min(tokens.len()));
    for token in &tokens[..sent] {
        let delta = BlockDelta {
            kind: "content_block_delta",
            index: 0,
            delta: TextBlock {
                kind: "text_delta",
                text: token,
            },
        };
        events.push(WireEvent::new(Some("content_block_delta"), &delta, true));
    }
    if error_after.is_some() {
        events.push(WireEvent::raw("error", ANTHROPIC_OVERLOADED));
        return events;
    }
    let stop = BlockStop {
        kind: "content_block_stop",
        index: 0,
    };
    events.push(WireEvent::new(Some("content_block_stop"), &stop, false));
    let delta = MessageDelta {
        kind: "message_delta",
        delta: StopDelta {
            stop_reason: "end_turn",
            stop_sequence: None,
        },
        usage: OutputUsage {
            output_tokens: tokens.len(),
        },
    };
    events.push(WireEvent::new(Some("message_delta"), &delta, false));
    let stop = TypeOnly {
        kind: "message_stop",
    };
    events.push(WireEvent::new(Some("message_stop"), &stop, false));
    events
}

// ---- Error bodies ----

#[derive(Serialize)]
struct OpenAiError<'a> {
    error: OpenAiErrorBody<'a>,
}

#[derive(Serialize)]
struct OpenAiErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicError<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    error: AnthropicErrorBody<'a>,
}

#[derive(Serialize)]
struct AnthropicErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

fn error_json(provider: Provider, kind: &str, error: &BodyError) -> String {
    let json = match provider {
        Provider::Anthropic => serde_json::to_string(&AnthropicError {
            kind: "error",
            error: AnthropicErrorBody {
                kind,
                message: &error.message,
            },
        }),
        _ => serde_json::to_string(&OpenAiError {
            error: OpenAiErrorBody {
                message: &error.message,
                kind,
                param: error.param,
                code: error.code,
            },
        }),
    };
    json.unwrap_or_default()
}

/// The provider's 400 body for a request body it cannot use.
pub(crate) fn bad_body(provider: Provider, error: &BodyError) -> String {
    error_json(provider, "invalid_request_error", error)
}

/// The statuses `refuse=` takes for `provider`.
pub(crate) fn refusable(provider: Provider) -> &'static [u16] {
    match provider {
        Provider::Anthropic => &[400, 429, 500, 503, 529],
        _ => &[400, 429, 500, 503],
    }
}

/// The provider's body for a `refuse=status` answer (`status` one of
/// [`refusable`]).
pub(crate) fn refusal(provider: Provider, status: StatusCode) -> String {
    let code = status.as_u16();
    let (kind, message, error_code) = match (provider, code) {
        (Provider::Anthropic, 400) => ("invalid_request_error", "Invalid request.", None),
        (Provider::Anthropic, 429) => (
            "rate_limit_error",
            "Number of requests has exceeded your rate limit.",
            None,
        ),
        (Provider::Anthropic, 500) => ("api_error", "Internal server error.", None),
        (Provider::Anthropic, _) => ("overloaded_error", "Overloaded.", None),
        (_, 400) => ("invalid_request_error", "Invalid request.", None),
        (_, 429) => (
            "requests",
            "Rate limit reached for requests.",
            Some("rate_limit_exceeded"),
        ),
        (_, 500) => (
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
            None,
        ),
        _ => (
            "server_error",
            "That model is currently overloaded with other requests.",
            None,
        ),
    };
    let error = BodyError {
        message: format!("{message} (test server: refuse={code})"),
        param: None,
        code: error_code,
    };
    error_json(provider, kind, &error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn chat_chunks_are_in_the_real_field_order() {
        let events = openai_chat("gpt-x", &tokens(&["Hi"]));
        let wire: Vec<String> = events
            .iter()
            .map(|e| String::from_utf8(e.to_bytes(None)).expect("utf-8"))
            .collect();
        let head = r#"data: {"id":"chatcmpl-scenario","object":"chat.completion.chunk","created":1750000000,"model":"gpt-x","service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":"#;
        assert_eq!(
            wire,
            [
                format!("{head}{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"),
                format!("{head}{{\"content\":\"Hi\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"),
                format!("{head}{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}]}}\n\n"),
                "data: [DONE]\n\n".to_owned(),
            ]
        );
        assert_eq!(
            events.iter().map(|e| e.token).collect::<Vec<_>>(),
            [false, true, false, false]
        );
    }

    #[test]
    fn responses_events_number_themselves_and_put_type_first() {
        let events = openai_responses("m", 2, &tokens(&["a", " b"]));
        let kinds: Vec<_> = events.iter().map(|e| e.kind.unwrap_or("")).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (n, event) in events.iter().enumerate() {
            let prefix = format!(
                r#"{{"type":"{}","sequence_number":{n},"#,
                event.kind.unwrap_or("")
            );
            assert!(event.data.starts_with(&prefix), "{}", event.data);
        }
        assert_eq!(
            events[4].data,
            r#"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_scenario","output_index":0,"content_index":0,"delta":"a","logprobs":[]}"#
        );
    }

    #[test]
    fn anthropic_errors_after_k_deltas_and_stops() {
        let all = anthropic("c", 1, &tokens(&["a", "b", "c"]), None);
        assert_eq!(all.len(), 3 + 6);
        assert_eq!(all[2].data, ANTHROPIC_PING);
        let cut = anthropic("c", 1, &tokens(&["a", "b", "c"]), Some(1));
        let kinds: Vec<_> = cut.iter().map(|e| e.kind.unwrap_or("")).collect();
        assert_eq!(
            kinds,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "error"
            ]
        );
        assert_eq!(anthropic("c", 1, &tokens(&["a"]), Some(9)).len(), 5);
    }

    #[test]
    fn refusals_use_each_providers_error_shape() {
        let openai = refusal(Provider::OpenAiChat, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            openai,
            r#"{"error":{"message":"Rate limit reached for requests. (test server: refuse=429)","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
        );
        let anthropic = refusal(Provider::Anthropic, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            anthropic,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit. (test server: refuse=429)"}}"#
        );
    }
}
