// Demo page for wasm-eventsource.
//
// A chat runs over one TypedEventSource (channel `chat`), a ticker over another
// (channel `ticker`), and every state the chat source reports is shown in the
// header badge and the timeline. The Ask panel POSTs a prompt to the test server's
// OpenAI-style scenario in request mode and shows the answer as it streams. User
// and server data reach the DOM only through textContent and createElement.
//
// `createSource` is the one place that opens the subscriptions and `renderState`
// the one place that draws their connection state; `startAsk` opens the requests
// and `renderAskState` draws theirs.

const MAX_TIMELINE = 50;
const MAX_FEED = 200;
/** Characters of one feed item's text, and of its user, shown. */
const MAX_ITEM_CHARS = 4_000;
const MAX_USER_CHARS = 200;
const MAX_ERRORS = 50;
/** The answer shown keeps its first this many characters (1000 tokens can be ~41,000). */
const MAX_ANSWER_CHARS = 20_000;
/** An error body is shown up to this many characters (the library keeps 64 KiB). */
const MAX_ERROR_BODY_CHARS = 4_000;
/** States of one request listed in its detail line (the newest). */
const MAX_ASK_TRAIL = 8;
/** The test server's OpenAI Chat Completions imitation (server/src/scenario/llm). */
const ASK_ROUTE = '/scenario/llm/openai-chat';
const ASK_LABELS = {
  idle: 'Idle',
  connecting: 'Sending',
  open: 'Streaming',
  reconnecting: 'Retrying',
  closed: 'Closed',
};
/** Badge text of the close reasons worth a word of their own. */
const ASK_CLOSED_LABELS = { completed: 'Completed', client: 'Stopped', interrupted: 'Interrupted' };
const BADGE_LABELS = {
  connecting: 'Connecting',
  open: 'Open',
  reconnecting: 'Reconnecting',
  closed: 'Closed',
};

const ui = {
  badge: byId('state-badge'),
  detail: byId('state-detail'),
  feed: byId('feed'),
  // The feed's scrolling box, the log region (a list inside it keeps its list role).
  feedLog: byId('feed-log'),
  form: byId('publish-form'),
  name: byId('name'),
  message: byId('message'),
  send: byId('send'),
  publishError: byId('publish-error'),
  transport: byId('transport'),
  share: byId('share'),
  shareRole: byId('share-role'),
  streamsChat: byId('streams-chat'),
  streamsAll: byId('streams-all'),
  drop: byId('drop'),
  fail: byId('fail'),
  reconnect: byId('reconnect'),
  controlStatus: byId('control-status'),
  ticker: byId('ticker'),
  tickN: byId('tick-n'),
  tickTime: byId('tick-time'),
  tickerStatus: byId('ticker-status'),
  timeline: byId('timeline'),
  errors: byId('errors'),
  askPanel: byId('ask-panel'),
  askForm: byId('ask-form'),
  prompt: byId('prompt'),
  askTokens: byId('ask-tokens'),
  askPace: byId('ask-pace'),
  askRefuse: byId('ask-refuse'),
  askStop: byId('ask-stop'),
  askBadge: byId('ask-badge'),
  askDetail: byId('ask-detail'),
  askAnswer: byId('ask-answer'),
  askCount: byId('ask-count'),
  askError: byId('ask-error'),
  askErrorTitle: byId('ask-error-title'),
  askErrorBody: byId('ask-error-body'),
};

/** The package's class, set once the wasm module is initialised. */
let TypedEventSource = null;

/** The chat source; `generation` tells the current source's callbacks from stale ones. */
const chat = { source: null, generation: 0, lastId: '' };
/** Kept referenced: a source the page let go of could be finalised, which closes it. */
let tickerSource = null;
/**
 * The Ask request: its source (kept until the next question, so a state reported
 * from inside the library never meets a freed object), `generation` to tell its
 * callbacks from a replaced one's, the answer's text node, and what was counted.
 */
const ask = { source: null, generation: 0, text: null, tokens: 0, cut: false, trail: [], refused: null };

let timelineSeq = 0;

main();

