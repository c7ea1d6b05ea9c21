// The latency run: publish → handler on loopback at a steady rate, every reader of one
// channel at the same time, so that they all see the same events.
//
// The page publishes `{"t": performance.timeOrigin + performance.now(), "seq": i}` with
// `POST /publish` and each handler computes `timeOrigin + now() - t`: one clock. The
// publisher talks to the test server under its other loopback name (localhost vs
// 127.0.0.1), so its requests do not queue behind the readers' streams in Chromium's
// pool of 6 connections per host. Pings (seq 0) go out until every reader has one;
// then seq 1..=n at `rate` events/s.

const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Each reader: (url, n, ready) => Promise<Float64Array of n latencies in ms, by seq>.
function browserEs(url, n, ready) {
  return new Promise((resolve, reject) => {
    const lat = new Float64Array(n).fill(NaN);
    let count = 0;
    let seenReady = false;
    const es = new EventSource(url);
    es.onmessage = (e) => {
      const now = wallNow();
      const p = JSON.parse(e.data);
      if (p.seq === 0) {
        if (!seenReady) { seenReady = true; ready(); }
        return;
      }
      if (Number.isNaN(lat[p.seq - 1])) {
        lat[p.seq - 1] = now - p.t;
        if (++count === n) { es.close(); resolve(lat); }
      }
    };
    es.onerror = () => { es.close(); reject(new Error(`browser EventSource: error after ${count} events`)); };
  });
}

function jsApi(TypedEventSource, transport) {
  return (url, n, ready) => new Promise((resolve, reject) => {
    const lat = new Float64Array(n).fill(NaN);
    let count = 0;
    let seenReady = false;
    let done = false;
    const es = new TypedEventSource(url, { transport });
    const finish = (err) => {
      if (done) return;
      done = true;
      es.close();
      setTimeout(() => es.free(), 0);
      if (err) reject(err); else resolve(lat);
    };
    es.on('message', (p) => {
      const now = wallNow();
      if (done) return;
      if (p.seq === 0) {
        if (!seenReady) { seenReady = true; ready(); }
        return;
      }
      if (Number.isNaN(lat[p.seq - 1])) {
        lat[p.seq - 1] = now - p.t;
        if (++count === n) finish(null);
      }
    });
    es.onDecodeError((err) => finish(new Error(`JS API ${transport}: decode error: ${err.message}`)));
    es.onState((s) => {
      if (s.kind === 'reconnecting' || s.kind === 'closed') finish(new Error(`JS API ${transport}: ${s.kind} after ${count} events: ${s.message}`));
    });
  });
}

export function latencyReaders(TypedEventSource, oursLatency) {
  return {
    'browser-es': browserEs,
    'rust-native': (url, n, ready) => oursLatency(url, n, 'native', ready),
    'rust-fetch': (url, n, ready) => oursLatency(url, n, 'fetch', ready),
    'js-native': jsApi(TypedEventSource, 'native'),
    'js-fetch': jsApi(TypedEventSource, 'fetch'),
  };
}

// Runs `ids` of `readers` on one fresh channel; resolves to { id: Float64Array }.
export async function runLatency(readers, ids, { server, publisher, n, rate, timeoutMs }) {
  const channel = `lat-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const url = `${server}/events?channel=${channel}`;
  let failed = null;
  const publishErrors = [];
  const publish = (seq) =>
    fetch(`${publisher}/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel, data: { t: wallNow(), seq } }),
    }).then(
      (r) => { if (!r.ok) publishErrors.push(`HTTP ${r.status}`); },
      (e) => publishErrors.push(String(e)),
    );

  let readyCount = 0;
  const runs = ids.map((id) =>
    readers[id](url, n, () => { readyCount += 1; }).then(
      (lat) => [id, lat],
      (e) => { failed = failed || `${id}: ${e && e.message ? e.message : e}`; return [id, null]; },
    ));
  const all = Promise.all(runs);

  // Pings until every reader is connected and has seen one.
  const deadline = performance.now() + 15000;
  while (readyCount < ids.length && !failed) {
    if (performance.now() > deadline) throw new Error(`latency: only ${readyCount} of ${ids.length} readers connected`);
    await publish(0);
    await sleep(100);
  }
  if (failed) throw new Error(`latency: ${failed}`);
  await sleep(200);

  // seq i at start + (i - 1) / rate, not waiting for the answers.
  const period = 1000 / rate;
  const start = performance.now();
  const pending = [];
  for (let seq = 1; seq <= n && !failed; seq++) {
    const wait = start + (seq - 1) * period - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(publish(seq));
  }
  await Promise.all(pending);
  const out = await Promise.race([
    all,
    sleep(timeoutMs).then(() => { throw new Error(`latency: timed out after ${timeoutMs} ms`); }),
  ]);
  if (failed) throw new Error(`latency: ${failed}`);
  if (publishErrors.length) throw new Error(`latency: publish failed: ${publishErrors.slice(0, 3).join(', ')}`);
  const elapsed = performance.now() - start;
  return { channel, elapsedMs: elapsed, latencies: Object.fromEntries(out.map(([id, lat]) => [id, Array.from(lat)])) };
}
