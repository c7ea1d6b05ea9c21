//! The Redis broker against a real `redis-server` (each test starts its own on a free
//! loopback port, stopped by PID when the test ends or panics): several instances share
//! publish and replay; Redis going away and coming back loses no acknowledged event;
//! Flask-SSE's `sse.publish` reaches our clients.
//!
//! Without `redis-server` these tests fail and say to run `bash scripts/setup.sh`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{json_response, spawn_with, Server, TIMEOUT};
use futures::StreamExt;
use serde_json::{json, Value};
use wasm_eventsource_server::testing::RedisProcess;
use wasm_eventsource_server::Config;

fn redis() -> RedisProcess {
    match RedisProcess::start() {
        Ok(redis) => redis,
        Err(message) => panic!("{message}"),
    }
}

async fn instance(redis: &RedisProcess) -> Server {
    instance_with(redis, false).await
}

async fn instance_with(redis: &RedisProcess, flask_sse: bool) -> Server {
    let server = spawn_with(Config {
        ticker: None,
        redis: Some(redis.url()),
        flask_sse,
        ..Config::default()
    })
    .await;
    server.state.spawn_flask_sse();
    server
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ev {
    event: Option<String>,
    id: Option<String>,
    data: String,
}

/// Parses complete events and comments out of `buf`, leaving an incomplete tail.
fn parse(buf: &mut String, events: &mut Vec<Ev>, comments: &mut Vec<String>) {
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let mut ev = Ev {
            event: None,
            id: None,
            data: String::new(),
        };
        let mut has_data = false;
        for line in block.lines() {
            if let Some(comment) = line.strip_prefix(':') {
                comments.push(comment.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("event: ") {
                ev.event = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("id: ") {
                ev.id = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                if has_data {
                    ev.data.push('\n');
                }
                ev.data.push_str(v);
                has_data = true;
            }
        }
        if has_data {
            events.push(ev);
        }
    }
}

/// An SSE reader of one response.
struct Reader {
    stream:
        std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    buf: String,
    events: Vec<Ev>,
    comments: Vec<String>,
    ended: bool,
}

impl Reader {
    async fn open(server: &Server, channel: &str, last: Option<&str>) -> Self {
        let mut headers = Vec::new();
        if let Some(last) = last {
            headers.push(("last-event-id", last));
        }
        let response = server
            .get_with(
                &format!("/events?channel={channel}&keepalive_ms=0"),
                &headers,
            )
            .await;
        assert_eq!(response.status().as_u16(), 200, "GET /events");
        Self {
            stream: Box::pin(response.bytes_stream()),
            buf: String::new(),
            events: Vec::new(),
            comments: Vec::new(),
            ended: false,
        }
    }

    /// Reads one chunk; false when the body ended.
    async fn read(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.stream.next()).await {
            Err(_) => panic!(
                "no bytes within {wait:?}; have {} events, comments {:?}, tail {:?}",
                self.events.len(),
                self.comments,
                self.buf
            ),
            Ok(None) | Ok(Some(Err(_))) => {
                self.ended = true;
                false
            }
            Ok(Some(Ok(chunk))) => {
                self.buf
                    .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
                parse(&mut self.buf, &mut self.events, &mut self.comments);
                true
            }
        }
    }

    async fn until_events(&mut self, n: usize) -> &[Ev] {
        while self.events.len() < n {
            assert!(
                self.read(TIMEOUT).await,
                "stream ended after {:?}",
                self.events
            );
        }
        &self.events
    }

    async fn until_comment(&mut self, text: &str) {
        self.until_comments(text, 1).await;
    }

    /// Until the stream has had the comment `text` `n` times.
    async fn until_comments(&mut self, text: &str, n: usize) {
        while self.comments.iter().filter(|c| *c == text).count() < n {
            assert!(
                self.read(TIMEOUT).await,
                "stream ended waiting for {text} ({n})"
            );
        }
    }
}

async fn publish_ok(server: &Server, body: Value) -> String {
    let (status, answer) = server.publish(body).await;
    assert_eq!(status, 200, "{answer}");
    answer["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_on_a_reaches_b_with_the_same_id() {
    let redis = redis();
    let a = instance(&redis).await;
    let b = instance(&redis).await;
    let mut on_a = Reader::open(&a, "news", None).await;
    let mut on_b = Reader::open(&b, "news", None).await;
    let id = publish_ok(
        &a,
        json!({"channel": "news", "event": "chat", "data": {"n": 1}}),
    )
    .await;
    let expected = Ev {
        event: Some("chat".into()),
        id: Some(id.clone()),
        data: r#"{"n":1}"#.into(),
    };
    assert_eq!(on_b.until_events(1).await, std::slice::from_ref(&expected));
    assert_eq!(on_a.until_events(1).await, [expected]);
    // Ids are Redis stream ids, the same on every instance.
    assert!(id.contains('-'), "{id}");
    // Publish counts this instance's streams.
    let (_, answer) = b.publish(json!({"channel": "news", "data": 2})).await;
    assert_eq!(answer["receivers"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_on_b_after_an_id_from_a_has_no_gap_or_duplicate() {
    let redis = redis();
    let a = instance(&redis).await;
    let b = instance(&redis).await;
    let mut on_a = Reader::open(&a, "room", None).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(publish_ok(&a, json!({"channel": "room", "data": n})).await);
    }
    let got = on_a.until_events(3).await[..3].to_vec();
    assert_eq!(got[2].id.as_deref(), Some(ids[2].as_str()));
    drop(on_a);

    // The client moves to B with the id of the third event.
    let mut on_b = Reader::open(&b, "room", Some(&ids[2])).await;
    ids.push(publish_ok(&a, json!({"channel": "room", "data": 6})).await);
    ids.push(publish_ok(&b, json!({"channel": "room", "data": 7})).await);
    let events = on_b.until_events(4).await.to_vec();
    let datas: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(datas, ["4", "5", "6", "7"]);
    let got_ids: Vec<&str> = events.iter().filter_map(|e| e.id.as_deref()).collect();
    assert_eq!(
        got_ids,
        ids[3..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    while tokio::time::timeout(Duration::from_millis(50), on_b.read(TIMEOUT))
        .await
        .is_ok()
    {}
    assert_eq!(on_b.events.len(), 4, "duplicates: {:?}", on_b.events);

    // An id Redis does not hold gets the in-memory broker's `reset`, then everything held.
    let mut lost = Reader::open(&b, "room", Some("1-0")).await;
    let events = lost.until_events(8).await;
    assert_eq!(events[0].event.as_deref(), Some("reset"));
    let reset: Value = serde_json::from_str(&events[0].data).expect("reset json");
    assert_eq!(reset["lastEventId"], "1-0");
    assert_eq!(reset["oldest"], ids[0].as_str());
    assert_eq!(events[1].id.as_deref(), Some(ids[0].as_str()));
}

// Regression: a stream copied its whole replay (up to 10,000 entries) at connect time,
// so a client that stopped reading held all of it (about 60 MB with 60 KiB entries)
// and was sent entries long after Redis trimmed them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_whose_unsent_entries_are_trimmed_ends_and_its_resume_gets_reset() {
    let redis = redis();
    let server = instance(&redis).await;
    // Entries `1-1` to `500-1` of 48 KiB: about 24 MB to replay, far more than the
    // socket buffers take while the client reads nothing.
    let script = r"
        for k = 1, 500 do
          redis.call('XADD', KEYS[1], k .. '-1', 'data', string.rep('x', 48 * 1024))
        end
        return 1";
    let _: i64 = redis
        .query(
            redis::cmd("EVAL")
                .arg(script)
                .arg(1)
                .arg("wes:stream:stall"),
        )
        .expect("entries");
    let mut reader = Reader::open(&server, "stall", Some("1-1")).await;
    assert!(reader.read(TIMEOUT).await);
    // The client reads nothing more while Redis trims all but the newest ten.
    let _: u64 = redis
        .query(
            redis::cmd("XTRIM")
                .arg("wes:stream:stall")
                .arg("MAXLEN")
                .arg(10),
        )
        .expect("XTRIM");
    while reader.read(TIMEOUT).await {}
    let ids: Vec<String> = reader.events.iter().filter_map(|e| e.id.clone()).collect();
    // What the buffers took before the trim, none skipped, then the end.
    let expected: Vec<String> = (2..ids.len() + 2).map(|k| format!("{k}-1")).collect();
    assert_eq!(ids, expected);
    assert!(
        ids.len() < 499,
        "the whole replay was sent, entries trimmed long before included"
    );
    // The client resumes from the last entry it got, which went: `reset`.
    let last = ids.last().cloned().unwrap_or_else(|| "1-1".to_owned());
    let mut resumed = Reader::open(&server, "stall", Some(&last)).await;
    let events = resumed.until_events(11).await;
    assert_eq!(events[0].event.as_deref(), Some("reset"));
    let reset: Value = serde_json::from_str(&events[0].data).expect("reset json");
    assert_eq!(reset["lastEventId"], last.as_str());
    assert_eq!(reset["oldest"], "491-1");
    let held: Vec<&str> = events[1..].iter().filter_map(|e| e.id.as_deref()).collect();
    let expected: Vec<String> = (491..=500).map(|k| format!("{k}-1")).collect();
    assert_eq!(held, expected);
}

/// A client that resumes by Last-Event-ID whenever its stream ends, as EventSource does,
/// until it has `total` events; returns their data in arrival order.
async fn subscriber(
    server: Arc<Server>,
    channel: &'static str,
    total: usize,
    opened: Option<tokio::sync::oneshot::Sender<()>>,
) -> Vec<Ev> {
    let mut all: Vec<Ev> = Vec::with_capacity(total);
    let mut reader = Reader::open(&server, channel, None).await;
    if let Some(opened) = opened {
        let _ = opened.send(());
    }
    loop {
        while !reader.events.is_empty() {
            all.push(reader.events.remove(0));
        }
        if all.len() >= total {
            return all;
        }
        if !reader.read(Duration::from_secs(30)).await {
            let last = all.last().and_then(|e| e.id.clone());
            reader = Reader::open(&server, channel, last.as_deref()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_three_instances_fifty_subscribers_exactly_once_in_order() {
    const EVENTS: usize = 10_000;
    const PUBLISHERS: usize = 3;
    const SUBSCRIBERS: usize = 50;
    let redis = redis();
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Arc::new(instance(&redis).await));
    }
    // A subscriber is subscribed once its response headers arrive.
    let mut handles = Vec::new();
    for n in 0..SUBSCRIBERS {
        let server = Arc::clone(&instances[n % 3]);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        handles.push(tokio::spawn(subscriber(
            server,
            "load",
            EVENTS,
            Some(ready_tx),
        )));
        ready_rx.await.expect("subscribed");
    }

    let started = std::time::Instant::now();
    let mut publishers = Vec::new();
    for (p, server) in instances.iter().enumerate().take(PUBLISHERS) {
        let server = Arc::clone(server);
        publishers.push(tokio::spawn(async move {
            let mut k = 0;
            while k * PUBLISHERS + p < EVENTS {
                let body = json!({"channel": "load", "data": {"p": p, "k": k}});
                let (status, answer) = server.publish(body).await;
                assert_eq!(status, 200, "{answer}");
                k += 1;
            }
        }));
    }
    for publisher in publishers {
        publisher.await.expect("publisher");
    }
    let mut first: Option<Vec<Ev>> = None;
    for handle in handles {
        let events = tokio::time::timeout(Duration::from_secs(40), handle)
            .await
            .expect("every subscriber gets every event in time")
            .expect("subscriber");
        assert_eq!(events.len(), EVENTS);
        // In order per publisher, once each.
        let mut next = [0u64; PUBLISHERS];
        for event in &events {
            let data: Value = serde_json::from_str(&event.data).expect("json");
            let p = data["p"].as_u64().expect("p") as usize;
            assert_eq!(
                data["k"].as_u64(),
                Some(next[p]),
                "publisher {p} out of order"
            );
            next[p] += 1;
        }
        // The same order and ids on every instance.
        match &first {
            None => first = Some(events),
            Some(first) => assert!(first == &events, "subscribers disagree on order or ids"),
        }
    }
    eprintln!(
        "10,000 events to 50 subscribers on 3 instances in {:?}",
        started.elapsed()
    );
}

/// Adds `count` entries `data {"n":k}` (k = 1..=count) to the channel's stream in one
/// script, with the broker's `MAXLEN ~ 1000`: atomic, so a reader sees none of them or
/// all that survived the trimming.
fn burst(redis: &RedisProcess, channel: &str, count: u64) {
    let script = r#"
        for k = 1, tonumber(ARGV[1]) do
          redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000, '*', 'data', '{"n":' .. k .. '}')
        end
        return 1"#;
    let _: i64 = redis
        .query(
            redis::cmd("EVAL")
                .arg(script)
                .arg(1)
                .arg(format!("wes:stream:{channel}"))
                .arg(count),
        )
        .expect("burst");
}

/// The ids of the oldest entry held and the stream's length.
fn oldest_and_len(redis: &RedisProcess, channel: &str) -> (String, u64) {
    let key = format!("wes:stream:{channel}");
    let oldest: redis::streams::StreamRangeReply = redis
        .query(
            redis::cmd("XRANGE")
                .arg(&key)
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(1),
        )
        .expect("XRANGE");
    let len: u64 = redis.query(redis::cmd("XLEN").arg(&key)).expect("XLEN");
    (oldest.ids[0].id.clone(), len)
}

/// Reads `n` events and checks that they are `{"n":1}` ... `{"n":n}` and that the stream
/// is still open.
async fn expect_burst(reader: &mut Reader, n: u64) {
    let events = reader.until_events(n as usize).await.to_vec();
    let datas: Vec<String> = events.iter().map(|e| e.data.clone()).collect();
    let expected: Vec<String> = (1..=n).map(|k| format!("{{\"n\":{k}}}")).collect();
    assert_eq!(datas, expected);
    assert!(!reader.ended);
}

// Regression: the reader ended every stream of the channel when the oldest entry held
// was newer than its cursor, which is also the case when nothing was lost: a burst of
// 1,000 entries between two reads trims the cursor entry itself, and a reader started
// on an empty stream has the cursor `0-0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_that_trim_only_what_was_read_end_no_stream() {
    let redis = redis();
    // Stream nodes of exactly 100 entries, so that trimming to ~1000 removes whole
    // nodes of older entries and nothing of a 1,000-entry burst.
    let _: () = redis
        .query(
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("stream-node-max-entries")
                .arg(100)
                .arg("stream-node-max-bytes")
                .arg(0),
        )
        .expect("CONFIG SET");
    let a = instance(&redis).await;

    // A stream that held 100 entries, all read: the reader's cursor is the 100th.
    tokio::task::block_in_place(|| burst(&redis, "full", 100));
    let mut full = Reader::open(&a, "full", None).await;
    // A stream that does not exist yet: the cursor is `0-0`.
    let mut empty = Reader::open(&a, "empty", None).await;

    tokio::task::block_in_place(|| {
        burst(&redis, "full", 1000);
        burst(&redis, "empty", 1000);
    });
    // The cursor entry is gone, every entry after it is held.
    let (oldest, len) = tokio::task::block_in_place(|| oldest_and_len(&redis, "full"));
    assert_eq!(len, 1000, "the first 100 entries were trimmed, no more");
    let mut check = Reader::open(&a, "full", Some(&oldest)).await;
    check.until_events(1).await;
    assert_eq!(
        check.events[0].data, r#"{"n":2}"#,
        "the oldest held is the burst's first"
    );

    expect_burst(&mut full, 1000).await;
    expect_burst(&mut empty, 1000).await;
    // Still live.
    publish_ok(&a, json!({"channel": "full", "data": "after"})).await;
    assert_eq!(full.until_events(1001).await[1000].data, r#""after""#);
}

/// The loss check still ends the streams when entries they had not read were trimmed
/// (the client resumes and is told history was lost) or deleted by another writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_unread_entries_ends_the_streams() {
    let redis = redis();
    let a = instance(&redis).await;
    tokio::task::block_in_place(|| burst(&redis, "lossy", 10));
    let last = {
        let (oldest, _) = tokio::task::block_in_place(|| oldest_and_len(&redis, "lossy"));
        oldest
    };
    let mut reader = Reader::open(&a, "lossy", None).await;
    tokio::task::block_in_place(|| burst(&redis, "lossy", 3000));
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !reader.ended {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream was not ended"
        );
        reader.read(TIMEOUT).await;
    }
    assert!(
        reader.events.len() < 3000,
        "{} events: nothing was lost?",
        reader.events.len()
    );
    let mut resumed = Reader::open(&a, "lossy", Some(&last)).await;
    assert_eq!(
        resumed.until_events(1).await[0].event.as_deref(),
        Some("reset")
    );

    // Three entries added and the second deleted before the reader saw it (after five
    // it read: one entry removed of eight is not more than it read, only
    // `max-deleted-entry-id` tells).
    tokio::task::block_in_place(|| burst(&redis, "xdel", 5));
    let mut reader = Reader::open(&a, "xdel", None).await;
    let script = r#"
        local a = redis.call('XADD', KEYS[1], '*', 'data', '1')
        local b = redis.call('XADD', KEYS[1], '*', 'data', '2')
        redis.call('XADD', KEYS[1], '*', 'data', '3')
        return redis.call('XDEL', KEYS[1], b)"#;
    let deleted: i64 = tokio::task::block_in_place(|| {
        redis.query(redis::cmd("EVAL").arg(script).arg(1).arg("wes:stream:xdel"))
    })
    .expect("XADD and XDEL");
    assert_eq!(deleted, 1);
    while reader.read(TIMEOUT).await {}
    assert!(reader.events.is_empty(), "{:?}", reader.events);

    // Regression: a stream key that went away with entries its reader had not read (a
    // Redis restarted without persistence, a FLUSHDB) ended nothing: the counters of
    // the stream that began again said nothing was removed, and the clients missed
    // those entries with no `reset`.
    // Three entries: the reader starts at the third, its position 3; the stream that
    // begins again has had one.
    tokio::task::block_in_place(|| burst(&redis, "gone", 3));
    let (last, _) = tokio::task::block_in_place(|| oldest_and_len(&redis, "gone"));
    let mut reader = Reader::open(&a, "gone", Some(&last)).await;
    let script = r#"
        for k = 1, 3 do redis.call('XADD', KEYS[1], '*', 'data', 'unread') end
        redis.call('DEL', KEYS[1])
        redis.call('XADD', KEYS[1], '*', 'data', '"new"')
        return 1"#;
    let _: i64 = tokio::task::block_in_place(|| {
        redis.query(redis::cmd("EVAL").arg(script).arg(1).arg("wes:stream:gone"))
    })
    .expect("XADD, DEL, XADD");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !reader.ended {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream was not ended; it got {:?}",
            reader.events
        );
        reader.read(TIMEOUT).await;
    }
    let mut resumed = Reader::open(&a, "gone", Some(&last)).await;
    assert_eq!(
        resumed.until_events(1).await[0].event.as_deref(),
        Some("reset")
    );
}

async fn health(server: &Server) -> (u16, Value) {
    json_response(server.get("/health").await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_without_redis_is_the_memory_broker() {
    let server = common::spawn().await;
    assert_eq!(
        health(&server).await,
        (200, json!({"broker": "memory", "reachable": true}))
    );
}

// Regression: every publish to a new channel made a Redis stream that was never
// removed, so publishing to channels r0, r1, ... grew Redis without bound (the
// in-memory channel budget does not cover it). Each publish now sets a day's expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_stream_expires_a_day_after_its_last_publish() {
    let redis = redis();
    let a = instance(&redis).await;
    let id = publish_ok(&a, json!({"channel": "brief", "data": 1})).await;
    let ttl: i64 =
        tokio::task::block_in_place(|| redis.query(redis::cmd("PTTL").arg("wes:stream:brief")))
            .expect("PTTL");
    let day = 24 * 60 * 60 * 1000;
    assert!(ttl > day - 60_000 && ttl <= day, "PTTL {ttl}");
    // An explicit id Redis refuses is still a 400 that says why.
    let (status, answer) = a
        .publish(json!({"channel": "brief", "data": 2, "id": id}))
        .await;
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().expect("error sentence");
    assert!(error.contains("redis refused the id"), "{error}");
    // Regression: an id at the end of what Redis can hold was stored, and every later
    // publish without an id failed with 503 "unreachable" for good (no id left). And
    // (a review) the same milliseconds with `-*` (Redis 7 picks the sequence) passed
    // the check, and every id Redis assigned after it was past 2^53.
    for far in [
        "18446744073709551615-18446744073709551615",
        "18446744073709551615-*",
    ] {
        let (status, answer) = a
            .publish(json!({"channel": "brief", "data": 2, "id": far}))
            .await;
        assert_eq!(status, 400, "{far}: {answer}");
        let error = answer["error"].as_str().expect("error sentence");
        assert!(error.contains("too far ahead"), "{far}: {error}");
    }
    let id = publish_ok(&a, json!({"channel": "brief", "data": 2})).await;

    // Regression (of the expiry): a channel someone streams but nobody publishes to
    // expired under its reader, which took the vanished stream for a loss and ended
    // every stream with a false `reset`. A reader renews the expiry as it reads.
    let mut reader = Reader::open(&a, "brief", Some(&id)).await;
    let _: () = tokio::task::block_in_place(|| {
        redis.query(redis::cmd("PEXPIRE").arg("wes:stream:brief").arg(1500))
    })
    .expect("PEXPIRE");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let ttl: i64 =
            tokio::task::block_in_place(|| redis.query(redis::cmd("PTTL").arg("wes:stream:brief")))
                .expect("PTTL");
        if ttl > 60_000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader did not renew the expiry: PTTL {ttl}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    publish_ok(&a, json!({"channel": "brief", "data": 3})).await;
    let events = reader.until_events(1).await;
    assert_eq!(events[0].data, "3");
    assert!(!reader.ended);
}

// Regression: Redis refusing a command (here WRONGTYPE: a string where the channel's
// stream goes) was answered "unreachable ... try again in a moment", and an explicit
// id's publish "redis refused the id", though neither the network nor the id was the
// cause. Both now name the refusal and say where to fix it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_redis_refuses_is_told_as_a_refusal_not_as_unreachable() {
    let redis = redis();
    let a = instance(&redis).await;
    let _: () = tokio::task::block_in_place(|| {
        redis.query(redis::cmd("SET").arg("wes:stream:taken").arg("a string"))
    })
    .expect("SET");
    for body in [
        json!({"channel": "taken", "data": 1}),
        json!({"channel": "taken", "data": 1, "id": "9-0"}),
    ] {
        let (status, answer) = a.publish(body).await;
        assert_eq!(status, 503, "{answer}");
        let error = answer["error"].as_str().expect("error sentence");
        assert!(
            error.contains("reachable but redis refused the command")
                && error.contains("WRONGTYPE"),
            "{error}"
        );
        // (What broke, a review: it said "the server keeps trying", which is the
        // channel's reader; nothing sends this event later.)
        assert!(
            error.contains("the event was not stored")
                && error.contains("publish the event again")
                && !error.contains("keeps trying"),
            "{error}"
        );
    }
    let refused = a.get("/events?channel=taken").await;
    assert_eq!(refused.status().as_u16(), 503);
    let error = refused.text().await.expect("body");
    // (What broke, a review: a new stream's 503 listed five guesses where Redis had
    // said which it was.)
    assert!(
        error.contains("refused the command") && error.contains("WRONGTYPE"),
        "{error}"
    );
    // The key fixed, the channel works.
    let _: () =
        tokio::task::block_in_place(|| redis.query(redis::cmd("DEL").arg("wes:stream:taken")))
            .expect("DEL");
    publish_ok(&a, json!({"channel": "taken", "data": 2})).await;
}

// Regression: with the blocking `XREAD` refused (a user whose rights leave it out), the
// channel's reader read each page, said "broker available", then failed at the wait:
// its streams heard "unavailable" and "available" again and again, and a new stream
// got a 503 whenever it came between the two. The reader now reads a page every
// second instead, and tells its streams of no outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_refused_the_blocking_read_reads_every_second_and_tells_no_outage() {
    let redis = redis();
    let _: () = tokio::task::block_in_place(|| {
        redis.query(
            redis::cmd("ACL")
                .arg("SETUSER")
                .arg("default")
                .arg("-xread"),
        )
    })
    .expect("ACL SETUSER");
    let a = instance(&redis).await;
    let mut first = Reader::open(&a, "polled", None).await;
    for n in 1..=3 {
        publish_ok(&a, json!({"channel": "polled", "data": {"n": n}})).await;
        first.until_events(n).await;
        // A new stream is served all along (`open` asserts the 200).
        let mut late =
            Reader::open(&a, "polled", Some(&first.events[0].id.clone().expect("id"))).await;
        late.until_events(n - 1).await;
    }
    let datas: Vec<&str> = first.events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(datas, [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#]);
    assert_eq!(first.comments, Vec::<String>::new(), "no outage to tell");
    let (status, health) = health(&a).await;
    assert_eq!(status, 200, "{health}");
}

// Regression: a publish whose XADD Redis applied after the 2 s timeout was answered
// "unreachable ... try again in a moment", so a publisher that retried delivered the
// event twice; the answer now says that the event may have been stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_that_times_out_says_the_event_may_have_been_stored() {
    let redis = redis();
    let a = instance(&redis).await;
    publish_ok(&a, json!({"channel": "slow", "data": 0})).await;
    // Writes wait 3 s, past the server's 2 s timeout, then go through.
    let _: () = tokio::task::block_in_place(|| {
        redis.query(redis::cmd("CLIENT").arg("PAUSE").arg(3000).arg("WRITE"))
    })
    .expect("CLIENT PAUSE");
    let (status, answer) = a.publish(json!({"channel": "slow", "data": 1})).await;
    assert_eq!(status, 503, "{answer}");
    let error = answer["error"].as_str().expect("error sentence");
    assert!(error.contains("may have been stored"), "{error}");
    // And it was: Redis applied the XADD once the pause ended.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let len: u64 =
            tokio::task::block_in_place(|| redis.query(redis::cmd("XLEN").arg("wes:stream:slow")))
                .expect("XLEN");
        if len == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{len} entries");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Redis stops (`SHUTDOWN SAVE`: every connection closes) and starts again on the same
/// port from its saved data while a stream is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_started_again_loses_no_acknowledged_event() {
    let mut redis = redis();
    let a = instance(&redis).await;
    let b = instance(&redis).await;
    assert_eq!(
        health(&a).await,
        (200, json!({"broker": "redis", "reachable": true}))
    );
    let mut on_b = Reader::open(&b, "feed", None).await;
    let mut acknowledged = Vec::new();
    for n in 0..50 {
        acknowledged.push(publish_ok(&a, json!({"channel": "feed", "data": n})).await);
    }
    // Stop at once: B's reader has not necessarily read them all yet.
    tokio::task::block_in_place(|| redis.stop_saving()).expect("stop redis");

    let (status, answer) = a.publish(json!({"channel": "feed", "data": "lost"})).await;
    assert_eq!(status, 503, "{answer}");
    let error = answer["error"].as_str().expect("error sentence");
    assert!(error.contains("redis broker is unreachable"), "{error}");
    let (status, answer) = health(&b).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["broker"], "redis");
    assert_eq!(answer["reachable"], false);
    // A new stream cannot replay or start without Redis.
    let refused = b.get("/events?channel=feed").await;
    assert_eq!(refused.status().as_u16(), 503);
    // The open stream is told and stays open.
    on_b.until_comment("broker unavailable, retrying").await;
    assert!(!on_b.ended);

    tokio::task::block_in_place(|| redis.restart()).expect("restart redis");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while health(&a).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for n in 50..60 {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let (status, answer) = a.publish(json!({"channel": "feed", "data": n})).await;
            if status == 200 {
                acknowledged.push(answer["id"].as_str().expect("id").to_owned());
                break;
            }
            assert_eq!(status, 503, "{answer}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "publish never recovered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let events = on_b.until_events(60).await.to_vec();
    let datas: Vec<String> = events.iter().map(|e| e.data.clone()).collect();
    let expected: Vec<String> = (0..60).map(|n| n.to_string()).collect();
    assert_eq!(datas, expected);
    let ids: Vec<String> = events.iter().filter_map(|e| e.id.clone()).collect();
    assert_eq!(ids, acknowledged);
    on_b.until_comment("broker available").await;
    assert!(!on_b.ended);
    // Replay survived the restart too.
    let mut resumed = Reader::open(&a, "feed", Some(&acknowledged[9])).await;
    let replayed = resumed.until_events(50).await;
    assert_eq!(replayed[0].data, "10");
    assert_eq!(replayed[49].data, "59");
}

// Regression: once Redis was back, a new stream on a channel whose reader was down got
// a 503 for as long as the reader's backoff had left (up to 5 s; a browser's
// EventSource gives up for good on a 503); and a stream told "broker available" after a
// recovery was not told "broker unavailable" when Redis went away again before the
// reader had waited for entries once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_opened_as_redis_comes_back_is_served_and_each_outage_is_told() {
    let mut redis = redis();
    let b = instance(&redis).await;
    let mut on_b = Reader::open(&b, "feed", None).await;
    tokio::task::block_in_place(|| redis.stop_saving()).expect("stop redis");
    on_b.until_comments("broker unavailable, retrying", 1).await;
    // Down long enough that the reader waits seconds between its tries (from 100 ms,
    // doubling: the try after about 6.3 s is followed by one 5 s later).
    tokio::time::sleep(Duration::from_millis(6_500)).await;
    tokio::task::block_in_place(|| redis.restart()).expect("restart redis");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while health(&b).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // (Asserts a 200.)
    let _second = Reader::open(&b, "feed", None).await;
    on_b.until_comments("broker available", 1).await;
    // Redis goes away again while the reader waits for entries after its round.
    tokio::task::block_in_place(|| redis.stop_saving()).expect("stop redis again");
    on_b.until_comments("broker unavailable, retrying", 2).await;
    assert!(!on_b.ended);
}

/// `target/flask-sse-venv` with `flask-sse` installed, created on first use and reused.
fn flask_sse_python() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")),
        PathBuf::from,
    );
    let venv = target.join("flask-sse-venv");
    let python = venv.join("bin/python");
    let requirements = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/flask-sse-requirements.txt"
    );
    let wanted = std::fs::read_to_string(requirements).expect("the requirements file");
    // The venv keeps a copy of the requirements it was made from: made again when
    // they changed.
    let stamp = venv.join("wes-requirements.txt");
    let installed = Command::new(&python)
        .args(["-c", "import flask_sse"])
        .output()
        .is_ok_and(|out| out.status.success())
        && std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted);
    if installed {
        return python;
    }
    let fail = |what: &str, detail: String| -> ! {
        panic!(
            "cannot {what} for the Flask-SSE test ({detail}); it needs python3 with venv and \
             pip able to reach PyPI (on Debian: apt-get install python3-venv)"
        )
    };
    let run = |what: &str, command: &mut Command| match command.output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => fail(what, String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => fail(what, e.to_string()),
    };
    run(
        "create a venv",
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    );
    run(
        "pip install flask-sse",
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            requirements,
        ]),
    );
    std::fs::write(&stamp, wanted).expect("the venv's copy of its requirements");
    python
}