async function main() {
  wireControls();
  watchExampleLinks();
  try {
    const pkg = await import('./pkg/wasm_eventsource.js');
    await pkg.default();
    TypedEventSource = pkg.TypedEventSource;
  } catch (err) {
    showError('package', 'The wasm package failed to load',
      `${describe(err)}. Build it with \`npm run build\` (or start the demo with \`npm start\`, which builds it), or point the server's --pkg at a built package, then reload.`);
    renderState({ kind: 'closed', reason: 'package', message: 'the wasm package failed to load' }, '');
    return;
  }
  openChat(ui.transport.value);
  openTicker();
  watchServerStreams();
  document.body.dataset.ready = 'true';
}

/** `localStorage[key]`, or null where the page may not use storage. */
function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Sets `localStorage[key]`, where the page may use storage. */
function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {}
}

function wireControls() {
  ui.form.addEventListener('submit', publish);
  ui.transport.addEventListener('change', () => openChat(ui.transport.value));
  // The choice is kept for the next tab of the demo, so tabs opened after it share too
  // (where the page may use storage: reading it throws where site data is blocked).
  ui.share.checked = stored('wasm-eventsource-demo-share') === 'on';
  ui.share.addEventListener('change', () => {
    store('wasm-eventsource-demo-share', ui.share.checked ? 'on' : 'off');
    openChat(ui.transport.value);
  });
  ui.reconnect.addEventListener('click', () => {
    // A closed source cannot come back: open a new one, resuming where it was.
    if (!chat.source || chat.source.readyState === 2) {
      ui.controlStatus.textContent = openChat(ui.transport.value)
        ? 'Reopened the chat stream.'
        : 'Could not reopen the chat stream (see Errors).';
    } else {
      chat.source.reconnect();
      ui.controlStatus.textContent = 'Asked the chat stream to reconnect now.';
    }
  });
  ui.drop.addEventListener('click', () =>
    control(ui.drop, '/control/drop?channel=chat', 'Dropped the live chat streams.'));
  ui.fail.addEventListener('click', () =>
    control(ui.fail, '/control/fail?channel=chat&count=3&status=503',
      'The next 3 chat connection attempts will fail with HTTP 503.'));
  ui.askForm.addEventListener('submit', startAsk);
  ui.askStop.addEventListener('click', stopAsk);
}

// ---------------------------------------------------------------- sources

/** Absolute URL of a channel's stream. */
function eventsUrl(channel) {
  const url = new URL('/events', window.location.href);
  url.searchParams.set('channel', channel);
  return url.href;
}

/**
 * Opens a TypedEventSource and attaches its handlers. Throws what the constructor throws.
 * The library resumes after `lastEventId` (and after every reconnect) and drops any event
 * whose id it already delivered, so the page never sees a repeat.
 */
function createSource({ channel, transport, lastEventId, events, onState, onDecodeError, share = false }) {
  const options = { withCredentials: false, transport, dedupe: true, share };
  if (lastEventId) options.lastEventId = lastEventId;
  const source = new TypedEventSource(eventsUrl(channel), options);
  try {
    for (const [type, handler] of Object.entries(events)) source.on(type, handler);
    source.onDecodeError(onDecodeError);
    source.onState(onState);
  } catch (err) {
    dispose(source);
    throw err;
  }
  return source;
}

/** Closes a source and frees its wasm memory (its handlers and browser resources). */
function dispose(source) {
  source.close();
  if (typeof source.free === 'function') source.free();
}

/** Closes the current chat source (if any) and opens one with `transport`, resuming
 *  where it was. Returns whether it opened one. */
