//! Serving the app on a TCP listener: HTTP/1.1 (what browsers speak to a cleartext
//! server), with a deadline for each request's head and a cap on the connections held.
//!
//! [`axum::serve()`] runs hyper with no timer, so a client that connects and sends
//! nothing, or leaves a keep-alive connection idle, holds its socket for good, and the
//! request cap ([`crate::Config::max_requests`]) counts only requests whose head
//! arrived: clients that open connections and send nothing could use up the process's
//! file descriptors. Here:
//!
//! - a connection must send a request's head within [`crate::Config::header_timeout`]
//!   of opening, and of its previous response's end (an idle keep-alive connection),
//!   or it is closed (a streaming response is not reading a head: it is never cut);
//! - at most [`crate::Config::connection_cap`] connections are held at once: the
//!   next ones wait in the operating system's queue until one closes (they are not
//!   accepted, so they hold no descriptor of this process).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// waits for the open connections to finish (idle ones close at once; a stream ends
/// when the app ends it, as [`crate::AppState::shutdown`] does). `max_connections` is
/// at least 1.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(
        max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        // A permit before the accept: over the cap, connections wait in the backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(e) => {
                if !is_connection_error(&e) {
                    // Out of descriptors (EMFILE) and the like: wait for some to close
                    // rather than spin.
                    if cfg!(unix) && e.raw_os_error() == Some(24) {
                        eprintln!(
                            "cannot accept a connection: this process has as many files open \
                             as it may (EMFILE, `ulimit -n`); trying again in 1 s. Raise the \
                             limit, or lower --max-requests and --max-connections below it"
                        );
                    } else {
                        eprintln!("cannot accept a connection: {e}; trying again in 1 s");
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // An error is the client's (a bad or late head, a reset): the connection
            // ends either way.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// An accept error that concerns one connection only (the client went away before it
/// was accepted), not the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
