// A page that imports the npm package unbundled (js/index.js and pkg-web/), for the
// end-to-end checks that run code in it: tests/e2e/package.test.mjs (the JavaScript
// API) and tests/e2e/dropin.test.mjs (EventSource conformance).

import { REPO_ROOT, serveStatic, waitUntil } from '../e2e/lib.mjs';

/** Serves the repository (js/, pkg-web/ and this page) on a loopback port: resolves
 *  with { origin, close }. `proxy`: an origin that gets every other request;
 *  `headers`: more response headers (see serveStatic). */
export function servePackage({ proxy, headers } = {}) {
  return serveStatic(REPO_ROOT, { proxy, headers });
}

/**
 * Opens tests/package/page.html from `site` in a new page of `browser` and waits for the
 * package to load (`window.TypedEventSource`). `base`: the page's `<base href>`, so
 * relative URLs resolve against the event server. `init`: a script run in the page
 * before any other (playwright's addInitScript). Resolves with the page.
 */
export async function openPackagePage(browser, site, { base, init } = {}) {
  const page = await browser.newPage();
  try {
    if (init) await page.addInitScript(init);
    const query = base ? `?base=${encodeURIComponent(`${base}/`)}` : '';
    await page.goto(`${site.origin}/tests/package/page.html${query}`);
    const error = await waitUntil(page, 'the package to load in the page', () => window.packageReady || window.packageError);
    if (error !== true) throw new Error(`the package failed to load: ${error}`);
    return page;
  } catch (e) {
    await page.close();
    throw e;
  }
}
