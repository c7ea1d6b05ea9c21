// Anchor: the browser's own EventSource + JSON.parse, touching `seq`.
export function readNative(url, n) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let checksum = 0;
    const t0 = performance.now();
    const es = new EventSource(url);
    es.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      checksum += ev.seq;
      count += 1;
      if (count === n) {
        const ms = performance.now() - t0;
        es.close();
        resolve({ ms, checksum });
      }
    };
    // With `then=idle` the stream never ends: any error (even one the browser would
    // retry) would replay the burst and spoil the figures, so it fails the run.
    es.onerror = () => {
      es.close();
      reject(new Error(`browser EventSource: error after ${count} events`));
    };
  });
}
