// The one way this project starts a browser: the system Chromium (Debian's package),
// through playwright-core, with the flags this machine needs (see shared/TOOLCHAIN.md).
// Test tools that download a browser of their own fail here.

export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  // Without these Chromium keeps dialling Google's hosts, which this network refuses.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches the system Chromium headless, with `extraArgs` after the standard flags.
 *  `backForwardCache: true` keeps the back/forward cache on, as in a user's browser
 *  (playwright turns it off by default). */
export async function launchChromium(extraArgs = [], { backForwardCache = false } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ...(backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
}