function openChat(transport) {
  if (!TypedEventSource) return false;
  const previous = chat.source;
  const resumeFrom = (previous && previous.lastEventId) || chat.lastId;
  const generation = ++chat.generation;
  const isCurrent = () => generation === chat.generation;
  chat.source = null;
  if (previous) dispose(previous);
  try {
    chat.source = createSource({
      channel: 'chat',
      transport,
      lastEventId: resumeFrom,
      // `reset` too: the server sends it (without an id) when it no longer holds the
      // id this page resumes from (it restarted, or dropped old messages). The feed
      // starts again then: a restarted server gives the same ids again.
      events: { chat: addMessage, reset: historyLost },
      onState: (state) => recordState(state, transport, isCurrent()),
      onDecodeError: (err) => showDecodeError('chat', err),
      share: ui.share.checked,
    });
    chat.source.onShareRole((role, followers) => {
      if (!isCurrent()) return;
      ui.shareRole.textContent = role === 'leader' ? `leader (${followers} following)` : role;
      ui.shareRole.dataset.role = role;
    });
    return true;
  } catch (err) {
    const message = describe(err);
    showError('source', `Could not open the chat stream with the ${transport} transport`, message);
    recordState({ kind: 'closed', reason: 'not-started', message }, transport, true);
    return false;
  }
}

/** The server's count of open /events streams (GET /stats), 2 s after the last answer
 *  (one request at a time, however slow the server): with sharing on, several tabs of
 *  the demo hold one chat stream between them. */
function watchServerStreams() {
  const show = async () => {
    try {
      // (A request that never settles would stop the count for good: 10 s at most.)
      const response = await fetch('/stats', { signal: AbortSignal.timeout(10_000) });
      // (Over its request cap the server answers 503 with a JSON error: no counts.)
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const stats = await response.json();
      ui.streamsChat.textContent = String(stats.perChannel?.chat ?? 0);
      ui.streamsAll.textContent = String(stats.connections ?? 0);
    } catch {
      ui.streamsChat.textContent = '?';
      ui.streamsAll.textContent = '?';
    }
    setTimeout(show, 2000);
  };
  show();
}

function openTicker() {
  try {
    tickerSource = createSource({
      channel: 'ticker',
      transport: 'native',
      // The ticks after a `reset` (a server restart) count from 1 again; the next one
      // shows, so there is nothing else to do.
      events: { tick: showTick },
      onState: tickerState,
      onDecodeError: (err) => showDecodeError('ticker', err),
    });
  } catch (err) {
    showError('source', 'Could not open the ticker stream', describe(err));
  }
}

// ---------------------------------------------------------------- state

/** Every chat state goes to the timeline; only the current source's state drives the badge. */
function recordState(state, transport, current) {
  addTimelineEntry(state, transport);
  if (current) renderState(state, transport);
}

function renderState(state, transport) {
  const kind = BADGE_LABELS[state.kind] ? state.kind : 'closed';
  ui.badge.textContent = BADGE_LABELS[kind];
  ui.badge.dataset.kind = kind;
  ui.badge.dataset.transport = transport;
  const details = stateDetails(state);
  if (transport) details.unshift(transport);
  ui.detail.textContent = details.join(' · ');
  ui.detail.title = ui.detail.textContent;
  ui.reconnect.classList.toggle('attention', kind === 'closed');
}

/** Human-readable parts of a state: attempt, delay, cause, close reason and message. */
function stateDetails(state) {
  const parts = [];
  if (state.attempt !== undefined && state.attempt !== null) parts.push(`attempt ${state.attempt}`);
  if (state.kind === 'reconnecting') {
    parts.push(state.delayMs === null || state.delayMs === undefined
      ? 'delay chosen by the browser'
      : `retry in ${formatDelay(state.delayMs)}`);
  }
  if (state.cause) parts.push(String(state.cause));
  if (state.kind === 'reconnecting' && state.status !== undefined) parts.push(`HTTP ${state.status}`);
  if (state.kind === 'reconnecting') {
    // What the server said (its JSON error), else the library's words for the cause (a
    // network error's, the heartbeat's timeout).
    const said = errorMessage(state.body);
    const why = typeof state.message === 'string' ? state.message.split(') after ')[1] : '';
    if (said) parts.push(`it said: ${cutText(said, 300)}`);
    else if (state.cause !== 'http-status' && why) parts.push(why);
  }
  if (state.kind === 'closed') {
    if (state.reason) parts.push(`reason: ${state.reason}`);
    if (state.attempts !== undefined) parts.push(`after ${state.attempts} retries`);
    if (state.received !== undefined) parts.push(`${state.received} events received`);
    if (state.status !== undefined && state.status !== null) parts.push(`HTTP ${state.status}`);
    if (state.contentType) parts.push(`content type ${state.contentType}`);
    if (state.message) parts.push(String(state.message));
  }
  return parts;
}

