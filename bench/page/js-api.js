// Ours, the JS API: the npm package's web build (pkg-web, served at /pkg-web/),
// `new TypedEventSource(url, { transport })` and `es.on("message", (data, meta) => ...)`,
// touching `seq`; closed after the nth event.
export function readJsApi(TypedEventSource, url, n, transport) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let checksum = 0;
    let done = false;
    const t0 = performance.now();
    const es = new TypedEventSource(url, { transport });
    const finish = (err, ms) => {
      if (done) return;
      done = true;
      es.close();
      // Freed outside the callback that ends the run.
      setTimeout(() => es.free(), 0);
      if (err) reject(err);
      else resolve({ ms, checksum });
    };
    es.on('message', (data, meta) => {
      if (done) return;
      checksum += data.seq;
      count += 1;
      if (count === n) finish(null, performance.now() - t0);
    });
    es.onDecodeError((err) => finish(new Error(`JS API ${transport}: decode error after ${count} events: ${err.message}`)));
    // With `then=idle` the stream never ends: a reconnect would replay the burst.
    es.onState((state) => {
      if (state.kind === 'reconnecting' || state.kind === 'closed') {
        finish(new Error(`JS API ${transport}: ${state.kind} after ${count} events: ${state.message}`));
      }
    });
  });
}