const FLASK_PUBLISHER: &str = r#"
import os
from flask import Flask
from flask_sse import sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
with app.app_context():
    sse.publish({"n": 1}, type="chat", channel="room")
    sse.publish("two\nlines", channel="room", retry=1500)
"#;

/// Two instances run the bridge; Flask-SSE publishes twice; each client of each
/// instance gets each message once, and it is replayable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flask_sse_publish_reaches_our_clients_once() {
    let python = tokio::task::spawn_blocking(flask_sse_python)
        .await
        .expect("venv");
    let redis = redis();
    let a = instance_with(&redis, true).await;
    let b = instance_with(&redis, true).await;
    let mut on_a = Reader::open(&a, "room", None).await;
    let mut on_b = Reader::open(&b, "room", None).await;
    // Pub/sub delivers only to current subscribers: wait for the bridge's.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let numsub: (String, u64) = tokio::task::block_in_place(|| {
            redis.query(redis::cmd("PUBSUB").arg("NUMSUB").arg("room"))
        })
        .expect("PUBSUB NUMSUB");
        if numsub.1 >= 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flask-sse bridge never subscribed to `room`"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-c", FLASK_PUBLISHER])
            .env("REDIS_URL", redis.url())
            .output()
            .map(|out| (out, redis))
    })
    .await
    .expect("join")
    .expect("run the flask publisher");
    let (out, _redis) = out;
    assert!(
        out.status.success(),
        "flask publisher failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for reader in [&mut on_a, &mut on_b] {
        let events = reader.until_events(2).await.to_vec();
        assert_eq!(events[0].event.as_deref(), Some("chat"));
        assert_eq!(events[0].data, r#"{"n":1}"#);
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].data, "two\nlines");
        assert!(reader.buf.is_empty());
        tokio::time::sleep(Duration::from_millis(700)).await;
        while tokio::time::timeout(Duration::from_millis(50), reader.read(TIMEOUT))
            .await
            .is_ok()
        {}
        assert_eq!(reader.events.len(), 2, "duplicates: {:?}", reader.events);
    }
    assert_eq!(on_a.events, on_b.events);
    // Recorded in the stream: replayable after the first.
    let first = on_a.events[0].id.clone().expect("id");
    let mut replay = Reader::open(&b, "room", Some(&first)).await;
    assert_eq!(replay.until_events(1).await[0].data, "two\nlines");
}

