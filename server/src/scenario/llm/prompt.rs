//! Reading the prompt out of a request body, and the deterministic answer to it.

use serde_json::Value;

use super::Provider;

/// Longest `model` accepted; it is echoed in every event.
const MAX_MODEL: usize = 256;
/// A prompt word longer than this many characters is cut to its first ones.
pub(crate) const MAX_WORD_CHARS: usize = 40;
/// The first token of every answer.
pub(crate) const FIRST_TOKEN: &str = "Echo:";
/// The word repeated when the prompt has none.
pub(crate) const NO_WORDS: &str = "(empty)";
/// The model named in the events when the body names none.
pub(crate) const DEFAULT_MODEL: &str = "scenario-model";

/// What the scenarios need from a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// The `model` of the body, or [`DEFAULT_MODEL`].
    pub(crate) model: String,
    /// The text of the last user message: its string content, or its text parts
    /// joined by `\n`.
    pub(crate) text: String,
}

/// Why a body was refused, in the terms of the provider's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BodyError {
    pub(crate) message: String,
    /// The request field at fault (OpenAI's `param`).
    pub(crate) param: Option<&'static str>,
    /// OpenAI's `code`.
    pub(crate) code: Option<&'static str>,
}

impl BodyError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            param: None,
            code: None,
        }
    }

    fn param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the JSON body of a request to `provider`'s route.
pub(crate) fn read(provider: Provider, body: &str) -> Result<Prompt, BodyError> {
    let value: Value = serde_json::from_str(body).map_err(|e| match provider {
        Provider::Anthropic => BodyError::new(format!(
            "The request body is not valid JSON ({e}); send a JSON object with \"model\", \"max_tokens\", \"messages\" and \"stream\": true."
        )),
        _ => BodyError::new(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        ),
    })?;
    let Value::Object(body) = &value else {
        return Err(BodyError::new(format!(
            "The request body must be a JSON object, got {}.",
            type_name(&value)
        )));
    };
    if body.get("stream") != Some(&Value::Bool(true)) {
        return Err(BodyError::new(
            "This test server only streams: set \"stream\": true in the request body.",
        )
        .param("stream"));
    }
    let model = match body.get("model") {
        None => DEFAULT_MODEL.to_owned(),
        Some(Value::String(model)) if model.len() <= MAX_MODEL && !model.is_empty() => {
            model.clone()
        }
        Some(_) => {
            return Err(BodyError::new(format!(
                "'model' must be a string of 1 to {MAX_MODEL} bytes."
            ))
            .param("model"))
        }
    };
    let text = match provider {
        Provider::OpenAiChat => chat_prompt(body.get("messages"), "text", provider)?,
        Provider::Anthropic => chat_prompt(body.get("messages"), "text", provider)?,
        Provider::OpenAiResponses => responses_prompt(body.get("input"))?,
    };
    Ok(Prompt { model, text })
}

/// The last `role: "user"` message's text from a `messages` array (Chat
/// Completions and Anthropic Messages).
fn chat_prompt(
    messages: Option<&Value>,
    part_type: &str,
    provider: Provider,
) -> Result<String, BodyError> {
    let anthropic = provider == Provider::Anthropic;
    let messages = match messages {
        None if anthropic => return Err(BodyError::new("messages: Field required")),
        None => {
            return Err(BodyError::new("Missing required parameter: 'messages'.")
                .param("messages")
                .code("missing_required_parameter"))
        }
        Some(Value::Array(messages)) => messages,
        Some(other) => {
            return Err(BodyError::new(format!(
                "Invalid type for 'messages': expected an array of objects, but got {} instead.",
                type_name(other)
            ))
            .param("messages")
            .code("invalid_type"))
        }
    };
    let user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .ok_or_else(|| {
            BodyError::new(
                "'messages' has no message with \"role\": \"user\"; this test server answers the last one.",
            )
            .param("messages")
        })?;
    content_text(user.get("content"), part_type, "messages[].content")
}

/// The text of an OpenAI Responses `input`: a string, or the last user message of a
/// list of input items.
fn responses_prompt(input: Option<&Value>) -> Result<String, BodyError> {
    match input {
        None => Err(BodyError::new("Missing required parameter: 'input'.")
            .param("input")
            .code("missing_required_parameter")),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(items)) => {
            let user = items
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
                .ok_or_else(|| {
                    BodyError::new(
                        "'input' has no item with \"role\": \"user\"; this test server answers the last one.",
                    )
                    .param("input")
                })?;
            content_text(user.get("content"), "input_text", "input[].content")
        }
        Some(other) => Err(BodyError::new(format!(
            "Invalid type for 'input': expected a string or an array of input items, but got {} instead.",
            type_name(other)
        ))
        .param("input")
        .code("invalid_type")),
    }
}

