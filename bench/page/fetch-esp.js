// Anchor: fetch + ReadableStream + TextDecoderStream + eventsource-parser (npm) +
// JSON.parse, touching `seq`.
import { createParser } from 'eventsource-parser';

export async function readFetchEsp(url, n) {
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
  if (!res.ok || !res.body) throw new Error(`fetch + eventsource-parser: HTTP ${res.status}`);
  const parser = createParser({
    onEvent(event) {
      if (ms >= 0) return;
      const ev = JSON.parse(event.data);
      checksum += ev.seq;
      count += 1;
      if (count === n) ms = performance.now() - t0;
    },
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (ms < 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`fetch + eventsource-parser: the stream ended after ${count} events`);
      parser.feed(value);
    }
  } finally {
    abort.abort();
    reader.cancel().catch(() => {});
  }
  return { ms, checksum };
}
