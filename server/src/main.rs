//! `wasm-eventsource-server`: serves the test routes, the demo page and the built
//! package on 127.0.0.1. See `--help`.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use wasm_eventsource_server::config::{parse_args_with_redis, Command, USAGE};
use wasm_eventsource_server::serve::serve;
use wasm_eventsource_server::{app, AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let env_port = std::env::var("PORT").ok();
    let env_redis = std::env::var("REDIS_URL").ok();
    let args = match parse_args_with_redis(
        std::env::args().skip(1),
        env_port.as_deref(),
        env_redis.as_deref(),
    ) {
        Ok(Command::Serve(args)) => args,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: cannot read the listening address: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (what, dir) in [
        ("--www", &args.config.www_dir),
        ("--pkg", &args.config.pkg_dir),
        ("--examples", &args.config.examples_dir),
    ] {
        if !dir.is_dir() {
            eprintln!(
                "note: {what} directory {} does not exist; it serves 404s",
                dir.display()
            );
        }
    }

    let state = match AppState::try_new(args.config) {
        Ok(state) => state,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if state.config().redis.is_some() {
        eprintln!("broker: redis (the url given by --redis or REDIS_URL)");
    }
    state.spawn_ticker();
    let bridge = state.spawn_flask_sse();
    let router = app(state.clone());
    let (max_connections, header_timeout) = {
        let config = state.config();
        (config.connection_cap(), config.header_timeout)
    };
    // Each connection is a file, and so are the files served and Redis's connections:
    // past the process's open-file limit, accepts fail (and are retried each second)
    // where --max-requests promises a 503. Told on Linux (where the limit is read).
    if let Some(limit) = open_file_limit() {
        let wanted = u64::try_from(max_connections)
            .unwrap_or(u64::MAX)
            .saturating_add(FILES_BESIDES_CONNECTIONS);
        if wanted > limit {
            eprintln!(
                "note: this process may open {limit} files (`ulimit -n`), fewer than the \
                 {max_connections} connections it may hold (--max-connections, by default \
                 --max-requests + 1024) and the files it serves: past about {} connections, \
                 new ones wait unanswered instead of getting the 503 --max-requests \
                 promises. Raise the limit (`ulimit -n {wanted}`, within `ulimit -Hn`) or \
                 lower --max-requests and --max-connections",
                limit.saturating_sub(FILES_BESIDES_CONNECTIONS)
            );
        }
    }
    // Listened for before the address is printed: whoever reads that line may signal
    // at once, and a signal with no handler yet kills the process ungracefully.
    let signal = wait_for_signal();
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "listening on http://{addr}")
            .and_then(|()| out.flush())
            .is_err()
        {
            eprintln!("listening on http://{addr}");
        }
    }

    let (signalled, on_signal) = tokio::sync::oneshot::channel();
    let serve = serve(
        listener,
        router,
        max_connections,
        header_timeout,
        async move {
            signal.await;
            eprintln!("shutting down");
            state.shutdown();
            let _ = signalled.send(());
        },
    );
    // Every stream ends at the signal, but a connection whose client stopped reading
    // still has bytes to write, and graceful shutdown would wait on it for good.
    let grace = async {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = serve => {}
        () = grace => {
            eprintln!(
                "shut down with connections still open {} s after the signal (clients that \
                 stopped reading): they were closed",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    // The Flask-SSE bridge writes what it holds and gives up its lease, within its own
    // deadlines (1 s to write, 2 s for the lease); this one is a backstop.
    if let Some(bridge) = bridge {
        match tokio::time::timeout(BRIDGE_GRACE, bridge).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("the flask-sse bridge failed: {error}"),
            Err(_) => eprintln!(
                "the flask-sse bridge did not stop within {} s; its lease expires by itself",
                BRIDGE_GRACE.as_secs()
            ),
        }
    }
    ExitCode::SUCCESS
}

/// How long shutdown waits for the Flask-SSE bridge to stop.
const BRIDGE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long shutdown waits for open connections to finish writing before it closes them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Listens for Ctrl-C and SIGTERM from now on (unix: the handlers are installed here,
/// not when the future is first polled); the future resolves on either.
#[cfg(unix)]
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn recv(signal: Option<Signal>) {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
    let interrupt = recv(signal(SignalKind::interrupt()).ok());
    let terminate = recv(signal(SignalKind::terminate()).ok());
    async move {
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Files the server keeps open besides its connections: the listener, the files it is
/// serving, Redis's connections, the runtime's own.
const FILES_BESIDES_CONNECTIONS: u64 = 64;

/// This process's open-file soft limit (`ulimit -n`) where the system tells it
/// (Linux's `/proc/self/limits`); `None` elsewhere, or when it is unlimited.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
