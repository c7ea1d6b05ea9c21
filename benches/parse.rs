//! Parser throughput: 50,000 ~110-byte JSON events fed in 64 KiB chunks, as a
//! fetch body would deliver them, then the same events each with an `id` line.
//! Prints the median of several runs of each.
//!
//! `cargo bench --bench parse`

use std::hint::black_box;
use std::time::Instant;

use wasm_eventsource::parse::Parser;

const EVENTS: usize = 50_000;
const CHUNK: usize = 64 * 1024;
const RUNS: usize = 9;

fn stream(ids: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(EVENTS * 130);
    for seq in 1..=EVENTS {
        if ids {
            out.extend_from_slice(format!("id: {seq}\n").as_bytes());
        }
        let line = format!(
            "data: {{\"seq\":{seq},\"user\":\"user-{}\",\"text\":\"the quick brown fox jumps over the lazy dog again\",\"ok\":true}}\n\n",
            seq % 1000
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// Feeds the stream once; returns the events and data bytes seen.
fn run(input: &[u8]) -> (usize, usize) {
    let mut parser = Parser::new();
    let (mut events, mut bytes) = (0, 0);
    for chunk in input.chunks(CHUNK) {
        parser.feed(black_box(chunk));
        while let Some(event) = parser.next_event() {
            events += 1;
            bytes += black_box(event).data().len();
        }
    }
    (events, bytes)
}

fn main() {
    measure("parser", &stream(false));
    measure("parser, id per event", &stream(true));
}

/// Prints the median throughput of `RUNS` runs over `input`.
fn measure(name: &str, input: &[u8]) {
    let (events, _) = run(input);
    assert_eq!(events, EVENTS, "every event parsed");
    let mut secs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(run(black_box(input)));
            start.elapsed().as_secs_f64()
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    let median = secs[RUNS / 2];
    println!(
        "{name}: {:.0} MB/s, {:.0} events/s ({} bytes, {} events, {:.2} ms median of {RUNS})",
        input.len() as f64 / median / 1e6,
        EVENTS as f64 / median,
        input.len(),
        EVENTS,
        median * 1e3,
    );
}
