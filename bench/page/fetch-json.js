// A floor, not a client: fetch + ReadableStream, each chunk decoded by one TextDecoder,
// events found by "\n\n" and their one `data:` line handed to JSON.parse, touching
// `seq`. No SSE parsing beyond that (no other fields, no CR, no multi-line data, no
// retry, no ids): the least any JavaScript reader of this stream that hands the app
// parsed JSON does. The anchor (fetch-esp.js) is this plus eventsource-parser; ours is
// this plus the SSE work, so its ratio to the anchor bounds what the targets can ask.
export async function readFetchJson(url, n) {
  let count = 0;
  let checksum = 0;
  let ms = -1;
  const t0 = performance.now();
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { Accept: 'text/event-stream' },
    cache: 'no-store',
    signal: abort.signal,
  });
  if (!res.ok || !res.body) throw new Error(`fetch + JSON.parse floor: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    while (ms < 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`fetch + JSON.parse floor: the stream ended after ${count} events`);
      buf += decoder.decode(value, { stream: true });
      let start = 0;
      let end;
      while ((end = buf.indexOf('\n\n', start)) >= 0) {
        const data = buf.indexOf('data:', start);
        if (data >= 0 && data < end) {
          const ev = JSON.parse(buf.slice(data + 5, buf.indexOf('\n', data)));
          checksum += ev.seq;
          if (++count === n) {
            ms = performance.now() - t0;
            break;
          }
        }
        start = end + 2;
      }
      buf = buf.slice(start);
    }
  } finally {
    abort.abort();
    reader.cancel().catch(() => {});
  }
  return { ms, checksum };
}
