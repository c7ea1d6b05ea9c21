// Which requests the page's Content Security Policy blocked (src/transport/dom.rs,
// `blocked_by_policy`). The browser's error for such a request is the TypeError of a
// lost network; its `securitypolicyviolation` event, a moment later, says why.

/** The latest violations, oldest first: { uri, directive, at } (`at`: performance.now()). */
const seen = [];
/** At most this many are kept. */
const KEPT = 16;
/** Called at each violation: the waiters of `blockedBy`. */
const waiters = new Set();

const now = () => (typeof globalThis.performance?.now === 'function' ? globalThis.performance.now() : 0);

// Installed as the module loads, before any request: a Document's violations reach its
// window (they bubble), a worker's its global scope.
if (typeof globalThis.addEventListener === 'function') {
  globalThis.addEventListener('securitypolicyviolation', (e) => {
    seen.push({ uri: String(e.blockedURI), directive: String(e.effectiveDirective || e.violatedDirective), at: now() });
    if (seen.length > KEPT) seen.shift();
    for (const wake of [...waiters]) wake();
  });
}

/** Whether `blocked` (a report's `blockedURI`: the URL, or its origin after a redirect)
 *  names `url`. */
function names(blocked, url) {
  if (blocked === url) return true;
  try {
    return blocked === new URL(url).origin;
  } catch {
    return false;
  }
}

/** The directive that blocked a request to `url` made at or after `since`
 *  (performance.now()), or "" when none did within `ms` of now. */
export function blockedBy(url, since, ms) {
  const find = () => seen.find((v) => v.at >= since && names(v.uri, url))?.directive ?? '';
  const found = find();
  if (found || !(ms > 0)) return Promise.resolve(found);
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      waiters.delete(check);
      resolve(find());
    };
    const check = () => {
      if (find()) finish();
    };
    const timer = setTimeout(finish, ms);
    waiters.add(check);
  });
}

/** `performance.now()`, or 0 where there is no Performance API. */
export function performanceNow() {
  return now();
}