function addTimelineEntry(state, transport) {
  const item = el('li', { kind: String(state.kind), seq: String(++timelineSeq), transport });
  if (state.reason) item.dataset.reason = String(state.reason);
  item.append(
    timeElement(new Date()),
    el('span', { class: 'kind' }, String(state.kind)),
    el('span', { class: 'transport' }, transport),
    el('span', { class: 'details' }, stateDetails(state).join(' · ')),
  );
  ui.timeline.prepend(item);
  trimList(ui.timeline, MAX_TIMELINE);
}

function tickerState(state) {
  ui.ticker.dataset.state = String(state.kind);
  // In words too, not by the dimmed number alone.
  const words = { connecting: 'connecting…', reconnecting: 'connection lost, reconnecting…', closed: 'closed' };
  ui.tickerStatus.textContent = words[state.kind] ?? '';
  if (state.kind === 'closed' && state.reason !== 'client') {
    showError('source', 'The ticker stream closed', `${stateDetails(state).join(' · ')}. Reload the page to open it again.`);
  }
}

// ---------------------------------------------------------------- messages

function addMessage(data, meta) {
  const id = meta && meta.lastEventId ? String(meta.lastEventId) : '';
  if (id) chat.lastId = id;
  const stick = isNearBottom(ui.feedLog);
  ui.feed.append(messageItem(data, id));
  // The feed keeps the newest MAX_FEED messages (newest last).
  while (ui.feed.children.length > MAX_FEED) ui.feed.firstElementChild.remove();
  if (stick) ui.feedLog.scrollTop = ui.feedLog.scrollHeight;
}

/** The server's `reset`: it no longer holds the messages after the id this page resumed
 *  from (it restarted, or dropped them), and what it holds follows. The feed starts
 *  again, as the ids it shows may be given again. */
function historyLost(data) {
  const after = data && typeof data.lastEventId === 'string' && data.lastEventId
    ? ` after #${data.lastEventId}` : '';
  ui.feed.replaceChildren(el('li', { class: 'notice' },
    `The server no longer holds the messages${after} (it restarted, or dropped them); what it holds follows.`));
}

function messageItem(data, id) {
  const isObject = data !== null && typeof data === 'object';
  // (Cut: 200 items of up to 1 MiB each would be 200 MiB of page.)
  const user = cutText(isObject && typeof data.user === 'string' ? data.user : 'unknown', MAX_USER_CHARS);
  const text = cutText(isObject && typeof data.text === 'string' ? data.text : JSON.stringify(data), MAX_ITEM_CHARS);
  const item = el('li', { id });
  item.append(
    el('span', { class: 'user' }, user),
    el('span', { class: 'text' }, text),
  );
  if (id) item.append(el('span', { class: 'msg-id' }, `#${id}`));
  return item;
}

function showTick(data) {
  const n = data && data.n !== undefined ? String(data.n) : '?';
  const time = data && typeof data.time === 'number' ? new Date(data.time) : null;
  ui.tickN.textContent = n;
  ui.ticker.dataset.n = n;
  if (time && !Number.isNaN(time.getTime())) {
    ui.tickTime.dateTime = time.toISOString();
    ui.tickTime.textContent = formatClock(time);
  } else {
    ui.tickTime.removeAttribute('datetime');
    ui.tickTime.textContent = 'no time in the event';
  }
}

// ---------------------------------------------------------------- ask

/** The answer route for one question, `token` naming it in the server's request log. */
function askUrl({ tokens, pace, refuse, token }) {
  const url = new URL(ASK_ROUTE, window.location.href);
  url.searchParams.set('tokens', String(tokens));
  url.searchParams.set('pace_ms', String(pace));
  url.searchParams.set('token', token);
  if (refuse) {
    // The server answers 429 with an OpenAI-style JSON body and Retry-After: 1;
    // `once`: only the first request of this token, so the retry gets the answer.
    url.searchParams.set('refuse', '429');
    url.searchParams.set('retry_after', '1');
    if (refuse === 'once') url.searchParams.set('times', '1');
  }
  return url.href;
}