/// Waits until `done` holds for `server`'s Flask-SSE bridge counts.
/// `PUBLISH`es each payload on `channel` as Flask-SSE does, in one pipeline.
fn flask_publish(redis: &RedisProcess, channel: &str, payloads: impl IntoIterator<Item = String>) {
    let mut pipe = redis::pipe();
    for payload in payloads {
        pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
    }
    let published: Result<(), redis::RedisError> = tokio::task::block_in_place(|| {
        let mut conn = redis::Client::open(redis.url())?.get_connection()?;
        pipe.query(&mut conn)
    });
    published.expect("PUBLISH");
}

async fn bridge_until(
    server: &Server,
    what: &str,
    done: impl Fn(&wasm_eventsource_server::broker::flask::FlaskSseCounts) -> bool,
) {
    if tokio::time::timeout(TIMEOUT, server.state.wait_for_flask_sse(done))
        .await
        .is_err()
    {
        panic!("{what}: {:?}", server.state.flask_sse_counts());
    }
}

// Regression (a review): a holder that stopped dropped what it had queued and kept its
// lease until it expired (5 s), so in a rolling deploy no instance followed Flask-SSE's
// pub/sub for that long, and what it published then was lost. It now writes what it
// holds and gives the lease up, and the next instance takes it at its next tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_sse_holder_that_stops_writes_what_it_holds_and_hands_the_lease_on() {
    let redis = redis();
    let a = instance_with(&redis, true).await;
    let _on_a = Reader::open(&a, "room", None).await;
    bridge_until(&a, "A holds the lease and follows `room`", |c| {
        c.holder && c.subscribed == 1
    })
    .await;
    let b = instance_with(&redis, true).await;
    let _on_b = Reader::open(&b, "room", None).await;
    // A holds three messages, stalled between receiving and writing them.
    a.state.pause_flask_sse(true);
    flask_publish(
        &redis,
        "room",
        (0..3).map(|n| json!({"data": n}).to_string()),
    );
    bridge_until(&a, "A receives them", |c| c.received == 3).await;
    let stopped = tokio::time::Instant::now();
    a.state.shutdown();
    bridge_until(&a, "A writes them and lets the lease go", |c| {
        c.stored == 3 && !c.holder
    })
    .await;
    bridge_until(&b, "B takes the lease", |c| c.holder).await;
    let took = stopped.elapsed();
    assert!(
        took < Duration::from_millis(2_500),
        "B took the lease {took:?} after A stopped (the lease lasts {:?})",
        wasm_eventsource_server::broker::flask::LEASE
    );
    let len: u64 =
        tokio::task::block_in_place(|| redis.query(redis::cmd("XLEN").arg("wes:stream:room")))
            .expect("XLEN");
    assert_eq!(len, 3);
}

