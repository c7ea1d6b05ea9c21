//! The binary: prints its address, serves, and exits cleanly on SIGTERM even with an
//! open SSE stream, or a client that stopped reading one.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Body;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server's process, killed when the test ends however it ends (a failed assert
/// included), so that no server outlives its test.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free port; returns it with its base URL.
async fn start() -> (Server, String) {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_wasm-eventsource-server"))
            .args(["--port", "0", "--ticker-ms", "50"])
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let line = first_line(&mut server).await;
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .expect("listening on http://127.0.0.1:PORT")
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let port: u16 = base["http://127.0.0.1:".len()..].parse().expect("port");
    assert_ne!(port, 0);
    (server, base)
}

/// The first line the server prints (its address, once it listens).
async fn first_line(server: &mut Server) -> String {
    let stdout = server.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    tokio::time::timeout(common::TIMEOUT, line)
        .await
        .expect("a line in time")
        .expect("join")
        .expect("read line")
}

/// Sends SIGTERM and waits (up to `within`) for a successful exit.
async fn terminate(Server(child): &mut Server, within: Duration) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + within;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within {within:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_its_address_and_shuts_down_on_sigterm() {
    let (mut child, base) = start().await;

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

    let exited = terminate(&mut child, common::TIMEOUT);
    let ((), _) = tokio::join!(exited, body.read_to_end());
}

// Regression: a client that stopped reading kept its connection's writes pending, and
// graceful shutdown waited on it for good: "shutting down", and the process never
// exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shuts_down_on_sigterm_while_a_client_stopped_reading() {
    let (mut child, base) = start().await;
    let addr = base.trim_start_matches("http://").parse().expect("address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = format!(
        "GET /scenario/huge?bytes=60000000 HTTP/1.1\r\nHost: {}\r\n\r\n",
        base.trim_start_matches("http://")
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    // The server is streaming 60 MB, far more than the two sockets' buffers hold: once
    // the first bytes of the body are in, it soon waits on a client that reads no more.
    let mut head = Vec::new();
    while !head.windows(6).any(|w| w == b"xxxxxx") {
        let mut buf = [0; 1024];
        let n = tokio::time::timeout(common::TIMEOUT, stream.read(&mut buf))
            .await
            .expect("the body in time")
            .expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&head));
        head.extend_from_slice(&buf[..n]);
    }
    terminate(&mut child, common::TIMEOUT).await;
    drop(stream);
}

// Regression (a review): under an open-file limit below the connection cap (1,024 on
// many Linux sessions, against 11,024 by default), accepts failed past it where the
// docs promise a 503, and nothing said why until then. The server says so as it starts.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_file_limit_below_the_connection_cap_is_told_at_start() {
    let mut server = Server(
        Command::new("sh")
            .args([
                "-c",
                "ulimit -n 256 && exec \"$0\" --port 0 --ticker-ms 0",
                env!("CARGO_BIN_EXE_wasm-eventsource-server"),
            ])
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server"),
    );
    let stderr = server.0.stderr.take().expect("stderr");
    let line = first_line(&mut server).await;
    assert!(line.starts_with("listening on "), "{line}");
    // The note comes before the address.
    let _ = server.0.kill();
    let note = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text).map(|_| text)
    });
    let note = tokio::time::timeout(common::TIMEOUT, note)
        .await
        .expect("stderr in time")
        .expect("join")
        .expect("read stderr");
    assert!(
        note.contains("may open 256 files") && note.contains("ulimit -n 11088"),
        "{note}"
    );
}
