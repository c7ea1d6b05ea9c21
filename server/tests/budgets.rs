//! The byte budgets of all channel buffers together and of all request logs together,
//! and the cap on requests answered at once.

mod common;

use common::{json_response, numbered, spawn_with, Body, DEFAULT_RETRY_LINE, TIMEOUT};
use futures::{stream, StreamExt};
use serde_json::json;
use wasm_eventsource_server::Config;

const BUDGET: usize = 1024 * 1024;

// Regression: each channel kept 1000 events and each token 1000 records, whatever
// their size, so many channels or tokens could take gigabytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_channels_and_tokens_stay_within_the_budgets() {
    let server = spawn_with(Config {
        ticker: None,
        channel_budget: BUDGET,
        log_budget: BUDGET,
        ..Config::default()
    })
    .await;
    // About 1.1 KiB per event: the budget holds about 900 of the 3,000.
    let padding = "p".repeat(1000);

    // 1,000 channels, 3 events of about 1 KiB each: three times the budget.
    let publishes = (0..3u64).flat_map(|round| (0..1000).map(move |c| (round, c)));
    stream::iter(publishes)
        .for_each_concurrent(16, |(round, c)| {
            let server = &server;
            let padding = &padding;
            async move {
                let (status, answer) = server
                    .publish(json!({ "channel": format!("c{c}"), "data": { "n": round + 1, "pad": padding } }))
                    .await;
                assert_eq!(status, 200, "{answer}");
                assert!(server.state.channel_bytes() <= BUDGET);
            }
        })
        .await;
    let held = server.state.channel_bytes();
    assert!(held <= BUDGET && held > BUDGET / 2, "{held} bytes held");
    // The newest event of a channel is still there to replay; the ones before it, a
    // thousand publishes older, are gone: a client that saw only the first missed the
    // second, and the stream says so; one that saw the second missed nothing.
    let mut body = Body::sse(
        server
            .get_with("/events?channel=c999", &[("Last-Event-ID", "1")])
            .await,
    );
    body.expect_text(&format!(
        "{DEFAULT_RETRY_LINE}event: reset\ndata: {{\"reason\":\"history lost\",\"lastEventId\":\"1\",\"oldest\":\"3\"}}\n\nid: 3\ndata: {{\"n\":3,\"pad\":\"{padding}\"}}\n\n"
    ))
    .await;
    let mut body = Body::sse(
        server
            .get_with("/events?channel=c999", &[("Last-Event-ID", "2")])
            .await,
    );
    body.expect_text(&format!(
        "{DEFAULT_RETRY_LINE}id: 3\ndata: {{\"n\":3,\"pad\":\"{padding}\"}}\n\n"
    ))
    .await;

    // 10,000 tokens, one record each.
    stream::iter(0..10_000)
        .for_each_concurrent(16, |t| {
            let server = &server;
            async move {
                let response = server
                    .get(&format!("/scenario/no-content?token=tok-{t}"))
                    .await;
                assert_eq!(response.status().as_u16(), 204);
            }
        })
        .await;
    let held = server.state.log_bytes();
    assert!(held <= BUDGET && held > BUDGET / 2, "{held} bytes held");
    assert!(
        server.state.request_log("tok-0").is_empty(),
        "the oldest went first"
    );
    let (status, log) = json_response(server.get("/scenario/log/tok-9999").await).await;
    assert_eq!(status, 200);
    assert_eq!(log[0]["path"], "/scenario/no-content?token=tok-9999");

    // Events still flow through a full budget.
    let mut body = Body::sse(server.get("/scenario/end-after/2").await);
    assert_eq!(body.read_to_end().await, numbered(1..=2).as_bytes());
}

// What broke (a review): nothing capped the requests answered at once, so clients
// opening ever more streams grew the server's tasks, buffers and sockets without bound.
#[tokio::test]
async fn over_the_cap_a_request_gets_a_503_until_a_stream_closes() {
    let server = spawn_with(Config {
        ticker: None,
        max_requests: 2,
        ..Config::default()
    })
    .await;
    let mut first = Body::sse(server.get("/events?channel=a").await);
    let mut second = Body::sse(server.get("/events?channel=b").await);
    first.until(DEFAULT_RETRY_LINE).await;
    second.until(DEFAULT_RETRY_LINE).await;
    // Their handlers returned long ago; the open streams still count.
    let (status, error) = json_response(server.get("/health").await).await;
    assert_eq!(status, 503);
    let error = error["error"].as_str().expect("an error sentence");
    assert!(
        error.contains("2 requests at once") && error.contains("close some streams"),
        "{error}"
    );
    drop(first);
    tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.connections == 1))
        .await
        .expect("the closed stream is no longer counted");
    let mut third = Body::sse(server.get("/events?channel=c").await);
    third.until(DEFAULT_RETRY_LINE).await;
    let (status, _) = json_response(server.get("/health").await).await;
    assert_eq!(status, 503, "two streams open again");
}

// What broke (a review): a log answer of megabytes went out as one frame, which hyper
// queued whole and let go of at once, and with it the request's permit: clients that
// asked for big logs and read nothing held gigabytes past `--max-requests`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_answer_holds_its_permit_until_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = spawn_with(Config {
        ticker: None,
        max_requests: 1,
        ..Config::default()
    })
    .await;
    // About 9 MiB of records: a whole page of the log (8 MiB), more than a socket's
    // buffers take.
    server.log_bodies("big", 140, 64 * 1024).await;
    let addr = server.url("").trim_start_matches("http://").to_owned();
    let mut reader = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = "GET /scenario/log/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    reader.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut buf = [0; 1024];
        let n = tokio::time::timeout(TIMEOUT, reader.read(&mut buf))
            .await
            .expect("the answer's head in time")
            .expect("read");
        assert!(n > 0, "the answer ended");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    // Unread, the answer holds the one permit.
    let (status, _) = json_response(server.get("/health").await).await;
    assert_eq!(status, 503, "the unread log answer let go of its permit");
    // Read, it lets go.
    let mut rest = Vec::new();
    tokio::time::timeout(TIMEOUT, async {
        let mut buf = vec![0; 1 << 16];
        // (Chunked: the last chunk is empty.)
        while !rest.ends_with(b"\r\n0\r\n\r\n") {
            let n = reader.read(&mut buf).await.expect("read");
            assert!(n > 0, "the answer ended early");
            rest.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the whole answer in time");
    assert!(rest.len() > 4 << 20, "{} bytes", rest.len());
    drop(reader);
    tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.connections == 0))
        .await
        .expect("the answer is no longer counted");
    let (status, _) = json_response(server.get("/health").await).await;
    assert_eq!(status, 200);
}
