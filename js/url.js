// Internal to the package's entries (js/index.js, js/shared.js): not an entry itself.

/** `url` resolved as EventSource resolves it: against the document's base URL (which a
 *  `<base>` element sets), or a worker's location; undefined when it does not parse. */
export function absolute(url) {
  const base = typeof document !== 'undefined' ? document.baseURI : globalThis.location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
}
