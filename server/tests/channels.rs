//! `/events`, `/publish` delivery and `/control` against the real app.

mod common;

use std::time::Duration;

use common::{json_response, numbered, spawn, spawn_with, Body, DEFAULT_RETRY_LINE, TIMEOUT};
use serde_json::{json, Value};
use wasm_eventsource_server::{Config, MAX_CHANNELS};

async fn publish_n(server: &common::Server, channel: &str, n: u64) -> Value {
    let (status, body) = server
        .publish(json!({ "channel": channel, "data": { "n": n } }))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A server whose channels hold three `{"n":k}` events with one-digit ids (each counts
/// 1 + 7 + overhead bytes), and that weight.
async fn three_small_events() -> (common::Server, usize) {
    let per_event = 1 + 7 + wasm_eventsource_server::EVENT_BUDGET_OVERHEAD;
    let server = spawn_with(Config {
        ticker: None,
        channel_budget: 3 * per_event + per_event / 2,
        ..Config::default()
    })
    .await;
    (server, per_event)
}

#[tokio::test]
async fn resume_replays_after_last_event_id_then_goes_live() {
    let server = spawn().await;
    for n in 1..=3 {
        let answer = publish_n(&server, "replay", n).await;
        assert_eq!(
            answer,
            json!({ "id": n.to_string(), "channel": "replay", "receivers": 0 })
        );
    }
    let response = server
        .get_with("/events?channel=replay", &[("Last-Event-ID", "1")])
        .await;
    let mut body = Body::sse(response);
    let replayed = format!("{DEFAULT_RETRY_LINE}{}", numbered(2..=3));
    body.expect_text(&replayed).await;

    let answer = publish_n(&server, "replay", 4).await;
    assert_eq!(answer["receivers"], 1);
    body.expect_text(&format!("{replayed}{}", numbered(4..=4)))
        .await;
}

#[tokio::test]
async fn last_event_id_query_parameter_and_unknown_ids() {
    let server = spawn().await;
    for n in 1..=3 {
        publish_n(&server, "q", n).await;
    }
    let mut body = Body::sse(server.get("/events?channel=q&lastEventId=2").await);
    body.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(3..=3)))
        .await;

    // Regression: an id the buffer does not hold replayed nothing, silently; now a
    // `reset` event says history was lost, then everything held is replayed.
    let mut body = Body::sse(
        server
            .get_with("/events?channel=q", &[("Last-Event-ID", "999")])
            .await,
    );
    let reset =
        "event: reset\ndata: {\"reason\":\"history lost\",\"lastEventId\":\"999\",\"oldest\":\"1\"}\n\n";
    let replayed = format!("{DEFAULT_RETRY_LINE}{reset}{}", numbered(1..=3));
    body.expect_text(&replayed).await;
    publish_n(&server, "q", 4).await;
    body.expect_text(&format!("{replayed}{}", numbered(4..=4)))
        .await;

    // A channel with nothing held says `oldest: null`.
    let mut body = Body::sse(server.get("/events?channel=empty&lastEventId=7").await);
    body.expect_text(&format!(
        "{DEFAULT_RETRY_LINE}event: reset\ndata: {{\"reason\":\"history lost\",\"lastEventId\":\"7\",\"oldest\":null}}\n\n"
    ))
    .await;
    body.assert_idle(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn an_empty_last_event_id_is_no_id_and_loses_no_history() {
    // What broke (a review): an empty `Last-Event-ID` (header or query) was looked up
    // as an id, held by no event, so the client got `reset` "history lost" and every
    // event held, where it had seen nothing with an id.
    let server = spawn_with(Config {
        ticker: None,
        ..Config::default()
    })
    .await;
    publish_n(&server, "blank", 1).await;
    for (uri, headers) in [
        ("/events?channel=blank&lastEventId=", vec![]),
        ("/events?channel=blank", vec![("Last-Event-ID", "")]),
    ] {
        let mut body = Body::sse(server.get_with(uri, &headers).await);
        body.expect_text(DEFAULT_RETRY_LINE).await;
        body.assert_idle(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn resuming_from_an_evicted_id_sends_reset_then_what_is_held() {
    let (server, per_event) = three_small_events().await;
    for n in 1..=5 {
        publish_n(&server, "small", n).await;
    }
    // Three events, and the id `2` kept of the newest evicted one.
    assert_eq!(server.state.channel_bytes(), 3 * per_event + 1);
    let mut body = Body::sse(
        server
            .get_with("/events?channel=small", &[("Last-Event-ID", "1")])
            .await,
    );
    body.expect_text(&format!(
        "{DEFAULT_RETRY_LINE}event: reset\ndata: {{\"reason\":\"history lost\",\"lastEventId\":\"1\",\"oldest\":\"3\"}}\n\n{}",
        numbered(3..=5)
    ))
    .await;

    // The newest id, or any id held, replays as before with no reset.
    for (last, expected) in [("5", String::new()), ("3", numbered(4..=5))] {
        let mut body = Body::sse(
            server
                .get_with("/events?channel=small", &[("Last-Event-ID", last)])
                .await,
        );
        body.expect_text(&format!("{DEFAULT_RETRY_LINE}{expected}"))
            .await;
        body.assert_idle(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_id_given_twice_whose_older_event_went_replays_all_that_is_held() {
    // What broke: a resume from an id both held (given again explicitly) and evicted
    // (its first event, the newest to go) replayed only what followed the held one: a
    // client that had seen the first lost everything in between, with no `reset`.
    let (server, _) = three_small_events().await;
    for n in 1..=3 {
        publish_n(&server, "twice", n).await;
    }
    // Id 1 again: event 1 goes to make room.
    let (status, body) = server
        .publish(json!({ "channel": "twice", "id": "1", "data": { "n": 1 } }))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut body = Body::sse(
        server
            .get_with("/events?channel=twice", &[("Last-Event-ID", "1")])
            .await,
    );
    body.expect_text(&format!(
        "{DEFAULT_RETRY_LINE}{}{}",
        numbered(2..=3),
        numbered(1..=1)
    ))
    .await;
    body.assert_idle(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn explicit_id_event_type_and_any_json_data() {
    let server = spawn().await;
    let mut body = Body::sse(server.get("/events?channel=typed&retry=2500").await);
    let (status, answer) = server
        .publish(json!({ "channel": "typed", "event": "chat", "id": "abc", "data": { "text": "hé\nllo" } }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["id"], "abc");
    let (_, answer) = server
        .publish(json!({ "channel": "typed", "data": null }))
        .await;
    assert_eq!(answer["id"], "2");
    body.expect_text("retry: 2500\n\nevent: chat\nid: abc\ndata: {\"text\":\"hé\\nllo\"}\n\nid: 2\ndata: null\n\n")
        .await;

    // Resuming from an explicit id works too.
    let mut body = Body::sse(
        server
            .get_with("/events?channel=typed", &[("Last-Event-ID", "abc")])
            .await,
    );
    body.expect_text(&format!("{DEFAULT_RETRY_LINE}id: 2\ndata: null\n\n"))
        .await;
}

#[tokio::test]
async fn ids_a_header_can_carry_are_taken_and_resume() {
    // The check of c844681 refuses ids a reconnect cannot send back; these it can: a
    // tab inside (its first version refused it), and characters outside ASCII, which
    // browsers send as UTF-8 bytes.
    let server = spawn().await;
    for id in ["a\tb", "é€1"] {
        let (status, answer) = server
            .publish(json!({ "channel": "ids", "id": id, "data": 1 }))
            .await;
        assert_eq!((status, answer["id"].as_str()), (200, Some(id)), "{answer}");
    }
    let mut body = Body::sse(
        server
            .get_with("/events?channel=ids", &[("Last-Event-ID", "a\tb")])
            .await,
    );
    body.expect_text(&format!("{DEFAULT_RETRY_LINE}id: é€1\ndata: 1\n\n"))
        .await;
}

#[tokio::test]
async fn channels_are_isolated() {
    let server = spawn().await;
    let mut a = Body::sse(server.get("/events?channel=a").await);
    let mut b = Body::sse(server.get("/events").await);
    publish_n(&server, "a", 1).await;
    publish_n(&server, "default", 1).await;
    publish_n(&server, "a", 2).await;
    a.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(1..=2)))
        .await;
    b.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(1..=1)))
        .await;
    // Nothing else arrives on either.
    a.assert_idle(Duration::from_millis(100)).await;
    b.assert_idle(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn keep_alive_comments() {
    let server = spawn().await;
    let mut body = Body::sse(
        server
            .get("/events?channel=k&keepalive_ms=100&retry=10")
            .await,
    );
    let expected = "retry: 10\n\n: keep-alive\n\n: keep-alive\n\n";
    body.until_len(expected.len()).await;
    assert_eq!(&body.text()[..expected.len()], expected);
}

#[tokio::test]
async fn bad_events_queries_are_json_errors() {
    let server = spawn().await;
    for path in [
        "/events?channel=has%20space",
        "/events?channel=",
        "/events?retry=soon",
        "/events?keepalive_ms=-1",
    ] {
        let (status, body) = json_response(server.get(path).await).await;
        assert_eq!(status, 400, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn ticker_publishes_ticks() {
    let server = spawn_with(Config {
        ticker: Some(Duration::from_millis(20)),
        ..Config::default()
    })
    .await;
    let mut body = Body::sse(server.get("/events?channel=ticker").await);
    let text = body.until("}\n\n").await;
    let event = text
        .strip_prefix(DEFAULT_RETRY_LINE)
        .expect("retry line first");
    let mut lines = event.lines();
    assert_eq!(lines.next(), Some("event: tick"));
    let id: u64 = lines
        .next()
        .and_then(|l| l.strip_prefix("id: "))
        .and_then(|id| id.parse().ok())
        .expect("numeric id");
    let data: Value = lines
        .next()
        .and_then(|l| l.strip_prefix("data: "))
        .and_then(|d| serde_json::from_str(d).ok())
        .expect("json data");
    assert_eq!(data["n"], id);
    assert!(data["time"].as_u64().is_some_and(|t| t > 1_600_000_000_000));
}

#[tokio::test]
async fn control_drop_ends_live_streams() {
    let server = spawn().await;
    let mut one = Body::sse(server.get("/events?channel=drop").await);
    let mut two = Body::sse(server.get("/events?channel=drop").await);
    let mut other = Body::sse(server.get("/events?channel=keep").await);
    one.until(DEFAULT_RETRY_LINE).await;
    two.until(DEFAULT_RETRY_LINE).await;
    other.until(DEFAULT_RETRY_LINE).await;

    let (status, answer) = json_response(server.post("/control/drop?channel=drop").await).await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({ "dropped": 2 }));
    assert_eq!(one.read_to_end().await, DEFAULT_RETRY_LINE.as_bytes());
    assert_eq!(two.read_to_end().await, DEFAULT_RETRY_LINE.as_bytes());
    other.assert_idle(Duration::from_millis(100)).await;

    let (_, answer) = json_response(server.post("/control/drop?channel=drop").await).await;
    assert_eq!(answer, json!({ "dropped": 0 }));
}

#[tokio::test]
async fn control_fail_refuses_the_next_attempts() {
    let server = spawn().await;
    let (status, answer) = json_response(
        server
            .post("/control/fail?channel=f&count=2&status=500")
            .await,
    )
    .await;
    assert_eq!((status, answer), (200, json!({ "ok": true })));
    // Regression (a review): the first refusal said to reconnect for the stream, which
    // the next refusal then refused too.
    for want in [
        "refuse this connection and the next 1; POST /control/fail?channel=f&count=0",
        "its last refusal; reconnect to get the stream",
    ] {
        let (status, body) = json_response(server.get("/events?channel=f").await).await;
        assert_eq!(status, 500);
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(want), "{error}");
    }
    let mut body = Body::sse(server.get("/events?channel=f").await);
    body.until(DEFAULT_RETRY_LINE).await;

    // Defaults: one attempt, 503; other channels are unaffected.
    json_response(server.post("/control/fail?channel=g").await).await;
    Body::sse(server.get("/events?channel=h").await);
    assert_eq!(server.get("/events?channel=g").await.status().as_u16(), 503);
    Body::sse(server.get("/events?channel=g").await);

    let (status, _) = json_response(server.post("/control/fail?status=700").await).await;
    assert_eq!(status, 400);

    // Regression (a review): a misspelt parameter was ignored, so
    // `chanel=g2&count=5` armed the channel `default` and answered ok.
    let (status, body) = json_response(server.post("/control/fail?chanel=g2&count=5").await).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().expect("error sentence");
    assert!(error.contains("no query parameter `chanel`"), "{error}");
    Body::sse(server.get("/events?channel=default").await);
    let (status, body) = json_response(server.post("/control/drop?channel=g&all=1").await).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn shutdown_ends_every_stream() {
    let server = spawn().await;
    let mut live = Body::sse(server.get("/events?channel=s").await);
    let mut idle = Body::sse(server.get("/scenario/stall?after=1").await);
    live.until(DEFAULT_RETRY_LINE).await;
    idle.until("data: {\"n\":1}\n\n").await;
    server.state.shutdown();
    live.read_to_end().await;
    idle.read_to_end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_falls_behind_is_cut_off_without_panicking() {
    let server = spawn_with(Config {
        ticker: None,
        channel_budget: 8 * 1024 * 1024,
        ..Config::default()
    })
    .await;
    let response = server.get("/events?channel=slow").await;
    let mut body = Body::sse(response);
    // Publish far more than the socket buffers and the budget can hold while the
    // reader reads nothing: the budget evicts events it has not read yet.
    let big = "x".repeat(48 * 1024);
    for n in 1..=1000u64 {
        let (status, _) = server
            .publish(json!({ "channel": "slow", "data": { "n": n, "big": big } }))
            .await;
        assert_eq!(status, 200);
    }
    let all = body.read_to_end().await;
    let received = all.windows(6).filter(|w| w == b"data: ").count();
    assert!(
        received < 1000,
        "the stream should end early, got {received}"
    );
    // The server still serves.
    let mut again = Body::sse(server.get("/events?channel=slow&keepalive_ms=0").await);
    again.until(DEFAULT_RETRY_LINE).await;
}

// Regression: a stream copied its whole replay at connect time, so a client that
// stopped reading held those events after the budget evicted them (about 60 MB per
// stalled reader with 60 KiB events) and was sent them long after they went.
// What broke next (a review): this test evicted the replay with a thousand publishes
// on the stream's own channel, so its live receiver lagged and ended the stream even
// without the check that the replay was overtaken. Here another channel's events evict
// it through the budget, and the stream's channel gets no publish after it connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_overtaken_by_eviction_ends_and_its_resume_gets_reset() {
    const EVENTS: u64 = 300;
    let big = "x".repeat(48 * 1024);
    let server = spawn_with(Config {
        ticker: None,
        channel_budget: 16 * 1024 * 1024,
        ..Config::default()
    })
    .await;
    let publish = |channel: &'static str, n: u64| {
        let body = json!({ "channel": channel, "data": { "n": n, "big": big } });
        let server = &server;
        async move {
            let (status, answer) = server.publish(body).await;
            assert_eq!(status, 200, "{answer}");
        }
    };
    for n in 1..=EVENTS {
        publish("stall", n).await;
    }
    // About 14 MB to replay: far more than the socket buffers take while the client
    // reads nothing.
    let mut body = Body::sse(
        server
            .get_with(
                "/events?channel=stall&keepalive_ms=0",
                &[("Last-Event-ID", "1")],
            )
            .await,
    );
    body.until(DEFAULT_RETRY_LINE).await;
    // The budget evicts every event of the channel for another channel's.
    for n in 1..=2 * EVENTS {
        publish("other", n).await;
    }
    let all = String::from_utf8(body.read_to_end().await).expect("utf-8");
    let ids: Vec<u64> = all
        .lines()
        .filter_map(|line| line.strip_prefix("id: "))
        .map(|id| id.parse().expect("a numeric id"))
        .collect();
    // What the buffers took before the events went, none skipped, then the end: no
    // evicted event after it went.
    let expected: Vec<u64> = (2..ids.len() as u64 + 2).collect();
    assert_eq!(ids, expected);
    assert!(
        ids.len() < EVENTS as usize - 1,
        "the whole replay was sent, events evicted long before included"
    );
    // The client resumes from the last event it got, whose next one went: `reset`.
    let last = ids.last().copied().unwrap_or(1).to_string();
    let mut resumed = Body::sse(
        server
            .get_with(
                "/events?channel=stall&keepalive_ms=0",
                &[("Last-Event-ID", &last)],
            )
            .await,
    );
    let reset = format!(
        "{DEFAULT_RETRY_LINE}event: reset\ndata: {{\"reason\":\"history lost\",\"lastEventId\":\"{last}\",\"oldest\":null}}\n\n"
    );
    resumed.until_len(reset.len()).await;
    assert!(
        resumed.text().starts_with(&reset),
        "{}",
        &resumed.text()[..reset.len()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_publishing_has_no_gap_or_duplicate() {
    const TOTAL: u64 = 60;
    let server = spawn().await;
    for n in 1..=5 {
        publish_n(&server, "race", n).await;
    }
    let publisher = async {
        for n in 6..=TOTAL {
            publish_n(&server, "race", n).await;
        }
    };
    let readers = async {
        let mut readers = Vec::new();
        for k in 0..10u64 {
            let last = k % 5 + 1;
            let response = server
                .get_with(
                    "/events?channel=race",
                    &[("Last-Event-ID", &last.to_string())],
                )
                .await;
            readers.push((last, Body::sse(response)));
        }
        readers
    };
    let ((), readers) = tokio::join!(publisher, readers);
    for (last, mut body) in readers {
        body.expect_text(&format!(
            "{DEFAULT_RETRY_LINE}{}",
            numbered(last + 1..=TOTAL)
        ))
        .await;
    }
}

#[tokio::test]
async fn control_drop_on_an_unknown_channel_drops_nothing() {
    let server = spawn().await;
    let (status, answer) = json_response(server.post("/control/drop?channel=nobody").await).await;
    assert_eq!((status, answer), (200, json!({ "dropped": 0 })));
    // The channel still works as a new one.
    let mut body = Body::sse(server.get("/events?channel=nobody").await);
    body.until(DEFAULT_RETRY_LINE).await;
    publish_n(&server, "nobody", 1).await;
    body.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(1..=1)))
        .await;
}

// Regression: a channel was made before anything else and never freed, so a thousand
// `<img src=.../events?channel=rN>` (or any client naming new channels) filled
// MAX_CHANNELS for good and every new channel got a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_streams_on_new_channels_do_not_fill_the_server() {
    let server = spawn().await;
    for n in 0..MAX_CHANNELS + 50 {
        let response = server
            .get(&format!("/events?channel=r{n}&keepalive_ms=0"))
            .await;
        let mut body = Body::sse(response);
        body.until(DEFAULT_RETRY_LINE).await;
        drop(body);
        // The server frees the channel once it sees the client gone.
        tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.channels == 0))
            .await
            .unwrap_or_else(|_| panic!("channel r{n} was never freed: {:?}", server.state.stats()));
    }
    let mut body = Body::sse(server.get("/events?channel=fresh").await);
    body.until(DEFAULT_RETRY_LINE).await;
    publish_n(&server, "fresh", 1).await;
    body.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(1..=1)))
        .await;
}

/// Channels that hold events stay for replay, up to the cap; past it the least
/// recently used idle one goes (its resuming client gets a `reset`), never one with an
/// open stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_idle_channels_go_and_streamed_ones_keep_their_replay() {
    let server = spawn().await;
    let mut kept = Body::sse(server.get("/events?channel=kept&keepalive_ms=0").await);
    kept.until(DEFAULT_RETRY_LINE).await;
    for n in 1..=3 {
        publish_n(&server, "kept", n).await;
    }
    for c in 0..MAX_CHANNELS + 10 {
        publish_n(&server, &format!("c{c}"), 1).await;
    }
    let stats = server.state.stats();
    assert_eq!(stats.channels, MAX_CHANNELS, "{stats:?}");
    assert_eq!(stats.connections, 1);
    // The streamed channel kept its events: a resume replays them.
    let mut resumed = Body::sse(
        server
            .get_with("/events?channel=kept", &[("Last-Event-ID", "1")])
            .await,
    );
    resumed
        .expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(2..=3)))
        .await;
    // The oldest idle channels went with their events; the newest are still there.
    let mut evicted = Body::sse(
        server
            .get_with("/events?channel=c0", &[("Last-Event-ID", "1")])
            .await,
    );
    evicted
        .expect_text(&format!(
            "{DEFAULT_RETRY_LINE}event: reset\ndata: {{\"reason\":\"history lost\",\"lastEventId\":\"1\",\"oldest\":null}}\n\n"
        ))
        .await;
    let newest = format!("/events?channel=c{}&lastEventId=0", MAX_CHANNELS + 9);
    let mut held = Body::sse(server.get(&newest).await);
    held.until("id: 1\n").await;
    kept.expect_text(&format!("{DEFAULT_RETRY_LINE}{}", numbered(1..=3)))
        .await;
}

#[tokio::test]
async fn stats_counts_open_streams_per_channel() {
    let server = spawn().await;
    let stats = || async { json_response(server.get("/stats").await).await };
    assert_eq!(
        stats().await,
        (
            200,
            json!({"connections": 0, "channels": 0, "perChannel": {}})
        )
    );
    let mut a1 = Body::sse(server.get("/events?channel=a").await);
    let mut a2 = Body::sse(server.get("/events?channel=a").await);
    let mut b = Body::sse(server.get("/events?channel=b").await);
    for body in [&mut a1, &mut a2, &mut b] {
        body.until(DEFAULT_RETRY_LINE).await;
    }
    publish_n(&server, "quiet", 1).await;
    assert_eq!(
        stats().await,
        (
            200,
            json!({"connections": 3, "channels": 3, "perChannel": {"a": 2, "b": 1}})
        )
    );
    drop(a1);
    tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.connections == 2))
        .await
        .expect("the closed stream is no longer counted");
    drop(b);
    tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.connections == 1))
        .await
        .expect("the closed stream is no longer counted");
    assert_eq!(
        stats().await,
        (
            200,
            json!({"connections": 1, "channels": 2, "perChannel": {"a": 1}})
        )
    );
    // A refused connect is not a stream.
    json_response(server.post("/control/fail?channel=a").await).await;
    assert_eq!(server.get("/events?channel=a").await.status().as_u16(), 503);
    assert_eq!(server.state.stats().connections, 1);
    // Streams that the server ends (drop, shutdown) are no longer counted.
    json_response(server.post("/control/drop?channel=a").await).await;
    a2.read_to_end().await;
    tokio::time::timeout(TIMEOUT, server.state.wait_for_stats(|s| s.connections == 0))
        .await
        .expect("the dropped stream is no longer counted");
}
