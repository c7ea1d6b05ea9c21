// Internal to the package's entries (js/index.js, js/shared.js): not an entry itself.

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