// Regression (a review): whatever a tick of the bridge failed on (here a user with no
// rights to subscribe: Redis 7's `acl-pubsub-default resetchannels` for a new user)
// was dropped without a word: the bridge retried every 500 ms, /health said 200, and
// nothing Flask-SSE published arrived. It is now logged once and kept in the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_sse_bridge_refused_its_subscription_says_why_until_it_works() {
    let redis = redis();
    let acl = |rule: &'static str| {
        let _: () = tokio::task::block_in_place(|| {
            redis.query(redis::cmd("ACL").arg("SETUSER").arg("default").arg(rule))
        })
        .expect("ACL SETUSER");
    };
    acl("resetchannels");
    let a = instance_with(&redis, true).await;
    let _on_a = Reader::open(&a, "room", None).await;
    bridge_until(&a, "the bridge to say why it cannot subscribe", |c| {
        c.failing
            .as_deref()
            .is_some_and(|e| e.to_ascii_lowercase().contains("noperm"))
    })
    .await;
    acl("allchannels");
    bridge_until(&a, "the bridge to work again", |c| {
        c.failing.is_none() && c.subscribed == 1
    })
    .await;
}

// Regression (a review): a pub/sub message that was not Flask-SSE's (not JSON, or JSON
// with NaN, which Python's json.dumps writes by default) was dropped without a word or
// a count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_flask_sses_is_counted_as_skipped() {
    let redis = redis();
    let a = instance_with(&redis, true).await;
    let _on_a = Reader::open(&a, "room", None).await;
    bridge_until(&a, "A holds the lease and follows `room`", |c| {
        c.holder && c.subscribed == 1
    })
    .await;
    flask_publish(
        &redis,
        "room",
        ["not json", r#"{"data": NaN}"#, r#"{"data": 1}"#].map(String::from),
    );
    bridge_until(&a, "one stored, two skipped", |c| {
        c.received == 3 && c.stored == 1 && c.skipped == 2
    })
    .await;
}

