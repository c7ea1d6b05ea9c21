//! Shared helpers: spawn the real app on 127.0.0.1:0 and read SSE bodies with timeouts.
#![allow(dead_code)]

use std::ops::RangeInclusive;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::Value;
use wasm_eventsource_server::testing::serve_on_loopback;
use wasm_eventsource_server::{AppState, Config};

/// How long any single expectation may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What `/events` sends first without `retry=MS`.
pub const DEFAULT_RETRY_LINE: &str = "retry: 1000\n\n";

/// Events `id: n` / `data: {"n":n}` for n in `range`, as written on the wire.
pub fn numbered(range: RangeInclusive<u64>) -> String {
    range
        .map(|n| format!("id: {n}\ndata: {{\"n\":{n}}}\n\n"))
        .collect()
}

/// The value of header `name` as text, if present and visible ASCII.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub struct Server {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
}

/// The app with the ticker off.
pub async fn spawn() -> Server {
    spawn_with(Config {
        ticker: None,
        ..Config::default()
    })
    .await
}

/// The app with `config`, ticker included if it sets one.
pub async fn spawn_with(config: Config) -> Server {
    let state = AppState::new(config);
    state.spawn_ticker();
    let base = serve_on_loopback(&state).await.expect("the app serves");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Server {
        base,
        state,
        client,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        tokio::time::timeout(TIMEOUT, request.send())
            .await
            .expect("response headers in time")
            .expect("request")
    }

    /// Sends a request with exactly `path` as the request target and `host` as the
    /// Host header (none when `None`) over a fresh connection; returns the status and
    /// the raw rest of the response (headers and body). No client normalises the path.
    pub async fn raw_get(&self, path: &str, host: Option<&str>) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let host_line = host.map_or_else(String::new, |h| format!("Host: {h}\r\n"));
        let request = format!("GET {path} HTTP/1.1\r\n{host_line}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut response))
            .await
            .expect("response in time")
            .expect("read");
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        (status, response)
    }

    pub async fn post(&self, path: &str) -> reqwest::Response {
        tokio::time::timeout(TIMEOUT, self.client.post(self.url(path)).send())
            .await
            .expect("response in time")
            .expect("request")
    }

    /// Logs `count` requests with a body of `bytes` bytes each under `token` (a scenario
    /// that answers 204): a log of about `count × bytes`.
    pub async fn log_bodies(&self, token: &str, count: usize, bytes: usize) {
        let body = "x".repeat(bytes);
        for _ in 0..count {
            let response = self
                .client
                .post(self.url(&format!("/scenario/no-content?token={token}")))
                .body(body.clone())
                .send()
                .await
                .expect("a request");
            assert_eq!(response.status().as_u16(), 204);
        }
    }

    /// POSTs `body` to `/publish` as JSON; returns status and parsed JSON answer.
    pub async fn publish_raw(&self, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut request = self.client.post(self.url("/publish")).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = tokio::time::timeout(TIMEOUT, request.send())
            .await
            .expect("publish in time")
            .expect("publish request");
        json_response(response).await
    }

    pub async fn publish(&self, body: Value) -> (u16, Value) {
        self.publish_raw(Some("application/json"), body.to_string().into_bytes())
            .await
    }
}

/// Status and JSON body; fails if the body is not JSON.
pub async fn json_response(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "status {status}"
    );
    let bytes = tokio::time::timeout(TIMEOUT, response.bytes())
        .await
        .expect("body in time")
        .expect("body");
    let value = serde_json::from_slice(&bytes).expect("json body");
    (status, value)
}

pub async fn text(response: reqwest::Response) -> String {
    let bytes = tokio::time::timeout(TIMEOUT, response.bytes())
        .await
        .expect("body in time")
        .expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>;

/// A response body read chunk by chunk.
pub struct Body {
    stream: ByteStream,
    pub buf: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
    pub ended: bool,
}

impl Body {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            stream: Box::pin(response.bytes_stream()),
            buf: Vec::new(),
            chunks: Vec::new(),
            ended: false,
        }
    }

    /// A checked SSE response: 200, `text/event-stream`, `no-cache`.
    pub fn sse(response: reqwest::Response) -> Self {
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("text/event-stream")
        );
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-cache")
        );
        Self::new(response)
    }

    /// Reads one chunk; `false` at the end of the body.
    async fn read_one(&mut self, wait: Duration) -> Option<bool> {
        match tokio::time::timeout(wait, self.stream.next()).await {
            Err(_) => None,
            Ok(None) => {
                self.ended = true;
                Some(false)
            }
            Ok(Some(chunk)) => {
                let chunk = chunk.expect("body chunk");
                self.buf.extend_from_slice(&chunk);
                self.chunks.push(chunk.to_vec());
                Some(true)
            }
        }
    }

    /// Reads until `done(buffer)`; panics on timeout or early end, naming `what` it
    /// waited for.
    async fn read_until(&mut self, done: impl Fn(&[u8]) -> bool, what: impl Fn() -> String) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !done(&self.buf) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let how = match self.read_one(left).await {
                Some(true) => continue,
                None => "timed out waiting for",
                Some(false) => "body ended before",
            };
            panic!(
                "{how} {}; got {} bytes: {:?}",
                what(),
                self.buf.len(),
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Reads until the buffer holds `len` bytes; panics on timeout or early end.
    pub async fn until_len(&mut self, len: usize) -> &[u8] {
        self.read_until(|buf| buf.len() >= len, || format!("{len} bytes"))
            .await;
        &self.buf
    }

    /// Reads until the buffer contains `needle`; returns the buffer as text.
    pub async fn until(&mut self, needle: &str) -> String {
        self.read_until(
            |buf| contains(buf, needle.as_bytes()),
            || format!("{needle:?}"),
        )
        .await;
        self.text()
    }

    /// Reads as many bytes as `expected` has and asserts that the body is exactly it.
    pub async fn expect_text(&mut self, expected: &str) {
        self.until_len(expected.len()).await;
        assert_eq!(self.text(), expected);
    }

    /// Reads until the body ends; panics if it does not end in time.
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !self.ended {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if self.read_one(left).await.is_none() {
                panic!(
                    "body did not end in time; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
        }
        self.buf.clone()
    }

    /// Reads until the body ends (`true`) or holds `needle` (`false`); panics if
    /// neither happens in time.
    pub async fn until_end_or(&mut self, needle: &str) -> bool {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !self.ended && !contains(&self.buf, needle.as_bytes()) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if self.read_one(left).await.is_none() {
                panic!(
                    "body neither ended nor sent {needle:?} in time; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
        }
        self.ended
    }

    /// Asserts that nothing arrives and the body stays open for `wait`.
    pub async fn assert_idle(&mut self, wait: Duration) {
        let before = self.buf.len();
        match self.read_one(wait).await {
            None => {}
            Some(false) => panic!("body ended but should stay open"),
            Some(true) => panic!(
                "unexpected bytes: {:?}",
                String::from_utf8_lossy(&self.buf[before..])
            ),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.buf.clone()).expect("utf-8 stream")
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
