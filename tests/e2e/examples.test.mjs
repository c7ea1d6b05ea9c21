// End-to-end test of the example apps (examples/leptos-chat, examples/yew-chat), built by
// scripts/build-examples.sh into examples-dist/ and served by the test server at
// /examples/<name>/.
//
//   E2E_BASE_URL=http://127.0.0.1:PORT node tests/e2e/examples.test.mjs
//
// Opens each app in headless Chromium and checks: the state badge reads open, a message
// sent with the app's form and one sent with `POST /publish` both show in its feed, user
// text shows as text (never as markup), and no console or page errors. Screenshots go
// to target/e2e/<name>.png. Prints one line per check, then a summary line.

import {
  artifactPath, createRunner, launchBrowser, unique, waitUntil, watchPageErrors,
} from './lib.mjs';

const EXAMPLES = ['leptos-chat', 'yew-chat'];
const run = createRunner();
const base = await run.startup({
  paths: EXAMPLES.flatMap((name) => [`/examples/${name}/`, `/examples/${name}/${name.replace('-', '_')}_bg.wasm`]),
});

if (base) {
  const browser = await launchBrowser();
  try {
    for (const name of EXAMPLES) {
      const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
      try {
        await exampleChecks(name, await context.newPage());
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
}
run.finish();

async function exampleChecks(name, page) {
  const errors = watchPageErrors(page);
  // The app, loaded once: by the first check, or by the first one E2E_ONLY runs.
  let loading = null;
  const load = () => (loading ??= (async () => {
    await page.goto(`${base}/examples/${name}/`, { waitUntil: 'domcontentloaded' });
    await waitUntil(page, 'the badge to read open',
      () => document.getElementById('state')?.classList.contains('open'));
    return await page.textContent('#state');
  })());

  const opened = await run.check(`${name}: the app loads and its state badge reads open`, load);
  if (opened === false) return;

  await run.check(`${name}: a message sent with the form shows in the feed`, async () => {
    await load();
    const text = unique(`${name}-form`);
    await page.fill('#user', `${name}-e2e`);
    await page.fill('#text', text);
    await page.click('#publish button[type=submit]');
    await waitForText(page, text);
    const left = await page.inputValue('#text');
    if (left !== '') throw new Error(`#text should be cleared after sending, holds "${left}"`);
  });

  await run.check(`${name}: a message sent with POST /publish shows in the feed`, async () => {
    await load();
    const text = unique(`${name}-post`);
    await publish({ user: 'curl', text });
    await waitForText(page, text);
  });

  // Regression: the feeds kept a message when its id differed from the last one's and
  // keyed their rows by id, so an id that came back (a server that restarted numbers
  // from 1 again) made two rows with one key: Yew's debug build panicked (the app
  // stopped), Leptos showed the wrong rows.
  await run.check(`${name}: an id that comes back shows its message, and the app goes on`, async () => {
    await load();
    const id = unique(`${name}-id`);
    const texts = ['first', 'second', 'again', 'after'].map((t) => unique(`${name}-${t}`));
    for (const [i, text] of texts.entries()) await publish({ user: 'ids', text }, i === 1 ? `${id}-2` : id);
    for (const text of texts) await waitForText(page, text);
  });

  // Regression (a review): the feeds kept every message, so a tab left open on a busy
  // chat grew without bound, and each message cost a copy (Leptos) or a render (Yew)
  // of all of them. They show the newest 200.
  await run.check(`${name}: the feed shows the newest 200 messages, the last one last`, async () => {
    await load();
    const texts = Array.from({ length: 205 }, (_, i) => unique(`${name}-many-${i}`));
    for (const text of texts) await publish({ user: 'many', text });
    await waitForText(page, texts.at(-1));
    const shown = await page.evaluate(() => [...document.querySelectorAll('#feed .text')].map((el) => el.textContent));
    if (shown.length !== 200) throw new Error(`${shown.length} messages shown`);
    if (shown.at(-1) !== texts.at(-1)) throw new Error(`the feed ends ${JSON.stringify(shown.slice(-2))}`);
    if (shown.includes(texts[0])) throw new Error('the oldest is still shown');
  });

  // Regression (a review): the form's fields had placeholders only, no label, so a
  // screen reader named neither once it held text.
  await run.check(`${name}: the form's fields are labelled`, async () => {
    await load();
    const names = await page.evaluate(() => [...document.querySelectorAll('#publish input')].map((el) => [...el.labels].map((l) => l.textContent.trim()).join()));
    if (JSON.stringify(names) !== JSON.stringify(['Name', 'Message'])) throw new Error(`labels ${JSON.stringify(names)}`);
  });

  await run.check(`${name}: user text shows as text, never as markup`, async () => {
    await load();
    const text = `<img src=x onerror="window.__pwned=1"><b>${unique('markup')}</b>`;
    await publish({ user: '<i>who</i>', text });
    await waitForText(page, text);
    const markup = await page.evaluate(() => ({
      elements: document.querySelectorAll('#feed img, #feed .text b, #feed .user i').length,
      pwned: Boolean(window.__pwned),
    }));
    if (markup.elements > 0 || markup.pwned) {
      throw new Error(`the feed rendered user text as HTML: ${JSON.stringify(markup)}`);
    }
  });

  await run.check(`${name}: no console or page errors`, async () => {
    await load();
    await page.screenshot({ path: artifactPath(`${name}.png`), fullPage: true });
    const unexpected = errors.unexpected();
    if (unexpected.length) {
      throw new Error(unexpected.map((e) => `${e.kind}: ${e.text}${e.url ? ` (${e.url})` : ''}`).join('\n'));
    }
    return `screenshot target/e2e/${name}.png`;
  });
}

/** Waits until a feed entry's text is exactly `text`. */
async function waitForText(page, text) {
  await waitUntil(page, `"${text}" in the feed`,
    (t) => [...document.querySelectorAll('#feed .text')].some((el) => el.textContent === t), text);
}

/** Publishes a `chat` event on the `chat` channel, as the apps' forms do. */
async function publish(data, id = undefined) {
  const response = await fetch(`${base}/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel: 'chat', event: 'chat', data, id }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`POST /publish answered HTTP ${response.status}: ${await response.text()}`);
}
