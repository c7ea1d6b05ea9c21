// What the transports ask of the browser in JavaScript (src/transport/dom.rs): the
// resume parameter set in a URL's query, smaller here than in the wasm; and which
// requests the page's Content Security Policy blocked. One snippet for both: each is
// one more module a page loads, and with the second one in its own file the page of
// tests/json_parse.rs stalled at load now and then (the runner's server left a request
// of the page unread); see scripts/test.sh.

/** `url` with `param=id` in its query, the other pairs left as they are written:
 *  URLSearchParams.set would write them all again in its own form (`%20` as `+`, `,`
 *  as `%2C`, `flag` as `flag=`), which a server that signs the query would refuse.
 *  Throws for a URL that does not parse. */
export function withQuery(url, param, id) {
  const parsed = new URL(url);
  const name = encodeURIComponent(param);
  const pairs = parsed.search.slice(1).split('&').filter((pair) => {
    const key = pair.split('=')[0];
    return pair && key !== name && key !== param;
  });
  pairs.push(`${name}=${encodeURIComponent(id)}`);
  parsed.search = pairs.join('&');
  return parsed.href;
}

// Which requests the page's Content Security Policy blocked (`blocked_by_policy`). The
// browser's error for such a request is the TypeError of a lost network; its
// `securitypolicyviolation` event, a moment later, says why. Only a policy enforced
// blocks (a report-only one, `Content-Security-Policy-Report-Only`, reports every
// request to an origin it does not list, and lets each through), and only by the
// directive that governs the transports' requests, `connect-src` or its fallback.

/** The latest violations, oldest first: { uri, directive, at } (`at`: performance.now()). */
const seen = [];
/** At most this many are kept. */
const KEPT = 16;
/** Called at each violation: the waiters of `blockedBy`. */
const waiters = new Set();

// The clock of the transports' deadlines too (`dom::now`): it runs at the pace of the
// browser's timers, and no change of the system's clock moves it. `Date.now()` where
// there is no Performance API.
const perf = globalThis.performance;
/** `performance.now()`, or `Date.now()` where there is no Performance API (the wasm's
 *  `dom::now`, called as it is: one call, no wrapper). */
export const performanceNow = typeof perf?.now === 'function' ? () => perf.now() : () => Date.now();
const now = performanceNow;

// Installed as the module loads, before any request: a Document's violations reach its
// window (they bubble), a worker's its global scope.
if (typeof globalThis.addEventListener === 'function') {
  globalThis.addEventListener('securitypolicyviolation', (e) => {
    const directive = String(e.effectiveDirective || e.violatedDirective);
    if (e.disposition === 'report' || !/^(connect|default)-src\b/.test(directive)) return;
    seen.push({ uri: String(e.blockedURI), directive, at: now() });
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

