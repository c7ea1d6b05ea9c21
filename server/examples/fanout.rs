//! Fan-out benchmark: events per second delivered to many local `/events` subscribers
//! of one instance, with the in-memory broker and with the Redis broker.
//!
//! ```text
//! cargo run -p wasm-eventsource-server --release --example fanout -- \
//!     [--redis URL] [--subscribers N] [--events N]
//! ```
//!
//! Without `--redis` it starts its own `redis-server` on a free loopback port (as the
//! tests do) and stops it at the end. Prints one line:
//!
//! ```text
//! fanout: 1000 subscribers, 1000 events: in-memory X events/s delivered, redis Y events/s delivered
//! ```
//!
//! Subscribers that fall behind are cut off by the server and resume by Last-Event-ID,
//! as browsers do; a run counts only when every subscriber got every event.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use wasm_eventsource_server::testing::{serve_on_loopback, RedisProcess};
use wasm_eventsource_server::{AppState, Config};

const PUBLISHERS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(120);

struct Options {
    redis: Option<String>,
    subscribers: usize,
    events: usize,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        redis: None,
        subscribers: 1000,
        events: 1000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{flag}` needs a value"));
        match flag.as_str() {
            "--redis" => options.redis = Some(value()?),
            "--subscribers" => {
                options.subscribers = value()?.parse().map_err(|_| "--subscribers N")?;
            }
            "--events" => options.events = value()?.parse().map_err(|_| "--events N")?,
            _ => {
                return Err(format!(
                    "unknown argument `{flag}`; use [--redis URL] [--subscribers N] [--events N]"
                ))
            }
        }
    }
    Ok(options)
}

/// Reads one subscriber's stream until it has `total` events, resuming by
/// Last-Event-ID when the server ends it.
async fn subscribe(
    client: reqwest::Client,
    url: String,
    total: usize,
    opened: tokio::sync::oneshot::Sender<()>,
) -> Result<(), String> {
    let mut opened = Some(opened);
    let mut last: Option<String> = None;
    let mut count = 0;
    while count < total {
        let mut request = client.get(&url);
        if let Some(last) = &last {
            request = request.header("last-event-id", last);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if let Some(opened) = opened.take() {
            let _ = opened.send(());
        }
        let mut body = response.bytes_stream();
        let mut line = Vec::new();
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { break };
            for &byte in chunk.iter() {
                if byte != b'\n' {
                    line.push(byte);
                    continue;
                }
                if let Some(id) = line.strip_prefix(b"id: ") {
                    count += 1;
                    last = Some(String::from_utf8_lossy(id).into_owned());
                }
                line.clear();
            }
            if count >= total {
                break;
            }
        }
    }
    Ok(())
}

/// Events per second delivered to `subscribers` streams of one instance.
async fn run(config: Config, options: &Options) -> Result<f64, String> {
    let state = AppState::try_new(config)?;
    let base = serve_on_loopback(&state).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(PUBLISHERS)
        .build()
        .map_err(|e| e.to_string())?;
    let mut subscribers = Vec::new();
    for _ in 0..options.subscribers {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // keepalive_ms=0: only events on the wire.
        let url = format!("{base}/events?channel=fanout&keepalive_ms=0");
        subscribers.push(tokio::spawn(subscribe(
            client.clone(),
            url,
            options.events,
            tx,
        )));
        rx.await.map_err(|_| "a subscriber failed to open")?;
    }
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
        let (client, next, base, total) = (
            client.clone(),
            Arc::clone(&next),
            base.clone(),
            options.events,
        );
        publishers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), String>(());
                }
                let body = serde_json::json!({"channel": "fanout", "data": {"n": n, "pad": "x".repeat(64)}});
                let response = client
                    .post(format!("{base}/publish"))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("publish answered {}", response.status()));
                }
            }
        }));
    }
    for publisher in publishers {
        publisher.await.map_err(|e| e.to_string())??;
    }
    for subscriber in subscribers {
        tokio::time::timeout(DEADLINE, subscriber)
            .await
            .map_err(|_| "subscribers did not get every event in time")?
            .map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    state.shutdown();
    Ok((options.subscribers * options.events) as f64 / elapsed.max(1e-9))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let base = Config {
        ticker: None,
        // Every subscriber's stream counts against it, and the publishers' requests.
        max_requests: options
            .subscribers
            .saturating_add(PUBLISHERS + 16)
            .max(Config::default().max_requests),
        ..Config::default()
    };
    let memory = match run(base.clone(), &options).await {
        Ok(rate) => rate,
        Err(message) => {
            eprintln!("error: in-memory run: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut own = None;
    let url = match &options.redis {
        Some(url) => url.clone(),
        None => match RedisProcess::start() {
            Ok(redis) => own.insert(redis).url(),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        },
    };
    let redis = match run(
        Config {
            redis: Some(url),
            ..base
        },
        &options,
    )
    .await
    {
        Ok(rate) => rate,
        Err(message) => {
            eprintln!("error: redis run: {message}");
            return ExitCode::FAILURE;
        }
    };
    drop(own);
    println!(
        "fanout: {} subscribers, {} events: in-memory {:.0} events/s delivered, redis {:.0} events/s delivered",
        options.subscribers, options.events, memory, redis
    );
    ExitCode::SUCCESS
}
