//! `/scenario/llm/...`: language-model answers, exact bytes on the wire, resume, cuts,
//! refusals and the request log.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{header, json_response, spawn, Server, TIMEOUT};
use futures::StreamExt;
use serde_json::{json, Value};

const CHAT: &str = "/scenario/llm/openai-chat";
const RESPONSES: &str = "/scenario/llm/openai-responses";
const ANTHROPIC: &str = "/scenario/llm/anthropic";

fn chat_body(prompt: &str) -> String {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            { "role": "system", "content": "You are terse." },
            { "role": "user", "content": prompt }
        ],
        "stream": true
    })
    .to_string()
}

fn responses_body(prompt: &str) -> String {
    json!({ "model": "gpt-4.1", "input": prompt, "stream": true }).to_string()
}

fn anthropic_body(prompt: &str) -> String {
    json!({
        "model": "claude-x",
        "max_tokens": 64,
        "messages": [{ "role": "user", "content": [{ "type": "text", "text": prompt }] }],
        "stream": true
    })
    .to_string()
}

/// The body for `path` asking `prompt`.
fn body_for(path: &str, prompt: &str) -> String {
    if path.starts_with(CHAT) {
        chat_body(prompt)
    } else if path.starts_with(RESPONSES) {
        responses_body(prompt)
    } else {
        anthropic_body(prompt)
    }
}

async fn post(
    server: &Server,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    tokio::time::timeout(TIMEOUT, request.send())
        .await
        .expect("response headers in time")
        .expect("request")
}

/// How a response body ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The body ended as HTTP says a body ends.
    Clean,
    /// Reading it failed: the connection broke before the end.
    Error,
}

/// Reads a streamed answer (checking its headers) to its end; returns the bytes and
/// how it ended.
async fn read_answer(response: reqwest::Response) -> (String, End) {
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );
    let mut stream = response.bytes_stream();
    let mut bytes = Vec::new();
    let end = loop {
        match tokio::time::timeout(TIMEOUT, stream.next()).await {
            Err(_) => panic!(
                "the answer did not end in time; got {:?}",
                String::from_utf8_lossy(&bytes)
            ),
            Ok(None) => break End::Clean,
            Ok(Some(Ok(chunk))) => bytes.extend_from_slice(&chunk),
            Ok(Some(Err(_))) => break End::Error,
        }
    };
    (String::from_utf8(bytes).expect("utf-8 answer"), end)
}

async fn answer(server: &Server, path: &str, prompt: &str) -> (String, End) {
    let body = body_for(path, prompt);
    read_answer(post(server, path, &body, &[]).await).await
}

/// The events of an answer, each with its blank line.
fn events(text: &str) -> Vec<String> {
    text.split_inclusive("\n\n").map(str::to_owned).collect()
}

/// The JSON data of each event (all but `[DONE]`).
fn data(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).expect("json data"))
        .collect()
}

fn chat_chunk(delta: &str, finish: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-scenario\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"gpt-4o-mini\",\"service_tier\":\"default\",\"system_fingerprint\":null,\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]}}\n\n"
    )
}

fn now_millis() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since.as_millis()).expect("millis fit")
}

