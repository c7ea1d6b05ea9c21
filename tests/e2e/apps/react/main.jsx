// A React 19 app over `wasm-eventsource/react`, built by Vite from the packed tarball
// and driven by tests/e2e/react.test.mjs through `window.app` and what it renders.
// ?server=URL&channel=NAME: a live channel of the test server (typed `chat` events);
// ?server=URL&token=T: the scenario `stall` with a request log instead.
// Rendered in StrictMode (a development build): effects run twice.
// (An app's own top-level await: fine in a page, unlike in the package.)
import { Activity, StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { init } from 'wasm-eventsource';
import { useEventSource, useEventSourceEvents } from 'wasm-eventsource/react';

const params = new URLSearchParams(location.search);
const server = params.get('server');
const token = params.get('token');
window.stateLog = [];
window.effectRuns = 0;
window.renders = 0;

function urlOf(channel) {
  return token ? `${server}/scenario/stall?after=2&token=${token}` : `${server}/events?channel=${channel}&retry=100`;
}

/** The latest `chat` event and the state badge. The options are an inline object, a new
 *  one each render: compared by value, they must not reconnect. */
function Latest({ url }) {
  const { state, data, meta, error, close, reconnect } = useEventSource(url, token ? 'message' : 'chat', {
    transport: 'fetch',
    retry: { baseMs: 50, floorMs: 50, maxMs: 100, jitter: false },
  });
  window.renders += 1;
  useEffect(() => {
    window.stateLog.push(state.kind);
  }, [state]);
  useEffect(() => {
    window.controls = { close, reconnect };
  }, [close, reconnect]);
  return (
    <section>
      <span id="badge" className={`badge ${state.kind}`}>{state.kind}</span>
      <span id="latest">{data === undefined ? '-' : token ? String(data.n) : `${data.n}:${data.text}`}</span>
      <span id="last-id">{meta ? meta.lastEventId : ''}</span>
      <span id="error">{error ? `${error.kind}:${error.reason}` : ''}</span>
    </section>
  );
}

/** The last three `chat` events (`window.app.setKeep` changes how many), from a second
 *  hook with the same URL and options: the same connection. */
function List({ url, keep }) {
  const { events } = useEventSourceEvents(url, token ? 'message' : 'chat', {
    retry: { jitter: false, floorMs: 50, maxMs: 100, baseMs: 50 },
    transport: 'fetch',
  }, { keep });
  window.listRenders = (window.listRenders ?? 0) + 1;
  // Counts the list's changes of identity (an effect on it runs once per change).
  useEffect(() => {
    window.listChanges = (window.listChanges ?? 0) + 1;
  }, [events]);
  return (
    <ol id="list">
      {events.map(({ data, meta }) => (
        <li key={meta.lastEventId}>{String(data.n)}</li>
      ))}
    </ol>
  );
}

/** A third hook with the same URL and options, mounted on demand: it joins the
 *  connection as it is then (a failure included). */
function Late({ url }) {
  const { state, error } = useEventSource(url, token ? 'message' : 'chat', {
    transport: 'fetch',
    retry: { baseMs: 50, floorMs: 50, maxMs: 100, jitter: false },
  });
  return (
    <section>
      <span id="late-badge">{state.kind}</span>
      <span id="late-error">{error ? `${error.kind}:${error.reason}` : ''}</span>
    </section>
  );
}

/** Options the constructor refuses (a POST body on the native transport, or the
 *  test's `window.refusedOptions`): the hook shows a connection closed at once, and the
 *  app goes on. */
function Refused() {
  const options = window.refusedOptions ?? { method: 'POST', body: '{}' };
  const { state, error } = useEventSource(`${server}/events?channel=refused`, 'chat', options);
  return (
    <section>
      <span id="refused-badge">{state.kind}</span>
      <span id="refused-error">{error ? `${error.kind}:${error.reason}:${error.message}` : ''}</span>
    </section>
  );
}

/** A request's answer (`mode: "request"`, the test's `window.answerToken` in its
 *  log), keyed by the attempt: a new key is a new component ("regenerate"), whose
 *  request goes again. */
function Answer() {
  const { state, data, reconnect } = useAnswer();
  // The same request's events, as a list: one connection with the hook above.
  const { events } = useEventSourceEvents(...ANSWER());
  useEffect(() => {
    window.answerReconnect = reconnect;
  }, [reconnect]);
  return (
    <section>
      <span id="answer-badge">{state.kind === 'closed' ? `closed:${state.reason}` : state.kind}</span>
      <span id="answer">{data === undefined ? '-' : String(data.seq ?? data.n)}</span>
      <span id="answer-list">{events.map(({ data }) => data.seq ?? data.n).join(',')}</span>
    </section>
  );
}

/** A feed in an `<Activity>` (`window.app.setFeedHidden`): the `chat` events of
 *  `window.feedChannel`. */
function HiddenFeed() {
  const { state, events, close } = useEventSourceEvents(`${server}/events?channel=${window.feedChannel}&retry=100`, 'chat');
  const { data } = useEventSource(`${server}/events?channel=${window.feedChannel}&retry=100`, 'chat');
  // Closed, then hidden, in one click.
  const closeAndHide = () => {
    close();
    window.app.setFeedHidden(true);
  };
  return (
    <>
      <span id="hidden-feed">{`${state.kind}:${events.map(({ data }) => data.n).join(',')}`}</span>
      <span id="hidden-latest">{data ? String(data.n) : '-'}</span>
      <button id="close-hide" onClick={closeAndHide}>close and hide</button>
    </>
  );
}

/** The same feed outside the `<Activity>` (`window.app.setFeedTwin`): it keeps the
 *  connection while the other is hidden. */
function FeedTwin() {
  const { state, data } = useEventSource(`${server}/events?channel=${window.feedChannel}&retry=100`, 'chat');
  return <span id="twin-latest">{`${state.kind === 'closed' ? `closed:${state.reason}` : data ? String(data.n) : '-'}`}</span>;
}

/** A request whose URL is state: its button moves to the next URL and calls
 *  `reconnect()` in one click handler (an app's "ask the other model"). */
function Switch() {
  const [v, setV] = useState(1);
  const [off, setOff] = useState(false);
  const url = off ? null : `${server}/scenario/stall?after=1&token=${window.switchToken}&v=${v}`;
  const { state, reconnect, close } = useEventSource(url, 'message', {
    transport: 'fetch',
    mode: 'request',
    method: 'POST',
    body: '{}',
  });
  const next = () => {
    setV((n) => n + 1);
    reconnect();
  };
  // The same, the other way round.
  const nextAfter = () => {
    reconnect();
    setV((n) => n + 1);
  };
  // Sent again, then closed: closed at the end, as called.
  const againThenClose = () => {
    reconnect();
    close();
  };
  return (
    <section>
      <span id="switch-state">{`${v}:${state.kind === 'closed' ? `closed:${state.reason}` : state.kind}`}</span>
      <button id="switch" onClick={next}>next</button>
      <button id="switch-after" onClick={nextAfter}>next, reconnect first</button>
      <button id="again-close" onClick={againThenClose}>again, then close</button>
      <button id="switch-off" onClick={() => setOff((o) => !o)}>no URL, or the URL again</button>
    </section>
  );
}

/** The answer's request: its URL (the scenario `window.answerPath`, else a burst of
 *  three that ends), type and options. */
const ANSWER = () => [
  `${server}/scenario/${window.answerPath ?? 'burst/3?then=close'}&token=${window.answerToken}`,
  'message',
  { transport: 'fetch', mode: 'request', method: 'POST', body: JSON.stringify({ prompt: 'the same one' }) },
];

/** The answer's request, as `Answer` and `AnswerStatus` make it: one connection. */
function useAnswer() {
  return useEventSource(...ANSWER());
}

/** The same request's state, in a component that stays while `Answer` is remounted. */
function AnswerStatus() {
  const { state } = useAnswer();
  return <span id="answer-status">{state.kind === 'closed' ? `closed:${state.reason}` : state.kind}</span>;
}

/** A request whose answer has a payload that is not JSON (`bad-json`, ended by its
 *  last event as `doneData`): its decode error shows in `error`. */
function BadAnswer() {
  const { state, error, data, reconnect } = useEventSource(`${server}/scenario/bad-json?token=${window.badAnswerToken}`, 'message', {
    transport: 'fetch',
    mode: 'request',
    method: 'POST',
    body: '{}',
    doneData: '{"n":3}',
  });
  useEffect(() => {
    window.badAnswerReconnect = reconnect;
  }, [reconnect]);
  return <span id="bad-answer">{`${state.kind === 'closed' ? `closed:${state.reason}` : state.kind}:${error ? error.kind : 'none'}:${data ? data.n : '-'}`}</span>;
}

/** A hook whose URL may be null (`window.app.setOptional`): it opens nothing until it
 *  gets one. */
function Optional({ url }) {
  const { state, data } = useEventSource(url, 'chat');
  const { events } = useEventSourceEvents(url, 'chat');
  // Counts the list's changes of identity (an effect on it runs once per change).
  useEffect(() => {
    window.optionalListChanges = (window.optionalListChanges ?? 0) + 1;
  }, [events]);
  const text = `${state.kind === 'closed' ? `closed:${state.reason}` : state.kind}:${data ? data.text : '-'}`;
  (window.optionalRenders ??= []).push(text);
  return <span id="optional">{text}</span>;
}

/** Counts its effect's runs: 2 under StrictMode's double effects in development. */
function Probe() {
  useEffect(() => {
    window.effectRuns += 1;
  }, []);
  return null;
}

function App() {
  const [channel, setChannel] = useState(params.get('channel'));
  const [shown, setShown] = useState(true);
  const [late, setLate] = useState(false);
  const [refused, setRefused] = useState(false);
  const [answer, setAnswer] = useState(null);
  const [answerStatus, setAnswerStatus] = useState(false);
  const [optional, setOptional] = useState(null);
  const [badAnswer, setBadAnswer] = useState(false);
  const [keep, setKeep] = useState(3);
  const [switching, setSwitching] = useState(false);
  const [answerHidden, setAnswerHidden] = useState(false);
  const [feedShown, setFeedShown] = useState(false);
  const [feedHidden, setFeedHidden] = useState(false);
  const [feedTwin, setFeedTwin] = useState(false);
  const [, setTick] = useState(0);
  useEffect(() => {
    const rerender = () => setTick((t) => t + 1);
    window.app = { setChannel, setShown, setLate, setRefused, setAnswer, setAnswerStatus, setOptional, setBadAnswer, setKeep, setSwitching, setAnswerHidden, setFeedShown, setFeedHidden, setFeedTwin, rerender };
  }, []);
  const url = urlOf(channel);
  return (
    <main>
      <h1>React</h1>
      <Probe />
      <p id="url">{url}</p>
      {refused ? <Refused /> : null}
      {answerStatus ? <AnswerStatus /> : null}
      {answer === null ? null : (
        <Activity mode={answerHidden ? 'hidden' : 'visible'}>
          <Answer key={answer} />
        </Activity>
      )}
      <Optional url={optional} />
      {badAnswer ? <BadAnswer /> : null}
      {switching ? <Switch /> : null}
      {feedShown ? (
        <Activity mode={feedHidden ? 'hidden' : 'visible'}>
          <HiddenFeed />
        </Activity>
      ) : null}
      {feedTwin ? <FeedTwin /> : null}
      {shown ? (
        <>
          <Latest url={url} />
          <List url={url} keep={keep} />
          {late ? <Late url={url} /> : null}
        </>
      ) : (
        <p id="unmounted">unmounted</p>
      )}
    </main>
  );
}

// With a token, mount once the wasm is ready: each effect then opens a request at once,
// so StrictMode's first mount would leave one of its own if the hooks let it.
if (token) await init();
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
