//! CORS for loopback origins, static files, and the deadlines and cap on connections.

mod common;

use std::path::PathBuf;

use common::{header, spawn, spawn_with, text};
use wasm_eventsource_server::Config;

async fn preflight(server: &common::Server, origin: &str) -> reqwest::Response {
    server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/publish"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,x-test",
        )
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn preflight_from_loopback_is_allowed() {
    let server = spawn().await;
    for origin in [
        "http://127.0.0.1:12345",
        "http://localhost:8000",
        "http://[::1]:9",
    ] {
        let response = preflight(&server, origin).await;
        assert!(response.status().is_success(), "{origin}");
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials").as_deref(),
            Some("true")
        );
        assert_eq!(
            header(&response, "access-control-allow-headers").as_deref(),
            Some("authorization,content-type,x-test")
        );
        let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
    }

    // A real request carries the CORS headers too.
    let response = server
        .client
        .get(server.url("/scenario/status/200"))
        .header("Origin", "http://127.0.0.1:12345")
        .send()
        .await
        .expect("get");
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("http://127.0.0.1:12345")
    );
    assert!(header(&response, "access-control-expose-headers").is_some());
}

// Regression: `Retry-After` is not CORS-safelisted and was not exposed, so a
// cross-origin fetch client never saw the delay a 429 or 503 asked for.
#[tokio::test]
async fn retry_after_is_exposed_to_loopback_origins() {
    let server = spawn().await;
    let origin = "http://127.0.0.1:12345";
    for code in [429u16, 503] {
        let response = server
            .get_with(
                &format!("/scenario/status/{code}?retry_after=2"),
                &[("Origin", origin)],
            )
            .await;
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(header(&response, "retry-after").as_deref(), Some("2"));
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        let exposed = header(&response, "access-control-expose-headers").unwrap_or_default();
        let names: Vec<String> = exposed
            .split(',')
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        for name in ["retry-after", "last-event-id", "content-type"] {
            assert!(names.iter().any(|n| n == name), "{name} not in {exposed:?}");
        }
    }
}