#[tokio::test]
async fn openai_chat_sends_the_real_chunks_then_done_then_ends() {
    let server = spawn().await;
    let (text, end) = answer(&server, &format!("{CHAT}?tokens=3&pace_ms=0"), "Hi there").await;
    assert_eq!(end, End::Clean);
    // The first chunk exactly as OpenAI writes it.
    assert!(
        text.starts_with(
            "data: {\"id\":\"chatcmpl-scenario\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"gpt-4o-mini\",\"service_tier\":\"default\",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        ),
        "{text}"
    );
    let expected = [
        chat_chunk(
            r#"{"role":"assistant","content":"","refusal":null}"#,
            "null",
        ),
        chat_chunk(r#"{"content":"Echo:"}"#, "null"),
        chat_chunk(r#"{"content":" Hi"}"#, "null"),
        chat_chunk(r#"{"content":" there"}"#, "null"),
        chat_chunk("{}", r#""stop""#),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    assert_eq!(text, expected);
    assert!(!text.contains("event:") && !text.contains("id:"));

    // The default is 12 tokens cycling through the words of the last user message.
    let (text, _) = answer(&server, &format!("{CHAT}?pace_ms=0"), "one two").await;
    let content: String = data(&text)
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "Echo: one two one two one two one two one two one");
    assert_eq!(events(&text).len(), 12 + 3);
}

#[tokio::test]
async fn openai_responses_sends_named_numbered_events_without_done() {
    let server = spawn().await;
    let path = format!("{RESPONSES}?tokens=2&pace_ms=0");
    let (text, end) = answer(&server, &path, "Hi there").await;
    assert_eq!(end, End::Clean);
    assert!(!text.contains("[DONE]"), "{text}");
    // A golden prefix: the first event exactly as OpenAI writes it.
    let created = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_scenario\",\"object\":\"response\",\"created_at\":1750000000,\"status\":\"in_progress\",\"background\":false,\"error\":null,\"incomplete_details\":null,\"instructions\":null,\"max_output_tokens\":null,\"model\":\"gpt-4.1\",\"output\":[],\"parallel_tool_calls\":true,\"previous_response_id\":null,\"reasoning\":{\"effort\":null,\"summary\":null},\"service_tier\":\"auto\",\"store\":true,\"temperature\":1.0,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,\"truncation\":\"disabled\",\"usage\":null,\"user\":null,\"metadata\":{}}}\n\n";
    assert!(text.starts_with(created), "{text}");
    let all = events(&text);
    assert_eq!(
        all[4],
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_scenario\",\"output_index\":0,\"content_index\":0,\"delta\":\"Echo:\",\"logprobs\":[]}\n\n"
    );
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| {
            e.strip_prefix("event: ")
                .and_then(|e| e.split('\n').next())
                .expect("named event")
        })
        .collect();
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
    let values = data(&text);
    for (n, (value, kind)) in values.iter().zip(&kinds).enumerate() {
        assert_eq!(value["type"], *kind);
        assert_eq!(value["sequence_number"], n);
    }
    assert_eq!(values[6]["text"], "Echo: Hi");
    let completed = &values[9]["response"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(
        completed["output"][0]["content"][0]["text"], "Echo: Hi",
        "{completed}"
    );
    assert_eq!(
        completed["usage"]["output_tokens"], 2,
        "{}",
        completed["usage"]
    );
    assert_eq!(completed["usage"]["input_tokens"], 2);

    // Input items work too: the last user item's input_text parts.
    let body = json!({
        "model": "gpt-4.1",
        "stream": true,
        "input": [
            { "role": "user", "content": "old" },
            { "role": "user", "content": [{ "type": "input_text", "text": "new words" }] }
        ]
    })
    .to_string();
    let (text, _) = read_answer(post(&server, &path, &body, &[]).await).await;
    assert_eq!(data(&text)[6]["text"], "Echo: new");
}

const ANTHROPIC_EVENTS: [&str; 8] = [
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_scenario\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":2,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Echo:\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" Hi\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

#[tokio::test]
async fn anthropic_sends_the_real_events_and_an_error_on_demand() {
    let server = spawn().await;
    let (text, end) = answer(
        &server,
        &format!("{ANTHROPIC}?tokens=2&pace_ms=0"),
        "Hi there",
    )
    .await;
    assert_eq!(end, End::Clean);
    assert_eq!(text, ANTHROPIC_EVENTS.concat());

    let path = format!("{ANTHROPIC}?tokens=2&pace_ms=0&error_after=1");
    let (text, end) = answer(&server, &path, "Hi there").await;
    assert_eq!(end, End::Clean, "the response ends after the error event");
    let error = "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
    assert_eq!(text, [&ANTHROPIC_EVENTS[..4].concat(), error].concat());
}

#[tokio::test]
async fn expected_lists_the_tokens_of_an_answer() {
    let server = spawn().await;
    let (status, value) = json_response(
        server
            .get("/scenario/llm/expected?prompt=Hello%2C%20wide%20world&tokens=6")
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        value,
        json!({
            "tokens": ["Echo:", " Hello,", " wide", " world", " Hello,", " wide"],
            "text": "Echo: Hello, wide world Hello, wide"
        })
    );
    // It agrees with what the routes stream.
    let (text, _) = answer(
        &server,
        &format!("{CHAT}?tokens=6&pace_ms=0"),
        "Hello, wide world",
    )
    .await;
    let streamed: Vec<Value> = data(&text)
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"].get("content").cloned())
        .filter(|content| content != "")
        .collect();
    assert_eq!(Value::Array(streamed), value["tokens"]);
    let (status, _) = json_response(server.get("/scenario/llm/expected").await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn ids_make_every_format_resumable_with_the_same_bytes() {
    let server = spawn().await;
    for route in [CHAT, RESPONSES, ANTHROPIC] {
        let path = format!("{route}?tokens=4&pace_ms=0&ids=1");
        let body = body_for(route, "resume me");
        let (full, end) = read_answer(post(&server, &path, &body, &[]).await).await;
        assert_eq!(end, End::Clean);
        let all = events(&full);
        for (n, event) in all.iter().enumerate() {
            let id = format!("id: {}\n", n + 1);
            assert!(event.contains(&id), "{route}: {event}");
            // `id:` comes after `event:` and before `data:`.
            let at = event.find(&id).unwrap_or(0);
            assert!(event[at..].starts_with(&format!("{id}data: ")), "{event}");
        }
        // Without ids the same events, minus their id lines.
        let (plain, _) =
            read_answer(post(&server, &format!("{route}?tokens=4&pace_ms=0"), &body, &[]).await)
                .await;
        let stripped: String = full
            .split_inclusive('\n')
            .filter(|line| !line.starts_with("id: "))
            .collect();
        assert_eq!(plain, stripped, "{route}");

        for k in [1, 3, all.len() - 1] {
            let k_text = k.to_string();
            let (rest, end) =
                read_answer(post(&server, &path, &body, &[("Last-Event-ID", &k_text)]).await).await;
            assert_eq!(end, End::Clean);
            assert_eq!(rest, all[k..].concat(), "{route} after {k}");
            let query = format!("{path}&lastEventId={k}");
            let (rest, _) = read_answer(post(&server, &query, &body, &[]).await).await;
            assert_eq!(rest, all[k..].concat(), "{route} after {k} (query)");
        }
        let last = all.len().to_string();
        let (rest, end) =
            read_answer(post(&server, &path, &body, &[("Last-Event-ID", &last)]).await).await;
        assert_eq!((rest.as_str(), end), ("", End::Clean));
        // Without ids=1 a Last-Event-ID is ignored: the whole answer again.
        let (again, _) = read_answer(
            post(
                &server,
                &format!("{route}?tokens=4&pace_ms=0"),
                &body,
                &[("Last-Event-ID", "3")],
            )
            .await,
        )
        .await;
        assert_eq!(again, plain);
    }
}

#[tokio::test]
async fn a_cut_is_a_network_error_on_the_first_request_of_the_token_only() {
    let server = spawn().await;
    for route in [CHAT, RESPONSES, ANTHROPIC] {
        let token = format!("cut-{}", route.rsplit('/').next().unwrap_or(""));
        let path = format!("{route}?tokens=4&pace_ms=0&ids=1&cut_after=3&token={token}");
        let body = body_for(route, "cut me");
        let (full, _) = read_answer(
            post(
                &server,
                &format!("{route}?tokens=4&pace_ms=0&ids=1"),
                &body,
                &[],
            )
            .await,
        )
        .await;
        let all = events(&full);

        // Regression: a cut used to end the body cleanly (as chaos does), which a
        // client cannot tell from the answer's end.
        let (first, end) = read_answer(post(&server, &path, &body, &[]).await).await;
        assert_eq!(end, End::Error, "{route}: the client must see an error");
        assert_eq!(first, all[..3].concat(), "{route}: three whole events");

        // The resumed request runs to the end, cleanly.
        let (rest, end) =
            read_answer(post(&server, &path, &body, &[("Last-Event-ID", "3")]).await).await;
        assert_eq!(end, End::Clean, "{route}");
        assert_eq!(rest, all[3..].concat(), "{route}");

        let log = server.state.request_log(&token);
        assert_eq!(log.len(), 2, "{route}: exactly two POSTs");
        assert!(log
            .iter()
            .all(|r| r["method"] == "POST" && r["status"] == 200));
        assert_eq!(log[0]["lastEventId"], Value::Null);
        assert_eq!(log[1]["lastEventId"], "3");
    }

    // cut_mid writes half of the next event first; without a token every request
    // is cut; cuts=2 cuts two requests of a token.
    let body = chat_body("half");
    let (full, _) =
        read_answer(post(&server, &format!("{CHAT}?tokens=2&pace_ms=0"), &body, &[]).await).await;
    let all = events(&full);
    let half = &all[1][..all[1].len() / 2];
    for _ in 0..2 {
        let (cut, end) = read_answer(
            post(
                &server,
                &format!("{CHAT}?tokens=2&pace_ms=0&cut_after=1&cut_mid=1"),
                &body,
                &[],
            )
            .await,
        )
        .await;
        assert_eq!(end, End::Error);
        assert_eq!(cut, format!("{}{half}", all[0]));
    }
    let path = format!("{CHAT}?tokens=2&pace_ms=0&cut_after=0&cuts=2&token=twice");
    for expected in [End::Error, End::Error, End::Clean] {
        let (_, end) = read_answer(post(&server, &path, &body, &[]).await).await;
        assert_eq!(end, expected);
    }
    // Past the last event: every event, then still a cut rather than an end.
    let (text, end) = read_answer(
        post(
            &server,
            &format!("{CHAT}?tokens=2&pace_ms=0&cut_after=99"),
            &body,
            &[],
        )
        .await,
    )
    .await;
    assert_eq!((text, end), (full, End::Error));
}

#[tokio::test]
async fn a_cut_leaves_out_the_chunked_terminator() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = spawn().await;
    let body = chat_body("raw");
    let request = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let mut ends = Vec::new();
    for path in [
        format!("{CHAT}?tokens=1&pace_ms=0"),
        format!("{CHAT}?tokens=1&pace_ms=0&cut_after=2"),
    ] {
        let addr = server.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(request(&path).as_bytes())
            .await
            .expect("write");
        let mut raw = Vec::new();
        tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut raw))
            .await
            .expect("the server closes in time")
            .expect("read");
        let raw = String::from_utf8(raw).expect("utf-8");
        assert!(raw.contains("transfer-encoding: chunked"), "{raw}");
        ends.push(raw.ends_with("\r\n0\r\n\r\n"));
    }
    assert_eq!(
        ends,
        [true, false],
        "a clean end has the terminator, a cut not"
    );
}

#[tokio::test]
async fn refusals_carry_the_providers_json_and_retry_after_then_streams_follow() {
    let server = spawn().await;
    let path = format!("{CHAT}?tokens=1&pace_ms=0&refuse=429&times=2&retry_after=3&token=r1");
    let body = chat_body("again");
    for _ in 0..2 {
        let response = post(&server, &path, &body, &[]).await;
        assert_eq!(header(&response, "retry-after").as_deref(), Some("3"));
        let (status, error) = json_response(response).await;
        assert_eq!(status, 429);
        assert_eq!(
            error,
            json!({"error": {
                "message": "Rate limit reached for requests. (test server: refuse=429)",
                "type": "requests",
                "param": null,
                "code": "rate_limit_exceeded"
            }})
        );
    }
    let (text, end) = read_answer(post(&server, &path, &body, &[]).await).await;
    assert_eq!(end, End::Clean);
    assert!(text.ends_with("data: [DONE]\n\n"));
    let statuses: Vec<Value> = server
        .state
        .request_log("r1")
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(429), json!(429), json!(200)]);

    // Anthropic's shape; without `times` every request is refused; no Retry-After
    // unless asked.
    let path = format!("{ANTHROPIC}?refuse=529&token=r2");
    for _ in 0..2 {
        let response = post(&server, &path, &anthropic_body("x"), &[]).await;
        assert_eq!(header(&response, "retry-after"), None);
        let (status, error) = json_response(response).await;
        assert_eq!(status, 529);
        assert_eq!(
            error,
            json!({"type": "error", "error": {
                "type": "overloaded_error",
                "message": "Overloaded. (test server: refuse=529)"
            }})
        );
    }
    let (status, error) = json_response(
        post(
            &server,
            &format!("{RESPONSES}?refuse=400"),
            &responses_body("x"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &error["error"]["type"]),
        (400, &json!("invalid_request_error"))
    );

    // A refusal is not a streamed request: the cut falls on the first stream.
    let path = format!("{CHAT}?tokens=1&pace_ms=0&refuse=503&times=1&cut_after=1&token=r3");
    assert_eq!(
        post(&server, &path, &body, &[]).await.status().as_u16(),
        503
    );
    assert_eq!(
        read_answer(post(&server, &path, &body, &[]).await).await.1,
        End::Error
    );
    assert_eq!(
        read_answer(post(&server, &path, &body, &[]).await).await.1,
        End::Clean
    );
}

#[tokio::test]
async fn bad_bodies_get_a_400_in_the_providers_shape() {
    let server = spawn().await;
    let cases: [(&str, &str, Value); 5] = [
        (
            CHAT,
            "{not json",
            json!({"error": {
                "message": "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
                "type": "invalid_request_error",
                "param": null,
                "code": null
            }}),
        ),
        (
            CHAT,
            r#"{"model":"m","stream":true}"#,
            json!({"error": {
                "message": "Missing required parameter: 'messages'.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "missing_required_parameter"
            }}),
        ),
        (
            RESPONSES,
            r#"{"model":"m","stream":true}"#,
            json!({"error": {
                "message": "Missing required parameter: 'input'.",
                "type": "invalid_request_error",
                "param": "input",
                "code": "missing_required_parameter"
            }}),
        ),
        (
            ANTHROPIC,
            r#"{"model":"m","max_tokens":5,"stream":true}"#,
            json!({"type": "error", "error": {
                "type": "invalid_request_error",
                "message": "messages: Field required"
            }}),
        ),
        (
            CHAT,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
            json!({"error": {
                "message": "This test server only streams: set \"stream\": true in the request body.",
                "type": "invalid_request_error",
                "param": "stream",
                "code": null
            }}),
        ),
    ];
    for (route, body, expected) in cases {
        let path = format!("{route}?token=bad");
        let (status, error) = json_response(post(&server, &path, body, &[]).await).await;
        assert_eq!((status, error), (400, expected), "{route} {body}");
    }
    let (status, error) =
        json_response(post(&server, &format!("{ANTHROPIC}?token=bad"), "{not json", &[]).await)
            .await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("not valid JSON")));
    assert_eq!(server.state.request_log("bad").len(), 6);

    // Bad query parameters are the server's own 400.
    for query in [
        "tokens=5000",
        "ids=yes",
        "refuse=418",
        "cut_mid=1",
        "error_after=1",
    ] {
        let (status, error) =
            json_response(post(&server, &format!("{CHAT}?{query}"), &chat_body("x"), &[]).await)
                .await;
        assert_eq!(status, 400, "{query}");
        assert!(error["error"].is_string(), "{query}: {error}");
    }
    // GET is not an answer route.
    assert_eq!(server.get(CHAT).await.status().as_u16(), 405);
}

#[tokio::test]
async fn the_log_times_each_answer_from_start_to_end() {
    let server = spawn().await;
    let before = now_millis();
    let path = format!("{CHAT}?tokens=5&pace_ms=30&token=timed");
    let (_, end) = read_answer(post(&server, &path, &chat_body("slow"), &[]).await).await;
    assert_eq!(end, End::Clean);
    let state = server.state.clone();
    tokio::time::timeout(
        TIMEOUT,
        state.wait_for_request_log("timed", |log| log.len() == 1 && log[0]["open"] == false),
    )
    .await
    .expect("the answer's record closes");
    let after = now_millis();
    let record = &server.state.request_log("timed")[0];
    let started = record["startedAt"].as_u64().expect("startedAt");
    let ended = record["endedAt"].as_u64().expect("endedAt");
    assert!(
        before <= started && started <= ended && ended <= after,
        "{record}"
    );
    // Five tokens paced 30 ms apart.
    assert!(ended - started >= 150, "{record}");
    assert_eq!(record["body"], chat_body("slow"));
}

#[tokio::test]
async fn a_client_leaving_a_paced_answer_is_noticed_before_the_next_token() {
    let server = spawn().await;
    // Ten seconds before each token: the server writes nothing for that long.
    let path = format!("{ANTHROPIC}?tokens=2&pace_ms=10000&token=gone");
    let response = post(&server, &path, &anthropic_body("wait"), &[]).await;
    let mut stream = response.bytes_stream();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("event: ping\n") {
        let chunk = tokio::time::timeout(TIMEOUT, stream.next())
            .await
            .expect("the events before the first token arrive")
            .expect("not the end")
            .expect("a chunk");
        got.extend_from_slice(&chunk);
    }
    let state = server.state.clone();
    assert_eq!(state.request_log("gone")[0]["open"], true);
    assert_eq!(state.request_log("gone")[0]["endedAt"], Value::Null);

    let left = now_millis();
    drop(stream);
    // Well under the ten-second pace: the server must notice the closed connection
    // while it waits, not when it next writes.
    tokio::time::timeout(
        Duration::from_secs(5),
        state.wait_for_request_log("gone", |log| log[0]["open"] == false),
    )
    .await
    .expect("the record closes while the answer waits for its next token");
    let ended = state.request_log("gone")[0]["endedAt"]
        .as_u64()
        .expect("endedAt");
    assert!(
        ended >= left && ended - left < 1000,
        "ended {} ms after",
        ended - left
    );
}
