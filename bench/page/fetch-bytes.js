// Reference ceiling, not an anchor: fetch + ReadableStream reading the bytes and
// counting blank lines ("\n\n", one per burst event), with no decoding or parsing.
// It shows how fast the browser can deliver the body at all.
export async function readFetchBytes(url, n) {
  let count = 0;
  let ms = -1;
  let prev = 0;
  const t0 = performance.now();
  const abort = new AbortController();
  const res = await fetch(url, { cache: 'no-store', signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`fetch bytes: HTTP ${res.status}`);
  const reader = res.body.getReader();
  try {
    while (ms < 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`fetch bytes: the stream ended after ${count} events`);
      for (let i = 0; i < value.length; i++) {
        const b = value[i];
        if (b === 10 && prev === 10 && ++count === n) {
          ms = performance.now() - t0;
          break;
        }
        prev = b;
      }
    }
  } finally {
    abort.abort();
    reader.cancel().catch(() => {});
  }
  // No payload is read, so there is no seq to sum: the driver checks the count.
  return { ms, checksum: null, count };
}
