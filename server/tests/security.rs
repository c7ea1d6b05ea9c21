//! The loopback `Host` check, CORS for other origins, and static files that never
//! leave their directories.

mod common;

use std::path::PathBuf;

use common::{header, json_response, spawn, spawn_with, text};
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
        let response = server
            .client
            .get(server.url("/scenario/status/200"))
            .header("Origin", origin)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 200);
        for name in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-expose-headers",
        ] {
            assert_eq!(header(&response, name), None, "{origin} {name}");
        }
    }
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
