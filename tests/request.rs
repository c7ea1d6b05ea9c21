//! Browser tests of request streams ([`Options::request`], [`request`]): a POSTed prompt
//! and its answer, streamed by the test server as OpenAI Chat Completions, OpenAI
//! Responses and Anthropic Messages stream them (`/scenario/llm/...`).
#![cfg(all(target_arch = "wasm32", feature = "fetch"))]

mod common;

use common::*;
use futures::channel::mpsc::unbounded;
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen_test::*;
use wasm_eventsource::{
    request, CloseReason, ConnectionState, EventSource, Message, Options, ReconnectCause,
    ReconnectPolicy, RequestError, Transport,
};

wasm_bindgen_test_configure!(run_in_browser);

const PROMPT: &str = "Hello, wide world";
const FORMATS: [&str; 3] = ["openai-chat", "openai-responses", "anthropic"];

/// The request body each API takes.
fn body(format: &str) -> String {
    match format {
        "openai-responses" => json!({ "model": "m", "stream": true, "input": PROMPT }),
        _ => json!({
            "model": "m",
            "stream": true,
            "max_tokens": 64,
            "messages": [{ "role": "user", "content": PROMPT }],
        }),
    }
    .to_string()
}

/// A POST of the prompt, as an app sends it.
fn post(format: &str) -> Options {
    Options::new()
        .method("POST")
        .header("Content-Type", "application/json")
        .body(body(format))
}

fn llm(format: &str, query: &str) -> String {
    url(&format!("/scenario/llm/{format}?{query}"))
}

/// The answer's text, as the server says it streams it.
async fn expected(tokens: u32) -> String {
    let prompt = js_sys::encode_uri_component(PROMPT);
    let answer = get_json(&url(&format!(
        "/scenario/llm/expected?prompt={prompt}&tokens={tokens}"
    )))
    .await;
    answer["text"].as_str().expect("text").to_owned()
}

/// The text an event adds to the answer, in each API's shape.
fn token_of(format: &str, msg: &Message<Value>) -> Option<String> {
    let text = match (format, msg.event_type.as_str()) {
        ("openai-chat", "message") => &msg.data["choices"][0]["delta"]["content"],
        ("openai-responses", "response.output_text.delta") => &msg.data["delta"],
        ("anthropic", "content_block_delta") => &msg.data["delta"]["text"],
        _ => return None,
    };
    text.as_str().map(str::to_owned)
}

/// Reads a request stream to its end: the events, and what ended it.
async fn read_all(
    mut answer: wasm_eventsource::RequestStream<Value>,
) -> (Vec<Message<Value>>, Vec<RequestError>) {
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    loop {
        let next = futures::future::select(answer.next(), TimeoutFuture::new(15_000)).await;
        match next {
            futures::future::Either::Left((Some(Ok(msg)), _)) => events.push(msg),
            futures::future::Either::Left((Some(Err(err)), _)) => errors.push(err),
            futures::future::Either::Left((None, _)) => return (events, errors),
            futures::future::Either::Right(_) => {
                panic!("the answer did not end in 15 s: {events:?} {errors:?}")
            }
        }
    }
}

fn text_of(format: &str, events: &[Message<Value>]) -> String {
    events.iter().filter_map(|m| token_of(format, m)).collect()
}

/// The POSTs the server received for `token`.
async fn posts(token: &str) -> Vec<Value> {
    request_log(token)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect()
}

#[wasm_bindgen_test]
async fn each_format_streams_the_answer_whole_in_order_from_one_post() {
    // Regression: a request's answer was a feed: its end was StreamEnded, retried, so
    // the POST went again (billed twice, the answer seen twice), and `[DONE]` reached
    // the decode errors.
    let want = expected(8).await;
    for format in FORMATS {
        let token = token("llm-whole");
        let answer = request::<Value>(
            &llm(format, &format!("tokens=8&pace_ms=2&token={token}")),
            post(format),
        );
        let (events, errors) = read_all(answer).await;
        // (`[DONE]` is not JSON: delivered, it would be a decode error here.)
        assert_eq!(errors, [], "{format}: nothing but events, then the end");
        assert_eq!(text_of(format, &events), want, "{format}");
        let last = events.last().expect("events").event_type.clone();
        let want_last = match format {
            "openai-chat" => "message",
            "openai-responses" => "response.completed",
            _ => "message_stop",
        };
        assert_eq!(last, want_last, "{format}: every event, whatever its type");
        assert_eq!(posts(&token).await.len(), 1, "{format}: one POST");
    }
}

