//! The binary: prints its address, serves, and exits cleanly on SIGTERM even with an
//! open SSE stream.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Body;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_its_address_and_shuts_down_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasm-eventsource-server"))
        .args(["--port", "0", "--ticker-ms", "50"])
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(common::TIMEOUT, line)
        .await
        .expect("a line in time")
        .expect("join")
        .expect("read line");
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .expect("listening on http://127.0.0.1:PORT")
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let port: u16 = base["http://127.0.0.1:".len()..].parse().expect("port");
    assert_ne!(port, 0);

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let response = client
        .get(format!("{base}/events?channel=ticker"))
        .send()
        .await
        .expect("events");
    let mut body = Body::sse(response);
    body.until("event: tick\n").await;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    body.read_to_end().await;

    let deadline = Instant::now() + common::TIMEOUT;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}
