//! The loopback `Host` check, CORS for other origins, and static files that never
//! leave their directories.

mod common;

use std::path::PathBuf;

use common::{
    header, json_response, spawn, spawn_with, text, Body, Server, DEFAULT_RETRY_LINE, TIMEOUT,
};
use wasm_eventsource_server::Config;

#[tokio::test]
async fn non_loopback_hosts_get_421() {
    let server = spawn().await;
    for host in [
        "evil.example",
        "localhost.evil.example:80",
        "10.0.0.1",
        "[::2]:1",
    ] {
        for path in ["/scenario/no-content", "/", "/pkg/x.js", "/events"] {
            let (status, raw) = server.raw_get(path, Some(host)).await;
            assert_eq!(status, 421, "{host} {path}: {raw}");
            assert!(raw.contains("{\"error\":\"this server answers only loopback hosts"));
        }
    }
    // No Host at all.
    let (status, raw) = server.raw_get("/scenario/no-content", None).await;
    assert_eq!(status, 421, "{raw}");
    assert!(raw.ends_with(
        "{\"error\":\"the request has no host; send a Host header naming 127.0.0.1, localhost or [::1]\"}"
    ));

    for host in [
        "localhost",
        "localhost:8080",
        "app.localhost:1",
        "127.0.0.2",
        "[::1]:9",
    ] {
        let (status, raw) = server.raw_get("/scenario/no-content", Some(host)).await;
        assert_eq!(status, 204, "{host}: {raw}");
    }

    // Through a real client too.
    let response = server
        .client
        .get(server.url("/scenario/no-content"))
        .header("Host", "example.com")
        .send()
        .await
        .expect("get");
    let (status, error) = json_response(response).await;
    assert_eq!(status, 421);
    assert_eq!(
        error["error"],
        "this server answers only loopback hosts, not `example.com`; use http://127.0.0.1:PORT or http://localhost:PORT"
    );
}

#[tokio::test]
async fn other_origins_get_no_cors_headers_on_a_real_request() {
    let server = spawn().await;
    for origin in ["http://example.com", "http://127.0.0.1.example.com", "null"] {
        // A read-only route answers; a scenario refuses other sites (403). Neither
        // carries CORS headers.
        for (path, status) in [("/health", 200), ("/scenario/status/200", 403)] {
            let response = server.get_with(path, &[("Origin", origin)]).await;
            assert_eq!(response.status().as_u16(), status, "{origin} {path}");
            for name in [
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-expose-headers",
            ] {
                assert_eq!(header(&response, name), None, "{origin} {path} {name}");
            }
        }
    }
}