/** Sends the prompt as a POST in request mode; the answer streams into #ask-answer. */
function startAsk(event) {
  event.preventDefault();
  if (!TypedEventSource) {
    renderAskState({ kind: 'closed', reason: 'package', message: 'the wasm package is not loaded' });
    return;
  }
  const prompt = ui.prompt.value.trim();
  const tokens = intIn(ui.askTokens.value, 1, 1000);
  const pace = intIn(ui.askPace.value, 0, 2000);
  if (!prompt || tokens === null || pace === null) {
    // The form's own checks (required, min, max) normally stop this first.
    showAskError('Cannot ask', 'Enter a prompt, 1 to 1000 tokens and a pace of 0 to 2000 ms.', '');
    return;
  }
  const refuse = ui.askRefuse.value;
  // Callbacks of the request being replaced are stale from here on.
  const generation = ++ask.generation;
  const isCurrent = () => generation === ask.generation;
  const previous = ask.source;
  ask.source = null;
  if (previous) dispose(previous);

  const token = `ask-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  resetAsk(token);
  const options = {
    mode: 'request',
    transport: 'fetch',
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: prompt }] }),
    // A refusal is shown at once; otherwise a refusal or network error before the
    // first byte is sent again (nothing was consumed yet), at most 3 times.
    retry: { maxAttempts: refuse === 'always' ? 0 : 3 },
  };
  let source = null;
  try {
    source = new TypedEventSource(askUrl({ tokens, pace, refuse, token }), options);
    source.on('message', (data) => { if (isCurrent()) addAnswerToken(data); });
    source.onDecodeError((err) => showDecodeError('ask', err));
    source.onState((state) => { if (isCurrent()) renderAskState(state); });
  } catch (err) {
    if (source) dispose(source);
    const message = describe(err);
    showError('source', 'Could not send the question', message);
    renderAskState({ kind: 'closed', reason: 'not-started', message });
    return;
  }
  ask.source = source;
}

/** Stop: closing the source aborts the request; the state becomes closed by `client`. */
function stopAsk() {
  if (ask.source && ask.source.readyState !== 2) ask.source.close();
}

/** Clears the panel for a new question. */
function resetAsk(token) {
  ask.text = document.createTextNode('');
  ask.tokens = 0;
  ask.cut = false;
  ask.trail = [];
  ask.refused = null;
  ui.askAnswer.replaceChildren(ask.text);
  ui.askAnswer.dataset.tokens = '0';
  ui.askCount.textContent = '0 tokens';
  ui.askPanel.dataset.token = token;
  // Until the new source reports, the badge must not show the last request's end.
  ui.askBadge.textContent = ASK_LABELS.connecting;
  ui.askBadge.dataset.kind = 'connecting';
  delete ui.askBadge.dataset.reason;
  ui.askDetail.textContent = '';
  ui.askDetail.title = '';
  showAskError('', '', '');
  ui.askStop.disabled = false;
}

/** One Chat Completions chunk: its `choices[0].delta.content`, if any, joins the answer. */
function addAnswerToken(data) {
  const choice = data && Array.isArray(data.choices) ? data.choices[0] : null;
  const delta = choice && choice.delta;
  const content = delta && typeof delta.content === 'string' ? delta.content : '';
  if (!content) return;
  ask.tokens += 1;
  ui.askAnswer.dataset.tokens = String(ask.tokens);
  ui.askCount.textContent = `${ask.tokens} ${ask.tokens === 1 ? 'token' : 'tokens'}`;
  if (ask.cut) return;
  const stick = isNearBottom(ui.askAnswer);
  const room = MAX_ANSWER_CHARS - ask.text.length;
  if (content.length <= room) {
    ask.text.appendData(content);
  } else {
    ask.text.appendData(cutText(content, room));
    ask.cut = true;
    ui.askAnswer.append(el('span', { class: 'cut' }, ` … (the rest is not shown: over ${MAX_ANSWER_CHARS} characters)`));
  }
  if (stick) ui.askAnswer.scrollTop = ui.askAnswer.scrollHeight;
}

function renderAskState(state) {
  const kind = ASK_LABELS[state.kind] && state.kind !== 'idle' ? state.kind : 'closed';
  const reason = kind === 'closed' && state.reason ? String(state.reason) : '';
  ui.askBadge.textContent = ASK_CLOSED_LABELS[reason] || ASK_LABELS[kind];
  ui.askBadge.dataset.kind = kind;
  if (reason) ui.askBadge.dataset.reason = reason;
  else delete ui.askBadge.dataset.reason;

  ask.trail.push(reason ? `${kind} (${reason})` : kind);
  if (ask.trail.length > MAX_ASK_TRAIL) ask.trail.splice(0, ask.trail.length - MAX_ASK_TRAIL);
  ui.askDetail.textContent = [ask.trail.join(' → '), ...stateDetails(state)].join(' · ');
  ui.askDetail.title = ui.askDetail.textContent;

  const httpError = state.status !== undefined && state.status !== null;
  if (httpError || typeof state.body === 'string') {
    const status = httpError ? `HTTP ${state.status}` : 'The server';
    const said = errorMessage(state.body);
    const body = typeof state.body === 'string' ? state.body : '';
    ask.refused = kind === 'reconnecting' ? { status, said, body } : null;
    const retrying = kind === 'reconnecting' ? ', sending the question again' : '';
    showAskError(`${status}${retrying}${said ? `: ${said}` : ''}`, '', body);
  } else if (kind === 'open' && ask.refused) {
    // Sent again and answered: the refusal stays shown, as what happened before.
    const { status, said, body } = ask.refused;
    ask.refused = null;
    showAskError(`${status}; the question was sent again${said ? ` (it said: ${said})` : ''}`, '', body);
  }

  const busy = kind === 'connecting' || kind === 'open' || kind === 'reconnecting';
  ui.askAnswer.setAttribute('aria-busy', String(busy));
  if (!busy) {
    // Keep the keyboard where it was: a disabled button drops its focus.
    if (document.activeElement === ui.askStop) ui.prompt.focus();
    ui.askStop.disabled = true;
  }
}

/** Shows (or, with an empty title, hides) the request's error and the body the server sent. */
function showAskError(title, message, body) {
  ui.askError.hidden = !title;
  ui.askErrorTitle.textContent = message ? `${title}: ${message}` : title;
  const shown = body.length > MAX_ERROR_BODY_CHARS
    ? `${cutText(body, MAX_ERROR_BODY_CHARS)} … (${body.length} characters in all)`
    : body;
  ui.askErrorBody.textContent = shown;
  ui.askErrorBody.hidden = !shown;
}

/** The `error.message` of an OpenAI or Anthropic error body, or ''. */
function errorMessage(body) {
  if (typeof body !== 'string' || !body) return '';
  try {
    const value = JSON.parse(body);
    // `{"error": {"message": ...}}` (a model's API) or `{"error": "..."}` (the test server).
    const message = typeof value?.error === 'string' ? value.error : value?.error?.message;
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- publish and controls

async function publish(event) {
  event.preventDefault();
  const user = ui.name.value.trim();
  const text = ui.message.value.trim();
  if (!user || !text) {
    showPublishError('Enter a name and a message.');
    return;
  }
  ui.send.disabled = true;
  try {
    await postJson('/publish', { channel: 'chat', event: 'chat', data: { user, text } });
    ui.message.value = '';
    showPublishError('');
  } catch (err) {
    showPublishError(describe(err));
  } finally {
    ui.send.disabled = false;
    ui.message.focus();
  }
}

function showPublishError(message) {
  ui.publishError.textContent = message;
  ui.publishError.hidden = !message;
}

async function control(button, path, doneMessage) {
  button.disabled = true;
  try {
    await postJson(path);
    ui.controlStatus.textContent = doneMessage;
  } catch (err) {
    ui.controlStatus.textContent = '';
    showError('control', `${button.textContent} failed`, describe(err));
  } finally {
    button.disabled = false;
  }
}

/** POSTs JSON (or nothing); resolves with the JSON reply, rejects with the server's `error` text. */
async function postJson(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    // (The request may have arrived before the network failed: said, since sending a
    // publish again could post it twice.)
    throw new Error(`no answer from the server (${describe(err)}); it may have arrived: look before sending again`);
  }
  const reply = await response.json().catch(() => null);
  if (!response.ok) {
    const reason = reply && typeof reply.error === 'string' ? reply.error : response.statusText;
    throw new Error(`${reason || 'request failed'} (HTTP ${response.status})`);
  }
  return reply;
}

// ---------------------------------------------------------------- errors

function showDecodeError(channel, err) {
  showError(
    'decode',
    // (An event over maxEventSize comes here too, its data not kept.)
    `${channel}: a "${err && err.type}" event ${err && /maxEventSize/.test(err.message) ? 'was dropped for its size' : 'was not valid JSON'}`,
    `${err && err.message}${err && err.lastEventId ? ` (id ${err.lastEventId})` : ''}`,
    err && err.data !== undefined ? cutText(String(err.data), MAX_ERROR_BODY_CHARS) : '',
  );
}

function showError(kind, title, message, raw) {
  const item = el('li', { kind });
  item.append(timeElement(new Date()), el('strong', { class: 'title' }, title));
  if (message) item.append(el('p', { class: 'message' }, message));
  if (raw) item.append(el('pre', { class: 'raw' }, raw));
  ui.errors.prepend(item);
  trimList(ui.errors, MAX_ERRORS);
}

// ---------------------------------------------------------------- example links

/** How often the built example apps are asked for again, and for how long at most. */
const EXAMPLE_POLL_MS = 3000;
const EXAMPLE_POLL_LIMIT = 400; // 20 minutes: `npm start` builds them after serving this page

/** `npm start` serves this page before the example apps are built: until the server
 *  lists an app in /examples.json, its link says "building…" and is not followed. */
function watchExampleLinks() {
  const links = [...document.querySelectorAll('nav.examples a')].map((link) => ({
    link,
    label: link.textContent,
    name: new URL(link.href).pathname.split('/').filter(Boolean).pop(),
  }));
  for (const { link } of links) {
    link.addEventListener('click', (event) => {
      if (link.dataset.state === 'building') event.preventDefault();
    });
  }
  const check = async (tries) => {
    let built = null;
    try {
      const response = await fetch('/examples.json', { cache: 'no-store' });
      if (response.ok) built = (await response.json()).built;
    } catch {
      // The server is away: ask again.
    }
    let waiting = false;
    for (const { link, label, name } of links) {
      const ready = Array.isArray(built) && built.includes(name);
      waiting ||= !ready;
      link.textContent = ready ? label : `${label} (building…)`;
      link.dataset.state = ready ? 'ready' : 'building';
      if (ready) link.removeAttribute('aria-disabled');
      else link.setAttribute('aria-disabled', 'true');
    }
    if (waiting && tries < EXAMPLE_POLL_LIMIT) setTimeout(() => check(tries + 1), EXAMPLE_POLL_MS);
  };
  check(0);
}

// ---------------------------------------------------------------- helpers

function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

/** `<tag>` with `class` set and other keys as data-* attributes, and optional text. */
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else node.dataset[key] = value;
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeElement(date) {
  const node = document.createElement('time');
  node.dateTime = date.toISOString();
  node.textContent = formatClock(date, true);
  return node;
}

function trimList(list, max) {
  while (list.children.length > max) list.lastElementChild.remove();
}

function isNearBottom(node) {
  return node.scrollHeight - node.scrollTop - node.clientHeight < 40;
}

/** A whole number in [min, max] from a field's text, or null. */
function intIn(text, min, max) {
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/** The first `max` UTF-16 units of `text`, never half of a surrogate pair. */
function cutText(text, max) {
  if (max <= 0) return '';
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function formatClock(date, withMillis = false) {
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return withMillis ? `${clock}.${pad(date.getMilliseconds(), 3)}` : clock;
}

function formatDelay(ms) {
  const value = Number(ms);
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function describe(err) {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