// Without Timing-Allow-Origin, a cross-origin Resource Timing entry hides whether an
// answer came, and the native transport took a 204 for a passing failure.
#[tokio::test]
async fn timing_is_allowed_to_loopback_origins_only() {
    let server = spawn().await;
    for (origin, allowed) in [
        ("http://127.0.0.1:12345", true),
        ("http://example.com", false),
    ] {
        let response = server
            .get_with("/scenario/status/204", &[("Origin", origin)])
            .await;
        assert_eq!(
            header(&response, "timing-allow-origin").as_deref(),
            allowed.then_some(origin),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn preflight_refuse_refuses_preflights_only() {
    let server = spawn().await;
    let path = "/scenario/status/200?preflight=refuse";
    let response = server
        .client
        .request(reqwest::Method::OPTIONS, server.url(path))
        .header("Origin", "http://127.0.0.1:12345")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "last-event-id")
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    // The request itself, which needs no preflight, is allowed as usual.
    let response = server
        .get_with(path, &[("Origin", "http://127.0.0.1:12345")])
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some("http://127.0.0.1:12345")
    );
}

#[tokio::test]
async fn preflight_from_elsewhere_is_not_allowed() {
    let server = spawn().await;
    for origin in [
        "http://example.com",
        "https://127.0.0.1:12345",
        "http://localhost.example.com",
    ] {
        let response = preflight(&server, origin).await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wasm-eventsource-server-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn static_files_from_www_and_pkg() {
    let www = temp_dir("www");
    let pkg = temp_dir("pkg");
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").expect("write");
    std::fs::write(pkg.join("thing.js"), "export {}").expect("write");
    let server = spawn_with(Config {
        www_dir: www.clone(),
        pkg_dir: pkg.clone(),
        ticker: None,
        ..Config::default()
    })
    .await;
    let response = server.get("/").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(text(response).await, "<h1>demo</h1>");
    let response = server.get("/pkg/thing.js").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(header(&response, "content-type").is_some_and(|ct| ct.contains("javascript")));
    assert_eq!(text(response).await, "export {}");
    assert_eq!(server.get("/missing.txt").await.status().as_u16(), 404);
    let _ = std::fs::remove_dir_all(www);
    let _ = std::fs::remove_dir_all(pkg);
}

#[tokio::test]
async fn missing_static_directories_are_404_not_a_crash() {
    let server = spawn_with(Config {
        www_dir: PathBuf::from("/nonexistent/www"),
        pkg_dir: PathBuf::from("/nonexistent/pkg"),
        ticker: None,
        ..Config::default()
    })
    .await;
    assert_eq!(server.get("/").await.status().as_u16(), 404);
    assert_eq!(server.get("/pkg/x.js").await.status().as_u16(), 404);
    // The routes still work.
    assert_eq!(
        server.get("/scenario/no-content").await.status().as_u16(),
        204
    );
}

async fn built(server: &common::Server) -> serde_json::Value {
    let body: serde_json::Value =
        serde_json::from_str(&text(server.get("/examples.json").await).await).expect("JSON");
    body["built"].clone()
}

#[tokio::test]
async fn examples_json_lists_the_built_apps() {
    let dir = temp_dir("examples");
    let server = spawn_with(Config {
        examples_dir: dir.clone(),
        ticker: None,
        ..Config::default()
    })
    .await;
    assert_eq!(built(&server).await, serde_json::json!([]));
    // A directory without index.html is still building.
    std::fs::create_dir_all(dir.join("yew-chat")).expect("mkdir");
    std::fs::create_dir_all(dir.join("leptos-chat")).expect("mkdir");
    std::fs::write(dir.join("leptos-chat/index.html"), "<p>app</p>").expect("write");
    assert_eq!(built(&server).await, serde_json::json!(["leptos-chat"]));
    std::fs::write(dir.join("yew-chat/index.html"), "<p>app</p>").expect("write");
    assert_eq!(
        built(&server).await,
        serde_json::json!(["leptos-chat", "yew-chat"])
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_mistyped_route_or_a_wrong_method_is_a_json_error_that_says_so() {
    // What broke (a review): `POST /publsh` reached the static files, which answered
    // an empty 405 with `Allow: GET,HEAD`, and `GET /publish` an empty 405: neither
    // said what was wrong.
    let server = common::spawn().await;
    let (status, body) = common::json_response(server.post("/publsh").await).await;
    assert_eq!(status, 404, "{body}");
    let error = body["error"].as_str().expect("error sentence");
    assert!(
        error.starts_with("no route for POST /publsh;") && error.contains("/publish"),
        "{error}"
    );
    // The same for GET (a review): the static files answered an empty 404, also under
    // /scenario, which has no fallback of its own.
    for path in ["/event?channel=x", "/scenario/end-afte/3"] {
        let (status, body) = common::json_response(server.get(path).await).await;
        assert_eq!(status, 404, "{path}: {body}");
        let error = body["error"].as_str().expect("error sentence");
        assert!(
            error.starts_with("no route or file for GET /") && error.contains("/events"),
            "{path}: {error}"
        );
    }
    for (path, allow) in [
        ("/publish", "POST"),
        ("/control/drop", "POST"),
        ("/scenario/llm/anthropic", "POST"),
    ] {
        let response = server.get(path).await;
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some(allow),
            "{path}"
        );
        let (status, body) = common::json_response(response).await;
        assert_eq!(status, 405, "{path}: {body}");
        let error = body["error"].as_str().expect("error sentence");
        assert!(
            error.starts_with(&format!("{path} does not take GET")),
            "{error}"
        );
    }
    // Static files are still served to GET.
    assert_eq!(server.get("/").await.status().as_u16(), 200);
}

/// A raw TCP connection to `server`.
async fn connect(server: &common::Server) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// What `stream` reads until the server closes it (within [`common::TIMEOUT`]).
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    tokio::time::timeout(common::TIMEOUT, stream.read_to_end(&mut got))
        .await
        .expect("the server to close the connection in time")
        .expect("read");
    got
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// Regression: axum::serve gave hyper no timer, so a connection that sent nothing, or a
// keep-alive connection left idle, held its socket for good (clients that open
// connections and send nothing could use up the server's file descriptors).
#[tokio::test]
async fn connections_that_send_no_request_head_in_time_are_closed() {
    use tokio::io::AsyncWriteExt;
    let timeout = std::time::Duration::from_millis(300);
    let server = spawn_with(Config {
        ticker: None,
        header_timeout: timeout,
        ..Config::default()
    })
    .await;

    let started = std::time::Instant::now();
    let mut silent = connect(&server).await;
    read_until_closed(&mut silent).await;
    assert!(
        started.elapsed() >= timeout,
        "closed after {:?}",
        started.elapsed()
    );

    // Answered, then idle: closed once the next head is late.
    let mut idle = connect(&server).await;
    idle.write_all(HEALTH).await.expect("request");
    let got = read_until_closed(&mut idle).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

// Regression: the number of connections had no bound (only requests whose head
// arrived were counted).
#[tokio::test]
async fn over_max_connections_the_next_connection_waits_until_one_closes() {
    use tokio::io::AsyncWriteExt;
    let timeout = std::time::Duration::from_millis(500);
    let server = spawn_with(Config {
        ticker: None,
        max_connections: Some(1),
        header_timeout: timeout,
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    // Holds the one connection until its head is late.
    let mut silent = connect(&server).await;
    // In the system's queue, not accepted: answered only once the first one closes (and
    // closed at once after its answer, so that the time read is the answer's).
    let mut waiting = connect(&server).await;
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let got = read_until_closed(&mut waiting).await;
    let answered = started.elapsed();
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        answered >= timeout,
        "answered after {answered:?}, while the first connection still held the only place"
    );
    read_until_closed(&mut silent).await;
}

// Regression (a review): only the head had a deadline, so a client that sent a
// publish's head and then not its body held a request's place and a connection for
// good.
#[tokio::test]
async fn a_request_body_that_does_not_arrive_in_time_is_answered_408() {
    use tokio::io::AsyncWriteExt;
    let timeout = std::time::Duration::from_millis(300);
    let server = spawn_with(Config {
        ticker: None,
        header_timeout: timeout,
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    let mut slow = connect(&server).await;
    slow.write_all(
        b"POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"channel\":",
    )
    .await
    .expect("request");
    let got = read_until_closed(&mut slow).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("did not arrive within 300 ms"), "{got}");
    assert!(
        started.elapsed() >= timeout,
        "answered after {:?}",
        started.elapsed()
    );
    // A body that comes whole is published as before.
    let ok = publish_whole(&server).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    // The scenarios that read a body say the same (a review: they answered 413, "over
    // 64 KiB").
    let mut slow = connect(&server).await;
    slow.write_all(
        b"POST /scenario/llm/openai-chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .expect("request");
    let got = read_until_closed(&mut slow).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
}

// Regression (a review): a scenario answered any body it could not read with 413, "over
// 1024 KiB ... send a smaller body", a small one broken in transit too.
#[tokio::test]
async fn a_scenario_body_too_large_is_413_and_one_broken_is_400() {
    use tokio::io::AsyncWriteExt;
    let server = common::spawn().await;
    let big = "x".repeat(1024 * 1024 + 1);
    let mut conn = connect(&server).await;
    conn.write_all(
        format!(
            "POST /scenario/llm/openai-chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{big}",
            big.len()
        )
        .as_bytes(),
    )
    .await
    .expect("request");
    let got = read_until_closed(&mut conn).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    assert!(got.contains("over 1024 KiB"), "{got}");
    // A body that ends before its length: the client stopped sending.
    let mut conn = connect(&server).await;
    conn.write_all(
        b"POST /scenario/llm/openai-chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\"",
    )
    .await
    .expect("request");
    conn.shutdown().await.expect("shutdown");
    let got = read_until_closed(&mut conn).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 400"), "{got}");
    assert!(got.contains("could not be read"), "{got}");
}

/// A publish sent whole over a raw connection: the answer's text.
async fn publish_whole(server: &common::Server) -> String {
    use tokio::io::AsyncWriteExt;
    let body = br#"{"channel":"late-body","data":1}"#;
    let mut conn = connect(server).await;
    let head = format!(
        "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(body).await.expect("body");
    String::from_utf8_lossy(&read_until_closed(&mut conn).await).into_owned()
}