/// A message's `content`: a string, or the `text` of its parts of type `part_type`
/// joined by `\n`.
fn content_text(
    content: Option<&Value>,
    part_type: &str,
    what: &'static str,
) -> Result<String, BodyError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => Ok(parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some(part_type))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")),
        other => Err(BodyError::new(format!(
            "Invalid type for '{what}' of the user message: expected a string or an array of parts of type \"{part_type}\", but got {} instead.",
            other.map_or("nothing", type_name)
        ))
        .param(what)
        .code("invalid_type")),
    }
}

/// The words of a prompt as the answer repeats them: split at Unicode white space,
/// each cut to [`MAX_WORD_CHARS`] characters; `[NO_WORDS]` when there are none.
pub(crate) fn words(prompt: &str) -> Vec<&str> {
    let words: Vec<&str> = prompt
        .split_whitespace()
        .map(|word| match word.char_indices().nth(MAX_WORD_CHARS) {
            Some((end, _)) => &word[..end],
            None => word,
        })
        .collect();
    if words.is_empty() {
        vec![NO_WORDS]
    } else {
        words
    }
}

/// The answer to `prompt`, `count` tokens long: [`FIRST_TOKEN`], then a space and
/// word `(i - 1) mod W` for token `i` (from 0), cycling through the [`words`].
pub(crate) fn answer(prompt: &str, count: usize) -> Vec<String> {
    let words = words(prompt);
    (0..count)
        .map(|i| match i {
            0 => FIRST_TOKEN.to_owned(),
            i => format!(" {}", words[(i - 1) % words.len()]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_echoes_the_words_in_a_cycle() {
        assert_eq!(
            answer("  Hello,\n  wide\tworld ", 6),
            ["Echo:", " Hello,", " wide", " world", " Hello,", " wide"]
        );
        assert_eq!(answer("x", 0), Vec::<String>::new());
        assert_eq!(answer(" \n", 3), ["Echo:", " (empty)", " (empty)"]);
        let long = "é".repeat(50);
        assert_eq!(answer(&long, 2)[1], format!(" {}", "é".repeat(40)));
    }

    #[test]
    fn prompts_come_from_the_last_user_message() {
        let chat = r#"{"model":"m","stream":true,"messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":"first"},
            {"role":"assistant","content":"ok"},
            {"role":"user","content":[{"type":"text","text":"a b"},{"type":"image_url"},{"type":"text","text":"c"}]}]}"#;
        assert_eq!(
            read(Provider::OpenAiChat, chat),
            Ok(Prompt {
                model: "m".into(),
                text: "a b\nc".into()
            })
        );
        let responses = r#"{"stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"hi there"}]}]}"#;
        assert_eq!(
            read(Provider::OpenAiResponses, responses).map(|p| (p.model, p.text)),
            Ok((DEFAULT_MODEL.to_owned(), "hi there".to_owned()))
        );
        let plain = r#"{"stream":true,"model":"gpt","input":"just text"}"#;
        assert_eq!(
            read(Provider::OpenAiResponses, plain).map(|p| p.text),
            Ok("just text".to_owned())
        );
        let anthropic = r#"{"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"yo"}]}]}"#;
        assert_eq!(
            read(Provider::Anthropic, anthropic).map(|p| p.text),
            Ok("yo".to_owned())
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let cases: [(Provider, &str, &str); 9] = [
            (
                Provider::OpenAiChat,
                "{not json",
                "could not parse the JSON body",
            ),
            (Provider::Anthropic, "{not json", "not valid JSON"),
            (Provider::OpenAiChat, "[1]", "must be a JSON object"),
            (
                Provider::OpenAiChat,
                r#"{"messages":[]}"#,
                "\"stream\": true",
            ),
            (
                Provider::OpenAiChat,
                r#"{"stream":true}"#,
                "Missing required parameter: 'messages'",
            ),
            (
                Provider::Anthropic,
                r#"{"stream":true}"#,
                "messages: Field required",
            ),
            (
                Provider::OpenAiResponses,
                r#"{"stream":true}"#,
                "Missing required parameter: 'input'",
            ),
            (
                Provider::OpenAiChat,
                r#"{"stream":true,"messages":[{"role":"system","content":"x"}]}"#,
                "no message with \"role\": \"user\"",
            ),
            (
                Provider::OpenAiChat,
                r#"{"stream":true,"messages":[{"role":"user","content":7}]}"#,
                "expected a string or an array",
            ),
        ];
        for (provider, body, expected) in cases {
            let error = read(provider, body).expect_err(body);
            assert!(
                error.message.contains(expected),
                "{body}: {}",
                error.message
            );
        }
        let long_model = format!(
            r#"{{"stream":true,"model":"{}","input":"x"}}"#,
            "m".repeat(300)
        );
        assert_eq!(
            read(Provider::OpenAiResponses, &long_model).map_err(|e| e.param),
            Err(Some("model"))
        );
    }
}