#[wasm_bindgen_test]
async fn an_event_source_in_request_mode_completes_and_done_reaches_no_handler() {
    for format in FORMATS {
        let token = token("llm-source");
        let source = EventSource::with_options(
            &llm(format, &format!("tokens=5&pace_ms=2&token={token}")),
            post(format).request(),
        )
        .expect("valid");
        let (mut states, _s) = states(&source);
        let raw = Rc::new(RefCell::new(Vec::new()));
        let _message = source.on_raw("message", {
            let raw = raw.clone();
            move |msg| raw.borrow_mut().push(msg.data)
        });
        let decode_errors = Rc::new(RefCell::new(0));
        let _typed = source.on::<Value>("message", {
            let decode_errors = decode_errors.clone();
            move |item| {
                if item.is_err() {
                    *decode_errors.borrow_mut() += 1;
                }
            }
        });
        let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
        assert_eq!(
            closed,
            ConnectionState::Closed {
                reason: CloseReason::Completed
            },
            "{format}"
        );
        assert!(!raw.borrow().iter().any(|d| d == "[DONE]"), "{format}");
        assert_eq!(*decode_errors.borrow(), 0, "{format}");
        if format == "openai-chat" {
            assert_eq!(raw.borrow().len(), 5 + 2, "{format}: role, 5 tokens, stop");
        }
        assert_eq!(posts(&token).await.len(), 1, "{format}: one POST");
    }
}

#[wasm_bindgen_test]
async fn a_cut_answer_with_ids_resumes_every_token_exactly_once() {
    let want = expected(10).await;
    for format in FORMATS {
        let token = token("llm-resume");
        let answer = request::<Value>(
            &llm(
                format,
                &format!("ids=1&cut_after=5&cut_mid=1&tokens=10&pace_ms=2&token={token}"),
            ),
            post(format).reconnect_policy(exact_policy(5)),
        );
        let (events, errors) = read_all(answer).await;
        assert_eq!(errors, [], "{format}");
        assert_eq!(text_of(format, &events), want, "{format}: every token once");
        let ids: Vec<u64> = events
            .iter()
            .map(|m| m.last_event_id.parse().expect("numeric ids"))
            .collect();
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "{format}: no event repeated or missing"
        );
        let posts = posts(&token).await;
        assert_eq!(posts.len(), 2, "{format}: {posts:?}");
        assert_eq!(posts[0]["lastEventId"], Value::Null, "{format}");
        assert_eq!(
            posts[1]["lastEventId"], "5",
            "{format}: resumed after the last event delivered, not the half-read one"
        );
    }
}