/// A request as a browser sends it from `origin` (none for a no-cors GET such as an
/// `<img>`) with `Sec-Fetch-Site: site`.
async fn from_site(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    origin: Option<&str>,
    site: Option<&str>,
) -> reqwest::Response {
    let mut request = server.client.request(method, server.url(path));
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    if let Some(site) = site {
        request = request.header("Sec-Fetch-Site", site);
    }
    if path == "/publish" {
        // What a `no-cors` POST may send: a CORS-safelisted content type.
        request = request
            .header("Content-Type", "text/plain")
            .body(r#"{"channel":"x","data":1}"#);
    }
    tokio::time::timeout(TIMEOUT, request.send())
        .await
        .expect("answer in time")
        .expect("request")
}

// Regression: any web page could change the test server's state with a simple
// request, e.g. `fetch('http://127.0.0.1:8080/control/fail?...', {method: 'POST',
// mode: 'no-cors'})`, or fill channels with `<img src=.../events?channel=rN>`.
#[tokio::test]
async fn other_sites_cannot_change_state() {
    let server = spawn().await;
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let evil = Some("http://evil.example");
    let cross = Some("cross-site");
    let cases = [
        (
            post.clone(),
            "/control/fail?channel=armed&count=5",
            evil,
            cross,
        ),
        (post.clone(), "/control/drop?channel=armed", evil, cross),
        (post.clone(), "/publish", evil, cross),
        (post.clone(), "/publish", Some("null"), cross),
        (get.clone(), "/events?channel=r1", None, cross),
        (get.clone(), "/events?channel=r2", evil, cross),
        (get.clone(), "/scenario/no-content?token=evil", None, cross),
        (post.clone(), "/scenario/echo?token=evil", evil, cross),
    ];
    for (method, path, origin, site) in cases {
        let response = from_site(&server, method.clone(), path, origin, site).await;
        let (status, error) = json_response(response).await;
        assert_eq!(status, 403, "{method} {path} from {origin:?}: {error}");
        let message = error["error"].as_str().expect("an error sentence");
        assert!(
            message.contains("may not change this server's state")
                && message.contains("http://127.0.0.1:PORT"),
            "{message}"
        );
        if let Some(origin) = origin {
            assert!(message.contains(origin), "{message}");
        }
    }
    // Nothing changed: the channel is not armed, nothing was logged.
    let response = server.get("/events?channel=armed&keepalive_ms=0").await;
    let mut body = Body::sse(response);
    body.expect_text(DEFAULT_RETRY_LINE).await;
    assert!(server.state.request_log("evil").is_empty());
}

#[tokio::test]
async fn loopback_pages_and_non_browsers_still_change_state() {
    let server = spawn().await;
    let post = reqwest::Method::POST;
    let own = server.base.clone();
    let localhost_own = own.replace("127.0.0.1", "localhost");
    let allowed: [(Option<&str>, Option<&str>); 7] = [
        // The wasm-bindgen test runner: another loopback port, cross-site or not.
        (Some("http://127.0.0.1:9999"), Some("same-site")),
        (Some("http://localhost:9999"), Some("cross-site")),
        (Some("http://[::1]:9999"), None),
        // The server's own pages.
        (Some(own.as_str()), Some("same-origin")),
        (None, Some("same-origin")),
        (None, Some("none")),
        // curl and tests.
        (None, None),
    ];
    for (origin, site) in allowed {
        let response = from_site(
            &server,
            post.clone(),
            "/control/fail?channel=ok&count=0",
            origin,
            site,
        )
        .await;
        assert_eq!(response.status().as_u16(), 200, "{origin:?} {site:?}");
    }
    // Same origin under another loopback name: compared with the Host.
    let response = server
        .client
        .post(server.url("/control/drop?channel=ok"))
        .header("Host", localhost_own.trim_start_matches("http://"))
        .header("Origin", localhost_own.as_str())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 200);
    let response = server
        .client
        .post(server.url("/publish"))
        .header("Origin", "http://127.0.0.1:9999")
        .header("Sec-Fetch-Site", "same-site")
        .header("Content-Type", "application/json")
        .body(r#"{"channel":"ok","data":1}"#)
        .send()
        .await
        .expect("publish");
    assert_eq!(response.status().as_u16(), 200);
}

/// `<tmp>/{www,pkg,examples}` each with a file, and `<tmp>/secret.txt` beside them.
fn served_dirs() -> (PathBuf, Config) {
    let root = std::env::temp_dir().join(format!(
        "wasm-eventsource-server-traversal-{}",
        std::process::id()
    ));
    for dir in ["www", "pkg", "examples", "www/sub"] {
        std::fs::create_dir_all(root.join(dir)).expect("dir");
    }
    std::fs::write(root.join("secret.txt"), "TOP SECRET").expect("secret");
    std::fs::write(root.join("www/index.html"), "www").expect("file");
    std::fs::write(root.join("pkg/a.js"), "pkg").expect("file");
    std::fs::write(root.join("examples/a.html"), "examples").expect("file");
    let config = Config {
        www_dir: root.join("www"),
        pkg_dir: root.join("pkg"),
        examples_dir: root.join("examples"),
        ticker: None,
        ..Config::default()
    };
    (root, config)
}

#[tokio::test]
async fn static_files_never_leave_their_directory() {
    let (root, config) = served_dirs();
    let server = spawn_with(config).await;
    assert_eq!(text(server.get("/examples/a.html").await).await, "examples");
    assert_eq!(text(server.get("/pkg/a.js").await).await, "pkg");

    let secret = root.join("secret.txt");
    let absolute = secret.to_string_lossy().into_owned();
    let encoded_absolute = absolute.replace('/', "%2f");
    let mut paths = Vec::new();
    for prefix in ["", "/pkg", "/examples", "/sub"] {
        for attack in [
            "/../secret.txt",
            "/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/secret.txt",
            "/..%2fsecret.txt",
            "/%2e%2e%2fsecret.txt",
            "/sub/../../secret.txt",
            "/.%2e/secret.txt",
            "/..%5csecret.txt",
        ] {
            paths.push(format!("{prefix}{attack}"));
        }
        paths.push(format!("{prefix}/{encoded_absolute}"));
        paths.push(format!("{prefix}/{absolute}"));
        paths.push(format!("{prefix}/%2fetc%2fpasswd"));
        paths.push(format!("{prefix}//etc/passwd"));
    }
    for path in paths {
        let (status, raw) = server.raw_get(&path, Some("127.0.0.1")).await;
        assert_eq!(status, 404, "{path}: {raw}");
        assert!(!raw.contains("TOP SECRET"), "{path}");
        assert!(!raw.contains("root:"), "{path}");
    }
    let _ = std::fs::remove_dir_all(root);
}