// Regression (a review): with more channels streamed across the instances than the
// bridge follows (1000), the rest went unrecorded without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_sse_bridge_at_its_channel_cap_says_so() {
    use wasm_eventsource_server::broker::flask::CHANNELS_KEY;
    let redis = redis();
    let a = instance_with(&redis, true).await;
    bridge_until(&a, "A holds the lease", |c| c.holder && !c.capped).await;
    // Other instances' channels, as the registry records them (scored by time, in ms).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_millis() as u64;
    let mut zadd = redis::cmd("ZADD");
    zadd.arg(CHANNELS_KEY);
    for n in 0..1_001 {
        zadd.arg(now + 60_000).arg(format!("c{n}"));
    }
    let _: u64 = tokio::task::block_in_place(|| redis.query(&zadd)).expect("ZADD");
    bridge_until(&a, "the bridge to say it is at its cap", |c| {
        c.capped && c.subscribed == 1_000
    })
    .await;
}

/// Two instances with the Flask-SSE bridge, as a stall leaves them: A held the lease and
/// followed `room` (for its client, returned), then stalled while its lease lapsed (as
/// when renewal waits on a slow Redis); B took the lease over; a message Flask-SSE
/// published then reached both, B recorded it, and A holds it, still stalled.
async fn a_stalled_holder_and_its_successor(redis: &RedisProcess) -> (Server, Server, Reader) {
    let a = instance_with(redis, true).await;
    let on_a = Reader::open(&a, "room", None).await;
    bridge_until(&a, "A holds the lease and follows `room`", |c| {
        c.holder && c.subscribed == 1
    })
    .await;
    let b = instance_with(redis, true).await;
    a.state.pause_flask_sse(true);
    lapse_lease(redis);
    bridge_until(&b, "B holds the lease and follows `room`", |c| {
        c.holder && c.subscribed == 1
    })
    .await;
    let receivers: i64 = tokio::task::block_in_place(|| {
        redis.query(
            redis::cmd("PUBLISH")
                .arg("room")
                .arg(r#"{"data": {"n": 1}, "type": "chat"}"#),
        )
    })
    .expect("PUBLISH");
    assert_eq!(receivers, 2, "A and B both receive the message");
    bridge_until(&b, "B records it", |c| c.stored == 1).await;
    bridge_until(&a, "A receives it while stalled", |c| c.received == 1).await;
    (a, b, on_a)
}

/// The bridge's lease gone, as when its holder did not renew it in time.
fn lapse_lease(redis: &RedisProcess) {
    let _: i64 =
        tokio::task::block_in_place(|| redis.query(redis::cmd("DEL").arg("wes:flask-sse:bridge")))
            .expect("DEL");
}

/// How many entries the stream of `room` holds.
fn room_len(redis: &RedisProcess) -> u64 {
    tokio::task::block_in_place(|| redis.query(redis::cmd("XLEN").arg("wes:stream:room")))
        .expect("XLEN")
}

// Regression: the Flask-SSE bridge wrote without checking its lease, so a holder that
// stalled past its lease while still subscribed recorded the messages that the new
// holder recorded too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_flask_sse_holder_records_nothing_twice() {
    let redis = redis();
    let (a, _b, mut on_a) = a_stalled_holder_and_its_successor(&redis).await;

    // A goes on and writes what it holds: the fence refuses it.
    a.state.pause_flask_sse(false);
    bridge_until(&a, "A writes or is refused", |c| c.stored + c.refused == 1).await;
    let counts = a.state.flask_sse_counts();
    assert_eq!((counts.stored, counts.refused), (0, 1), "{counts:?}");
    assert_eq!(room_len(&redis), 1, "the message was recorded once");
    let events = on_a.until_events(1).await;
    assert_eq!(events[0].data, r#"{"n":1}"#);
    // A unsubscribed: B alone follows `room` now.
    bridge_until(&a, "A no longer follows `room`", |c| c.subscribed == 0).await;
}

// What broke: a holder that stalled past its lease, while another holder recorded what
// both received and then went too, took the lease again at its next tick (a renewal to
// it) and wrote what it had queued meanwhile: the message was recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_sse_holder_that_takes_its_lapsed_lease_again_drops_what_it_queued() {
    use wasm_eventsource_server::broker::flask::TICK;
    let redis = redis();
    let (a, b, _on_a) = a_stalled_holder_and_its_successor(&redis).await;
    // B stalls too, and its lease lapses: the lease is free when A goes on.
    b.state.pause_flask_sse(true);
    lapse_lease(&redis);
    // Two ticks of A's pass while it is stalled, so that its tick comes before its
    // write when it goes on (an overdue interval fires at once): the order in which it
    // used to take the lease again, then write.
    tokio::time::sleep(TICK * 2).await;
    a.state.pause_flask_sse(false);
    bridge_until(
        &a,
        "A holds the lease again, having dropped what it queued",
        |c| c.holder && c.refused == 1,
    )
    .await;
    let counts = a.state.flask_sse_counts();
    assert_eq!(counts.stored, 0, "{counts:?}");
    assert_eq!(room_len(&redis), 1, "the message was recorded once");
}

