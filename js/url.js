// Internal to the package's entries (js/index.js, js/shared.js): not an entry itself.
// How they both read a URL and options.

/** The options a source reads, and those of its `retry`: the constructor reads each
 *  by name (own or inherited, a getter's value), and a hook's connection key too. */
export const OPTION_KEYS = 'withCredentials transport method body headers lastEventId resumeParam heartbeatMs heartbeatEvent retryMs retry reconnectOnOnline pauseWhenHidden dedupe maxEventSize mode doneData retryRequest share'.split(' ');
export const RETRY_KEYS = 'baseMs maxMs floorMs maxAttempts maxElapsedMs jitter'.split(' ');

/** `url` resolved as EventSource resolves it: against the document's base URL (which a
 *  `<base>` element sets), or a worker's location; undefined when it does not parse. */
export function absolute(url) {
  // (As the core's `base_url`: a `document` without a string `baseURI`, a worker
  // polyfill's, is no document.)
  const base = typeof globalThis.document?.baseURI === 'string' ? document.baseURI : globalThis.location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
}