#[wasm_bindgen_test]
async fn an_answer_that_ends_in_the_middle_of_an_event_was_cut_not_completed() {
    // What broke: a body that ended cleanly halfway through an event (a serverless
    // function's time limit, a proxy) closed as `Completed`: the half event, and the
    // rest of the answer, were lost without a word.
    let format = "openai-chat";
    let want = expected(10).await;
    let token = token("llm-end-mid");
    let answer = request::<Value>(
        &llm(
            format,
            &format!("ids=1&cut_after=5&cut_mid=1&cut_end=1&tokens=10&pace_ms=2&token={token}"),
        ),
        post(format).reconnect_policy(exact_policy(5)),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(errors, [], "resumed");
    assert_eq!(text_of(format, &events), want, "every token once");
    let sent = posts(&token).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["lastEventId"], "5");

    // Without ids it cannot be resumed: the answer says it was cut.
    let token = self::token("llm-end-mid-no-ids");
    let answer = request::<Value>(
        &llm(
            format,
            &format!("cut_after=5&cut_mid=1&cut_end=1&tokens=10&pace_ms=2&token={token}"),
        ),
        post(format).reconnect_policy(exact_policy(5)),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(events.len(), 5);
    assert_eq!(
        errors,
        [RequestError::Closed(CloseReason::Interrupted {
            received: 5
        })]
    );
    assert_eq!(posts(&token).await.len(), 1, "never sent again");
}

#[wasm_bindgen_test]
async fn a_resume_whose_header_fails_is_not_sent_again_without_it() {
    // What broke: cross-origin, a resume whose request carried Last-Event-ID and failed
    // before any answer (a refused preflight, or a network still down) went again with
    // the id in the query instead; a server that resumes by the header takes that for
    // a new request and answers it from the start: a second generation, every token
    // twice. Now the answer's resume keeps the header until the policy gives up.
    let token = token("llm-resume-preflight");
    // A POST with no Content-Type is a simple request: only the resume's Last-Event-ID
    // costs a preflight, which the server refuses.
    let answer = request::<Value>(
        &llm(
            "openai-chat",
            &format!("ids=1&cut_after=5&tokens=10&pace_ms=2&preflight=refuse&token={token}"),
        ),
        Options::new()
            .method("POST")
            .body(body("openai-chat"))
            .reconnect_policy(exact_policy(5).max_attempts(2)),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(events.len(), 5, "the events before the cut are kept");
    // And the failure says what to look at: the browser's own words ("Failed to
    // fetch") are those of a lost network. (Regression, a review: they were all.)
    assert!(
        matches!(
            &errors[..],
            [RequestError::Closed(CloseReason::GaveUp {
                attempts: 2,
                cause: ReconnectCause::Network { message }
            })] if message.contains("Access-Control-Allow-Headers")
        ),
        "{errors:?}"
    );
    let posts = posts(&token).await;
    assert_eq!(posts.len(), 1, "never sent without the header: {posts:?}");
}

#[wasm_bindgen_test]
async fn a_cut_answer_without_ids_closes_interrupted_and_keeps_what_arrived() {
    for format in FORMATS {
        let token = token("llm-cut");
        let answer = request::<Value>(
            &llm(
                format,
                &format!("cut_after=4&tokens=10&pace_ms=2&token={token}"),
            ),
            post(format).reconnect_policy(exact_policy(5)),
        );
        let (events, errors) = read_all(answer).await;
        assert_eq!(
            events.len(),
            4,
            "{format}: the events that arrived are kept"
        );
        assert_eq!(
            errors,
            [RequestError::Closed(CloseReason::Interrupted {
                received: 4
            })],
            "{format}"
        );
        assert_eq!(posts(&token).await.len(), 1, "{format}: never sent again");
    }
}

#[wasm_bindgen_test]
async fn an_id_the_caller_gave_does_not_make_a_cut_answer_resumable() {
    // What broke: with `last_event_id` set, a cut answer from a server that sends no
    // ids counted as resumable, so the POST went again and the answer started over.
    let token = token("llm-seeded");
    let answer = request::<Value>(
        &llm(
            "openai-chat",
            &format!("cut_after=4&tokens=10&pace_ms=2&token={token}"),
        ),
        post("openai-chat")
            .last_event_id("from-an-earlier-page")
            .reconnect_policy(exact_policy(5)),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(events.len(), 4, "the events that arrived are kept");
    assert_eq!(
        errors,
        [RequestError::Closed(CloseReason::Interrupted {
            received: 4
        })]
    );
    let posts = posts(&token).await;
    assert_eq!(posts.len(), 1, "never sent again: {posts:?}");
}

#[wasm_bindgen_test]
async fn a_request_cors_refuses_is_checked_again_only_when_the_policy_would_retry_it() {
    // What broke: when CORS refused the answer to a GET, the transport sent it again
    // (no-cors) to tell CORS from a lost network, in request mode too, where
    // max_attempts(0) promises that the request goes once: the server answered twice.
    // With retries left the check still ends them: two requests, then Failed.
    for (policy, sent) in [(exact_policy(5).max_attempts(0), 1), (exact_policy(5), 2)] {
        let token = token("llm-cors");
        let answer = request::<Value>(
            &url(&format!("/scenario/end-after/3?cors=refuse&token={token}")),
            Options::new().reconnect_policy(policy),
        );
        let (events, errors) = read_all(answer).await;
        assert!(events.is_empty(), "{events:?}");
        if sent == 1 {
            assert!(
                matches!(
                    errors[..],
                    [RequestError::Closed(CloseReason::GaveUp {
                        attempts: 0,
                        ..
                    })]
                ),
                "{errors:?}"
            );
        } else {
            assert_eq!(errors, [RequestError::Closed(CloseReason::Failed)]);
        }
        let log = request_log(&token).await;
        assert_eq!(log.len(), sent, "{log:?}");
    }
}

#[wasm_bindgen_test]
async fn an_answer_whose_headers_do_not_come_within_the_heartbeat_is_not_sent_again() {
    // What broke: a heartbeat timeout before the response headers counted as a failure
    // before the request reached the server, so the POST went again: a second answer
    // (and a second bill) for one prompt.
    let token = token("llm-stall-headers");
    let answer = request::<Value>(
        &url(&format!("/scenario/stall-headers?count=1&token={token}")),
        post("openai-chat")
            .heartbeat_timeout(Duration::from_millis(300))
            .reconnect_policy(exact_policy(5)),
    );
    let (events, errors) = read_all(answer).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        errors,
        [RequestError::Closed(CloseReason::Interrupted {
            received: 0
        })]
    );
    assert_eq!(posts(&token).await.len(), 1, "never sent again");
}

#[wasm_bindgen_test]
async fn reconnect_on_a_request_without_ids_closes_it_instead_of_sending_it_again() {
    // What broke: `reconnect()` on a request in flight sent the POST again, and the
    // server started the answer over.
    let token = token("llm-reconnect");
    let source = EventSource::with_options(
        &llm(
            "openai-chat",
            &format!("tokens=40&pace_ms=20&token={token}"),
        ),
        post("openai-chat").request(),
    )
    .expect("valid");
    let (mut states, _s) = states(&source);
    let raw = Rc::new(RefCell::new(0_u32));
    let _message = source.on_raw("message", {
        let raw = raw.clone();
        move |_| *raw.borrow_mut() += 1
    });
    wait_until("two events", 5_000, || *raw.borrow() >= 2).await;
    source.reconnect();
    let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    assert!(
        matches!(
            closed,
            ConnectionState::Closed {
                reason: CloseReason::Interrupted { received }
            } if received >= 2
        ),
        "{closed:?}"
    );
    assert_eq!(posts(&token).await.len(), 1, "never sent again");

    // With ids the answer resumes after the last one delivered, as after a cut.
    let token = common::token("llm-reconnect-ids");
    let source = EventSource::with_options(
        &llm(
            "openai-chat",
            &format!("ids=1&tokens=20&pace_ms=20&token={token}"),
        ),
        post("openai-chat").request(),
    )
    .expect("valid");
    let (mut states, _s) = common::states(&source);
    let raw = Rc::new(RefCell::new(Vec::new()));
    let _message = source.on_raw("message", {
        let raw = raw.clone();
        move |msg| raw.borrow_mut().push(msg.last_event_id)
    });
    wait_until("two events", 5_000, || raw.borrow().len() >= 2).await;
    source.reconnect();
    let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    assert_eq!(
        closed,
        ConnectionState::Closed {
            reason: CloseReason::Completed
        }
    );
    let ids: Vec<u32> = raw
        .borrow()
        .iter()
        .map(|id| id.parse().expect("id"))
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u32).collect::<Vec<_>>(),
        "each once, in order"
    );
    assert_eq!(posts(&token).await.len(), 2, "sent again once, resuming");
}