// What broke: the bridge read its next pub/sub message only after writing the last one,
// and not at all once paused with 1000 queued, so whatever Flask published faster piled
// up without bound inside redis-rs (which reads the socket eagerly, so Redis's own
// limit for slow subscribers never applied), and nothing said what was held or lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_sse_backlog_keeps_the_newest_and_counts_what_it_drops() {
    use wasm_eventsource_server::broker::flask::MAX_PENDING;
    const HELD: u64 = MAX_PENDING as u64;
    const PUBLISHED: u64 = HELD + 500;
    let redis = redis();
    let a = instance_with(&redis, true).await;
    let _on_a = Reader::open(&a, "room", None).await;
    bridge_until(&a, "A holds the lease and follows `room`", |c| {
        c.holder && c.subscribed == 1
    })
    .await;

    // The bridge stalls; Flask-SSE publishes far more than it holds.
    a.state.pause_flask_sse(true);
    flask_publish(
        &redis,
        "room",
        (0..PUBLISHED).map(|n| json!({"data": n, "type": "tick"}).to_string()),
    );
    // It goes on reading them all, keeping the newest and counting the others.
    bridge_until(&a, "A reads every message while paused", |c| {
        c.received == PUBLISHED
    })
    .await;
    let counts = a.state.flask_sse_counts();
    assert_eq!(
        (counts.dropped, counts.stored),
        (PUBLISHED - HELD, 0),
        "{counts:?}"
    );

    // Resumed, it writes what it held, in order.
    a.state.pause_flask_sse(false);
    bridge_until(&a, "A writes what it held", |c| c.stored == HELD).await;
    let entries: Vec<(String, Vec<(String, String)>)> = tokio::task::block_in_place(|| {
        redis.query(
            redis::cmd("XRANGE")
                .arg("wes:stream:room")
                .arg("-")
                .arg("+"),
        )
    })
    .expect("XRANGE");
    let datas: Vec<String> = entries
        .iter()
        .map(|(_, fields)| {
            assert!(fields.contains(&("event".to_owned(), "tick".to_owned())));
            let data = fields.iter().find(|(name, _)| name == "data");
            data.expect("a data field").1.clone()
        })
        .collect();
    let expected: Vec<String> = (PUBLISHED - HELD..PUBLISHED)
        .map(|n| n.to_string())
        .collect();
    assert_eq!(datas, expected);
    let counts = a.state.flask_sse_counts();
    assert_eq!(
        (counts.dropped, counts.refused),
        (PUBLISHED - HELD, 0),
        "{counts:?}"
    );
}