#[wasm_bindgen_test]
async fn retry_request_sends_a_cut_answer_again_when_asked() {
    let token = token("llm-retry-request");
    let answer = request::<Value>(
        &llm(
            "openai-chat",
            &format!("cut_after=3&tokens=6&pace_ms=2&token={token}"),
        ),
        post("openai-chat")
            .reconnect_policy(exact_policy(5))
            .retry_request(true),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(errors, [], "the second answer completes");
    // The first answer's 3 events, then the whole second one (role, 6, stop).
    assert_eq!(events.len(), 3 + 8);
    assert_eq!(posts(&token).await.len(), 2);
}

#[wasm_bindgen_test]
async fn retry_request_sends_an_answer_cut_every_time_as_often_as_the_policy_allows() {
    // What broke: each cut answer had delivered events, so it counted as a healthy
    // connection and the retry count started again: an answer cut at the same point
    // every time (a function's time limit shorter than the answer) was sent again for
    // ever, each send a new, perhaps billed answer, whatever `max_attempts` said.
    let token = token("llm-retry-bound");
    let answer = request::<Value>(
        &llm(
            "openai-chat",
            &format!("cut_after=2&cuts=100&tokens=6&pace_ms=2&token={token}"),
        ),
        post("openai-chat")
            .reconnect_policy(exact_policy(5).max_attempts(2))
            .retry_request(true),
    );
    let (events, errors) = read_all(answer).await;
    match &errors[..] {
        [RequestError::Closed(CloseReason::GaveUp { attempts: 2, .. })] => {}
        other => panic!("{other:?}"),
    }
    // The first send and the two retries, each cut after two events.
    assert_eq!(events.len(), 3 * 2);
    assert_eq!(posts(&token).await.len(), 3);
}

#[wasm_bindgen_test]
async fn a_resumed_answer_that_begins_again_is_not_delivered_twice() {
    // What broke (a review): a server that numbers its events but ignores
    // Last-Event-ID sent its answer from the start on each resume: the stream yielded
    // the first events again, and an answer cut at the same point every time was sent
    // again for as long as the source lived, whatever `max_attempts` said (each
    // resumed send delivered events, so it counted as a healthy connection).
    let query = "ids=1&ignore_resume=1&cut_after=3&cuts=100&tokens=6&pace_ms=2";
    let token = token("llm-begins-again");
    let answer = request::<Value>(
        &llm("openai-chat", &format!("{query}&token={token}")),
        post("openai-chat").reconnect_policy(exact_policy(5).max_attempts(2)),
    );
    let (events, errors) = read_all(answer).await;
    let ids: Vec<&str> = events.iter().map(|m| m.last_event_id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"], "the first events, once");
    match &errors[..] {
        [RequestError::Closed(CloseReason::Interrupted { received: 3 })] => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        posts(&token).await.len(),
        2,
        "the first send and the resume"
    );
    // With `retry_request` the answer sent again is taken, and each such send is one
    // more attempt: bounded by the policy.
    let retried = format!("{token}-retried");
    let answer = request::<Value>(
        &llm("openai-chat", &format!("{query}&token={retried}")),
        post("openai-chat")
            .reconnect_policy(exact_policy(5).max_attempts(2))
            .retry_request(true),
    );
    let (events, errors) = read_all(answer).await;
    match &errors[..] {
        [RequestError::Closed(CloseReason::GaveUp { attempts: 2, .. })] => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(events.len(), 3 * 3);
    assert_eq!(posts(&retried).await.len(), 3);
}

#[wasm_bindgen_test]
async fn a_stream_not_read_holds_its_bytes_not_an_id_per_event() {
    // What broke: the stream was bounded in items only (65,536), and each item owns a
    // copy of the last event id it carries: events after a 1 MB id cost a MB each,
    // and a few thousand of them, unread, were all of wasm32's memory.
    let events = 300;
    let mut answer = request::<Value>(
        &url(&format!("/scenario/long-id?bytes=1000000&events={events}")),
        Options::new(),
    );
    wait_until("the oldest events dropped", 10_000, || answer.dropped() > 0).await;
    // The last of them has come when the held and the dropped make them all.
    let mut held = Vec::new();
    let end = js_sys::Date::now() + 10_000.0;
    while held.len() as u64 + answer.dropped() < events + 1 {
        assert!(
            js_sys::Date::now() < end,
            "{} held, {} dropped",
            held.len(),
            answer.dropped()
        );
        match futures::FutureExt::now_or_never(answer.next()) {
            Some(Some(item)) => held.push(item.expect("an event")),
            Some(None) => panic!("the answer ended"),
            None => TimeoutFuture::new(10).await,
        }
    }
    let bytes: usize = held
        .iter()
        .map(|m| m.last_event_id.len() + m.event_type.len() + m.data.to_string().len())
        .sum();
    assert!(
        bytes <= wasm_eventsource::REQUEST_STREAM_BYTES + 1_000_100,
        "{} events held, {bytes} bytes",
        held.len()
    );
    assert_eq!(
        held.last().map(|m| m.data["n"].as_u64()),
        Some(Some(events))
    );
}

#[wasm_bindgen_test]
async fn an_api_error_closes_with_its_status_and_json_body() {
    // Regression: a 429 or 400 closed with the status alone; the JSON error the API put
    // in the body, which says why, was dropped.
    let token = token("llm-400");
    let answer = request::<Value>(
        &llm("openai-chat", &format!("refuse=400&token={token}")),
        post("openai-chat"),
    );
    let (events, errors) = read_all(answer).await;
    assert!(events.is_empty());
    match &errors[..] {
        [RequestError::Closed(CloseReason::HttpStatus {
            status: 400,
            body: Some(body),
            ..
        })] => {
            let body: Value = serde_json::from_str(body).expect("the JSON body, as text");
            assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        }
        other => panic!("{other:?}"),
    }
    // A 429 that the policy may not retry gives up with the status and the body too.
    let answer = request::<Value>(
        &llm("anthropic", "refuse=429"),
        post("anthropic").reconnect_policy(ReconnectPolicy::new().max_attempts(0)),
    );
    let (_, errors) = read_all(answer).await;
    match &errors[..] {
        [RequestError::Closed(CloseReason::GaveUp {
            cause:
                ReconnectCause::HttpStatus {
                    status: 429,
                    body: Some(body),
                    ..
                },
            ..
        })] => assert!(body.contains("rate_limit_error"), "{body}"),
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
async fn reconnect_while_an_error_body_is_read_closes_with_the_status() {
    // What broke: reconnect() during the read of an error response's body (up to 10 s)
    // interrupted the attempt as if the server had not answered: a request's 400 closed
    // as Interrupted { received: 0 }, which says the answer broke off.
    let eval = |code: &str| js_sys::eval(code).expect("the test's JavaScript runs");
    // The head of the answer has come once fetch resolves; the body takes 5 s more.
    eval(
        "window.__answered = false; window.__fetch = window.fetch; \
        window.fetch = (...args) => window.__fetch(...args).then((r) => { \
        window.__answered = true; return r; });",
    );
    let token = token("error-body");
    let source = EventSource::with_options(
        &url(&format!(
            "/scenario/status/400?body_delay_ms=5000&token={token}"
        )),
        post("openai-chat").request(),
    )
    .expect("a source");
    let (mut states, _s) = states(&source);
    wait_until("the answer's head", 5_000, || {
        eval("window.__answered").is_truthy()
    })
    .await;
    eval("window.fetch = window.__fetch");
    let started = js_sys::Date::now();
    source.reconnect();
    let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    assert!(
        matches!(
            &closed,
            ConnectionState::Closed {
                reason: CloseReason::HttpStatus {
                    status: 400,
                    body: None,
                    ..
                }
            }
        ),
        "{closed:?}"
    );
    let waited = js_sys::Date::now() - started;
    assert!(waited < 4_000.0, "closed {waited} ms after reconnect()");
    assert_eq!(request_log(&token).await.len(), 1, "sent once");
}

#[wasm_bindgen_test]
async fn a_body_a_fetch_wrapper_made_unreadable_is_a_cut_not_a_reason_to_send_again() {
    // What broke: a page's fetch wrapper that hands back the body as text (or no body)
    // made the attempt fail as a network error (or an ended stream) before any event,
    // which the policy retried: the request went again with every backoff, though the
    // server had it each time. And a body the wrapper had begun to read (locked) threw
    // out of the attempt: the source stayed open with nothing to come.
    let eval = |code: &str| js_sys::eval(code).expect("the test's JavaScript runs");
    eval("window.__fetch = window.fetch");
    for (what, then) in [
        (
            "text",
            "new Response(r.body.pipeThrough(new TextDecoderStream()), r)",
        ),
        ("no body", "new Response(null, r)"),
        ("locked", "(r.body.getReader(), r)"),
    ] {
        eval(&format!(
            "window.fetch = (...args) => window.__fetch(...args).then((r) => {then});"
        ));
        let token = token("llm-wrapped");
        let answer = request::<Value>(
            &llm("openai-chat", &format!("tokens=4&pace_ms=2&token={token}")),
            post("openai-chat").reconnect_policy(exact_policy(5).max_attempts(3)),
        );
        let (events, errors) = read_all(answer).await;
        eval("window.fetch = window.__fetch");
        assert_eq!(events, [], "{what}: no event could be read");
        assert_eq!(
            errors,
            [RequestError::Closed(CloseReason::Interrupted {
                received: 0
            })],
            "{what}"
        );
        let posts = posts(&token).await;
        assert_eq!(posts.len(), 1, "{what}: never sent again: {posts:?}");
    }
}

#[wasm_bindgen_test]
async fn a_429_with_retry_after_is_sent_again_after_at_least_that_delay() {
    let token = token("llm-429");
    let source = EventSource::with_options(
        &llm(
            "openai-chat",
            &format!("refuse=429&retry_after=1&times=1&tokens=3&pace_ms=2&token={token}"),
        ),
        post("openai-chat")
            .request()
            .reconnect_policy(exact_policy(5)),
    )
    .expect("valid");
    let (mut states, _s) = states(&source);
    match next_reconnecting(&mut states).await {
        ConnectionState::Reconnecting {
            delay: Some(delay),
            cause:
                ReconnectCause::HttpStatus {
                    status: 429,
                    retry_after,
                    body: Some(body),
                    ..
                },
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)));
            assert!(delay >= Duration::from_secs(1), "{delay:?}");
            assert!(body.contains("rate_limit_exceeded"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let (closed, _) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    assert_eq!(
        closed,
        ConnectionState::Closed {
            reason: CloseReason::Completed
        }
    );
    let posts = posts(&token).await;
    assert_eq!(posts.len(), 2, "{posts:?}");
    let gap = posts[1]["startedAt"].as_f64().expect("startedAt")
        - posts[0]["startedAt"].as_f64().expect("startedAt");
    assert!(gap >= 1000.0, "sent again after {gap} ms");
}

/// Waits (5 s at most: a slow answer of the tests below runs 10 s) until the server's
/// log shows the request of `token` no longer open; returns when it ended (epoch ms).
async fn ended_at(token: &str) -> f64 {
    let deadline = js_sys::Date::now() + 5_000.0;
    while js_sys::Date::now() < deadline {
        let log = request_log(token).await;
        if let Some(first) = log.first().filter(|r| r["open"] == false) {
            return first["endedAt"].as_f64().expect("endedAt once closed");
        }
        TimeoutFuture::new(10).await;
    }
    panic!("the server never saw the request of {token} end");
}

#[wasm_bindgen_test]
async fn dropping_the_stream_or_closing_the_source_aborts_the_request_at_once() {
    // Dropping the stream.
    let token = token("llm-drop");
    let mut answer = request::<Value>(
        &llm(
            "openai-chat",
            &format!("tokens=200&pace_ms=50&token={token}"),
        ),
        post("openai-chat"),
    );
    for _ in 0..3 {
        answer.next().await.expect("an event").expect("JSON");
    }
    let dropped = js_sys::Date::now();
    drop(answer);
    let ended = ended_at(&token).await;
    // Run to its end, the answer would take 10 s (200 tokens, 50 ms apart); the bound
    // leaves a loaded machine time to pass the abort on.
    assert!(
        ended - dropped < 2_000.0,
        "the server saw the end after {} ms",
        ended - dropped
    );

    // close() on a source in request mode.
    let token = self::token("llm-close");
    let source = EventSource::with_options(
        &llm(
            "openai-chat",
            &format!("tokens=200&pace_ms=50&token={token}"),
        ),
        post("openai-chat").request(),
    )
    .expect("valid");
    let (tx, mut rx) = unbounded();
    let _m = source.on_raw("message", move |msg| {
        let _ = tx.unbounded_send(msg.data);
    });
    for _ in 0..3 {
        next(&mut rx, "an event").await;
    }
    let closed = js_sys::Date::now();
    source.close();
    let ended = ended_at(&token).await;
    assert!(
        ended - closed < 2_000.0,
        "the server saw the end after {} ms",
        ended - closed
    );
}

#[wasm_bindgen_test]
async fn an_api_error_event_mid_answer_is_an_event_and_the_answer_completes() {
    let answer = request::<Value>(
        &llm("anthropic", "error_after=2&tokens=6&pace_ms=2"),
        post("anthropic"),
    );
    let (events, errors) = read_all(answer).await;
    assert_eq!(errors, []);
    let last = events.last().expect("events");
    assert_eq!(last.event_type, "error");
    assert_eq!(last.data["error"]["type"], "overloaded_error");
}

#[wasm_bindgen_test]
async fn request_mode_needs_the_fetch_transport() {
    let err = EventSource::with_options(
        &llm("openai-chat", ""),
        post("openai-chat").transport(Transport::Native).request(),
    )
    .expect_err("native cannot");
    assert!(
        err.to_string()
            .contains("request mode needs the fetch transport"),
        "{err}"
    );
    let answer = request::<Value>(
        &llm("openai-chat", ""),
        Options::new().transport(Transport::Native),
    );
    let (events, errors) = read_all(answer).await;
    assert!(events.is_empty());
    assert!(
        matches!(&errors[..], [RequestError::Closed(CloseReason::InvalidRequest { message })] if message.contains("request mode needs the fetch transport")),
        "{errors:?}"
    );
}

#[wasm_bindgen_test]
async fn reconnect_while_a_refused_request_is_looked_into_sends_it_as_the_policy_says() {
    // What broke: `reconnect()` while the source looked into why `fetch` refused the
    // request (the page's Content Security Policy, 50 ms; cross-origin, a check of the
    // server) found no answer and cut it: the source closed as `Interrupted` with 0
    // events received, where the policy would have sent the request nothing answered.
    let token = token("llm-refused-reconnect");
    let source = EventSource::with_options(
        &llm("openai-chat", &format!("tokens=3&pace_ms=0&token={token}")),
        post("openai-chat").request(),
    )
    .expect("valid");
    // The first fetch rejects, and reconnect() comes in the task after it: before the
    // 50 ms the source waits for a policy's report (a timer set later and longer).
    let again = source.clone();
    let reconnect = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || again.reconnect());
    js_sys::Reflect::set(&js_sys::global(), &"__reconnect".into(), reconnect.as_ref())
        .expect("set the hook");
    js_sys::eval(
        "window.__fetch = window.fetch; window.__refused = 0; window.fetch = (...args) => { \
         if (window.__refused++ === 0) { setTimeout(() => window.__reconnect(), 0); \
         return Promise.reject(new TypeError('Failed to fetch')); } \
         return window.__fetch(...args); };",
    )
    .expect("wrap fetch");
    let (mut states, _s) = states(&source);
    let (closed, before) = until_state(&mut states, "closed", ConnectionState::is_closed).await;
    js_sys::eval("window.fetch = window.__fetch").expect("unwrap fetch");
    assert!(
        matches!(
            closed,
            ConnectionState::Closed {
                reason: CloseReason::Completed
            }
        ),
        "{closed:?} after {before:?}"
    );
    assert_eq!(
        posts(&token).await.len(),
        1,
        "sent once: the refused one never went"
    );
}
