// What a source shared across tabs asks the browser (src/transport/share.rs): a
// BroadcastChannel to the other members of its group and a Web Lock that makes one of
// them the leader.

let warned = false;

// A member away in the back/forward cache misses what the leader posts meanwhile, so
// every member keeps the stream's last messages (events, ids, comments, opens) it
// posted or received: at most KEEP events and KEEP_CHARS characters of data and ids
// (always the last message). A leader numbers what it posts (its term, new with each
// leader, and a count), and tells a member that joins where it stands (`["p", term,
// count]`); back again, a member asks for what came after the last message it has (or,
// having none, after where it joined), and holds what arrives until the leader answers
// with it, or CATCH_UP_MS pass.
const KEEP = 1000;
const KEEP_CHARS = 1 << 20;

// What a message weighs where members keep or hold messages: [events, characters], or
// null for one that is not kept, held nor passed on. Every message weighs at least one
// event, and every item in it at least one character, its text all of it (a long id
// comes again with each event that carries it): else a script of the origin posting
// empty lists, long ones, or text where no event reads it, grows what each member
// keeps without bound. The leader posts only strings, numbers, booleans and null (an
// event list, `e`, of them); a message with anything else (an object, whose size is
// not told) is not the leader's, nor is a list with a hole (undefined: a sparse
// array's length costs nothing to post, and `every` would walk it to its length,
// skipping the holes).
function weigh(msg) {
  let chars = 0;
  let events = 1;
  const add = (item) => {
    const kind = typeof item;
    if (kind === 'string') chars += 1 + item.length;
    else if (item === null || kind === 'number' || kind === 'boolean') chars += 1;
    else return false;
    return true;
  };
  // A state's term, the one named field a member reads (see `clean`), weighs its text.
  if (msg[0] === 's' && typeof msg.term === 'string') chars += msg.term.length;
  for (let i = 1; i < msg.length; i += 1) {
    if (i === 1 && msg[0] === 'e') {
      const list = msg[1];
      if (!Array.isArray(list)) return null;
      for (let k = 0; k < list.length; k += 1) if (!add(list[k])) return null;
      events = Math.max(1, Math.ceil(list.length / 5));
    } else if (!add(msg[i])) {
      return null;
    }
  }
  return [events, chars];
}

// A copy of `msg` with only what members read, to keep or hold: a posted array keeps
// any named field a script gave it, which nothing weighs (an `e`'s list is copied too;
// a state's term is kept, and weighed: no other message has one).
function clean(msg) {
  const copy = Array.from(msg, (item, i) => (i === 1 && msg[0] === 'e' ? Array.from(item) : item));
  if (msg[0] === 's' && typeof msg.term === 'string') copy.term = msg.term;
  return copy;
}
const CATCH_UP_MS = 2000;
// How many leaderships' last counts a member remembers, to drop what it had from a
// catch-up's answer (see `saw`).
const SEEN_TERMS = 64;
// The stream's messages that are kept and numbered, and those that wait while a
// member catches up (its states too: they come after the events it missed).
const NUMBERED = /^[eico]$/;
const HELD = /^[eicso]$/;
// What only a leader posts.
const FROM_LEADER = /^[eicospwz]$/;
// A leader frozen with its page (a worker's, which hears none of the page's lifecycle
// events) holds the lock with no script to run. A follower that has heard nothing from
// the leader for a PROBE_MS tick asks it (`["q"]`, answered `["p", ...]` by the
// leader's member through `answer()`, unless its wasm was torn through); with no
// answer to QUESTIONS questions in a row it takes the lock from it (Web Locks'
// `steal`), after a random wait of STEAL_WAIT_MS and up to a third of a tick more (a
// follower thawed itself first gets the answers queued meanwhile). The leader, thawed,
// finds its lock gone and follows, catching up as a page back from the cache does.
// Only a leader of this build is taken from, and only the one asked: the context (Web
// Locks' `clientId`) that held the lock when the first question went out holds it
// still, and holds a lock named MEMBER + an id + " " + the group's name, as every
// member of this build does while in the group (a tab of an older build holds none: it
// is never taken from). One follower steals at a time (it holds STEAL + the group's
// name meanwhile, which the others do not wait for): the next finds a new holder.
// (A follower frozen while it steals is taken its turn a round later.) What the old
// leader posts after that, before it learns of it (as a thawed page may, or one that
// was only busy), carries its term: members drop it, and its answers to a catch-up,
// once the new leader said its own (`["w", term]`).
const PROBE_MS = 2000;
const QUESTIONS = 2;
// A leader whose wasm was torn through hands the lock over when a member asks: at once
// the first time, then HAND_OVER_MS after, a wait that doubles up to HAND_OVER_MAX_MS
// (see `handOver`).
const HAND_OVER_MS = 10_000;
const HAND_OVER_MAX_MS = 300_000;
const STEAL_WAIT_MS = 100;
// What the link hands its member besides messages (see ShareLink).
const LEAD = 0;
const ALONE = 1;
const MEMBER = 'wasm-eventsource+member:';
const STEAL = 'wasm-eventsource+steal:';

// The context that holds the lock `name` in `held`, if any.
const holder = (held, name) => held.find((lock) => lock.name === name)?.clientId;

// The locks held in this origin ([] where the browser cannot say).
async function heldLocks() {
  try {
    return (await navigator.locks.query()).held || [];
  } catch {
    return [];
  }
}

// Whether this context has Web Locks and BroadcastChannel; says once on the console
// when it has not, since the source then connects on its own.
export function shareSupported() {
  const ok =
    typeof BroadcastChannel === 'function' &&
    typeof globalThis.navigator === 'object' &&
    globalThis.navigator !== null &&
    typeof globalThis.navigator.locks === 'object' &&
    globalThis.navigator.locks !== null &&
    typeof globalThis.navigator.locks.request === 'function';
  if (!ok && !warned) {
    warned = true;
    // (Web Locks exist only in secure contexts: a page served over http:// other than
    // localhost has none.)
    const insecure = globalThis.isSecureContext === false ? ' (it is not a secure context: serve it over https)' : '';
    console.warn(
      `wasm-eventsource: sharing across tabs needs Web Locks and BroadcastChannel, which this context lacks${insecure}: each source connects on its own`,
    );
  }
  return ok;
}

// A member of the group `name`: `onMessage(data)` for each message another member
// posts (an array), `onMessage(LEAD)` once this member holds the leader's lock, which
// it keeps until `leave()`. `onMessage(ALONE)` instead when this context may not use
// Web Locks: the member has left the group, and connects alone. After `leave()` it is
// not called again (but for that `ALONE`, which follows it).
//
// A page that goes into the back/forward cache is frozen with its locks and channels:
// a leader there would hold the group's lock, with no script to pass its events on,
// until the browser evicts the page (minutes), and the other tabs would wait for
// nothing. So at `pagehide` into that cache the member steps out, as a closed tab
// would: `onMessage(true)` (not a message: the source drops its connection), then the
// lock and the channel go. At `pageshow` out of it, the member joins again with a new
// channel and lock request, then `onMessage(false)`, and catches up: `["y", id, term,
// count]` asks the leader for what the group received after that message, and the
// leader answers `["z", id, [messages...]]` to it alone. A hidden page that the browser
// freezes in place (Chrome does on Android) is the same case: `freeze` and `resume`
// on the document. (Into the cache, a page gets `pagehide` then `freeze`; out of it,
// `resume` then `pageshow`: the second of each pair finds the member already moved.)
export class ShareLink {
  // (Properties, so that a test can shorten them.)
  static PROBE_MS = PROBE_MS;
  static HAND_OVER_MS = HAND_OVER_MS;

  constructor(name, onMessage) {
    this.name = name;
    this.onMessage = onMessage;
    this.left = this.away = false;
    // (The member's tab id in its messages, `m` first: an older build's tab ids are
    // hex and not its link's, so the leader never looks for its lock; see `waiting`.)
    this.id = `m${Math.random().toString(36).slice(2)}`;
    // (See PROBE_MS.)
    this.memberLock = `${MEMBER}${this.id} ${name}`;
    // [message, events, characters] of the kept messages, oldest first.
    this.kept = [];
    // [term, count] where this member joined, before it kept anything.
    this.joined = null;
    // term -> the highest count of it this member has (kept, posted, or joined at), for
    // the last SEEN_TERMS terms (see `saw`).
    this.seen = new Map();
    this.events = this.chars = 0;
    // When a torn leader may next hand over, the wait after that, and the timer of a
    // hand-over asked for (see `handOver`).
    this.handOverAt = -Infinity;
    this.handOverWait = 0;
    this.handOverTimer = undefined;
    // What arrived while catching up, or null.
    this.held = null;
    this.heldChars = 0;
    // In a window only: a worker has no back/forward cache. (A document that listens
    // too: some worker polyfills set `self.window = self`, or a `document` of their own.)
    const page = typeof globalThis.window?.addEventListener === 'function' && typeof globalThis.document?.addEventListener === 'function';
    this.lifecycle = page && ((e) => {
      // (`persisted` is false on a page that unloads, undefined on `freeze`/`resume`.)
      const leaving = e.type === 'pagehide' || e.type === 'freeze';
      if (this.left || e.persisted === false || leaving === this.away) return;
      if (this.away) {
        this.away = false;
        this.rejoin();
      } else {
        // (A page that goes into the cache lets go of the lock even when the member
        // throws.)
        try {
          onMessage(true);
        } finally {
          this.away = true;
          this.part();
        }
      }
    });
    this.listen('addEventListener');
    // (Joined last: should anything above throw, no member is left half made. Joining
    // throws where a BroadcastChannel cannot be made, an opaque origin or a frame whose
    // storage is blocked: the source then connects alone, and nothing of this stays.)
    try {
      this.join();
    } catch (e) {
      this.listen('removeEventListener');
      this.abort?.abort();
      this.channel?.close();
      if (!warned) {
        warned = true;
        console.warn(`wasm-eventsource: sharing across tabs needs a BroadcastChannel, which this context refuses (${e?.message ?? e}): each source connects on its own`);
      }
      throw e;
    }
    this.probe = setInterval(() => this.check(), ShareLink.PROBE_MS);
  }

  listen(how) {
    if (!this.lifecycle) return;
    for (const type of ['pagehide', 'pageshow']) window[how](type, this.lifecycle);
    for (const type of ['freeze', 'resume']) document[how](type, this.lifecycle);
  }

  // Joins again after stepping out: follows, and catches up on what it missed.
  rejoin() {
    this.join();
    this.onMessage(false);
    // (The source may have closed in there.)
    if (!this.left) this.catchUp();
  }

  // Returns a promise settled once the lock is granted or the request ends.
  join(steal) {
    let settle;
    const settled = new Promise((resolve) => (settle = resolve));
    const abort = (this.abort = new AbortController());
    const channel = (this.channel = new BroadcastChannel(this.name));
    this.release = null;
    // Whether the leader posted since the last tick; how many questions in a row are
    // unanswered (see PROBE_MS).
    this.heard = true;
    this.unanswered = 0;
    // The term of the leader that last said so (`["w", term]`), or null.
    this.lead = null;
    // Whether the lock is led with, or was lost before it was led with.
    let leading = false;
    let lost = false;
    // (Away, the member has closed its channel: only `left` needs a check here.)
    channel.onmessage = (e) => {
      if (!this.left && Array.isArray(e.data)) this.receive(e.data);
    };
    // The sign of a member of this build (see PROBE_MS), held while it is in the group:
    // not while away, since a page that holds a lock is not kept in the cache.
    navigator.locks
      .request(this.memberLock, { signal: abort.signal }, () =>
        this.left || abort.signal.aborted
          ? undefined
          : new Promise((done) => {
              this.releaseMember = done;
              abort.signal.addEventListener('abort', done);
            }),
      )
      .catch(() => {});
    navigator.locks
      .request(this.name, steal ? { steal } : { signal: abort.signal }, async () => {
        settle();
        if (this.left || abort.signal.aborted) return;
        // A grant whose callback runs late (its context was frozen) may have been taken
        // meanwhile, or be taken while this asks, and leading then would post a term
        // that the members take for the new leader's: this context must hold the lock
        // still. (Taken, it steps out and back, as below.) Stepping out meanwhile (a
        // freeze) ends the wait, so that the lock is let go before the page freezes.
        const held = await Promise.race([heldLocks(), new Promise((r) => abort.signal.addEventListener('abort', r))]);
        if (this.left || abort.signal.aborted) return;
        const own = holder(held, this.memberLock);
        if (lost || (own && holder(held, this.name) !== own)) return this.stepOutAndBack(channel);
        return new Promise((resolve) => {
          leading = true;
          this.release = resolve;
          this.term = String(Math.random());
          this.count = 0;
          // Leading, the member resumes after the last event it delivered: what it
          // held comes again on its own connection. But not the group's end (the
          // stream closed for good): that passes on, and nothing connects.
          const kept = this.held || [];
          this.unhold();
          for (const m of kept) if (m[0] === 's' && m[1] === 'x') this.take(m);
          if (!this.left) this.onMessage(LEAD);
        });
      })
      // Aborted by leave() or pagehide while waiting: nothing to report. Rejected
      // while leading: another member took the lock (this one was frozen, see
      // PROBE_MS): step out as into the cache, and back. Refused (a context whose
      // storage is blocked, as a third-party frame's can be, or an opaque origin): no
      // group here; the member leaves it and its source connects on its own.
      .catch((e) => {
        settle();
        if (e && e.name === 'SecurityError' && !leading) return this.alone(e);
        // (Taken before it was led with: the grant's callback steps out. A request
        // aborted before its grant sets this too, but then no callback runs.)
        lost = !leading;
        if (leading) this.stepOutAndBack(channel);
      });
    return settled;
  }

  // Steps out as into the cache, and back (the lock on `channel` was taken).
  stepOutAndBack(channel) {
    if (this.left || this.away || this.channel !== channel) return;
    // (The lock goes even when the member throws: its wasm may be the reason it was
    // taken, see PROBE_MS.)
    try {
      this.onMessage(true);
    } finally {
      this.part();
      // (The source may have closed in there.)
      if (!this.left) this.rejoin();
    }
  }

  // Whether this member follows in the group, on the channel `channel`.
  following(channel) {
    return !this.left && !this.away && !this.release && this.channel === channel;
  }

  // Each PROBE_MS, a follower that heard nothing from its leader asks it (noting, the
  // first time, who holds the lock); with QUESTIONS questions unanswered it takes the
  // lock from that holder if it is a member of this build (see PROBE_MS).
  check() {
    if (this.left) return clearInterval(this.probe);
    const channel = this.channel;
    const heard = this.heard;
    this.heard = false;
    if (!this.following(channel) || heard) {
      this.unanswered = 0;
      this.stealer = null;
    } else if (this.unanswered < QUESTIONS) {
      if (!this.unanswered++) heldLocks().then((held) => (this.suspect = holder(held, this.name)));
      channel.postMessage(['q']);
    } else {
      this.unanswered = 0;
      const asked = this.suspect;
      const member = (lock) => lock.name.startsWith(MEMBER) && lock.name.slice(lock.name.indexOf(' ') + 1) === this.name;
      const steal = async (lock) => {
        if (this.left) return;
        if (!lock) {
          // Another member is stealing. Still at it a round later (a steal takes
          // milliseconds), it was frozen itself: this one takes its turn.
          const other = holder(await heldLocks(), STEAL + this.name);
          if (this.left) return;
          const stuck = other && other === this.stealer;
          this.stealer = other;
          if (stuck) navigator.locks.request(STEAL + this.name, { steal: true }, steal).catch(() => {});
          return;
        }
        this.stealer = null;
        const held = await heldLocks();
        const client = holder(held, this.name);
        if (this.heard || !this.following(channel) || !client || client !== asked) return;
        if (!held.some((other) => other.clientId === client && member(other))) return;
        // Leading, it passes on a group's end it held (see `join`). What the leader it
        // takes the lock from still posts, thawed before it learns, is dropped (its
        // group's end above all: this member would close with it).
        const kept = this.held;
        this.deposed = this.heardTerm;
        this.part();
        this.held = kept;
        await this.join(true);
      };
      setTimeout(
        () => this.left || navigator.locks.request(STEAL + this.name, { ifAvailable: true }, steal).catch(() => {}),
        STEAL_WAIT_MS + (Math.random() * ShareLink.PROBE_MS) / 3,
      );
    }
  }

  receive(msg) {
    const [kind, to] = msg;
    if (FROM_LEADER.test(kind)) {
      this.heard = true;
      this.unanswered = 0;
    }
    // A new leader's term (none from an older build's); the stream's messages and the
    // states of another, deposed one are dropped.
    if (kind === 'w') this.lead = typeof to === 'string' ? to : null;
    if (this.lead && NUMBERED.test(kind) && msg.length === 4 && msg[2] !== this.lead) return;
    if (this.lead && kind === 's' && typeof msg.term === 'string' && msg.term !== this.lead) return;
    // The term of what the leader posts: the one a steal deposes.
    const term = kind === 'w' ? to : kind === 's' ? msg.term : msg.length === 4 && NUMBERED.test(kind) && msg[2];
    if (this.deposed && term === this.deposed) return;
    if (typeof term === 'string') this.heardTerm = term;
    if (kind === 'p') {
      if (!this.kept.length) {
        this.joined = [msg[1], msg[2]];
        // (Not while it catches up: the leader's answer to its `h`, posted as it came
        // back, says where the stream stands now, past what it missed.)
        if (!this.held) this.saw(msg[1], msg[2]);
      }
    } else if (kind === 'q') {
      // The leader's member answers (`answer()`) while its wasm is sound: one whose
      // connection's task was torn through (a trap) delivers nothing for good, and is
      // to be taken from as a frozen one is.
      if (this.release) this.onMessage(msg);
    } else if (kind === 'y') {
      // Answered by the leader's member, as a question is (`answerCatchUp()`).
      if (this.release) this.onMessage(msg);
    } else if (kind === 'z') {
      const held = this.held;
      if (to !== this.id || !held || !Array.isArray(msg[2])) return;
      // (A deposed leader's answer, which may have what it posted after: the new
      // leader's comes.)
      if (this.lead && msg[3] !== undefined && msg[3] !== this.lead) return;
      // The stream's messages that arrived meanwhile were posted before the answer, so
      // the answer has them, unless the leader's bound let them go (a burst) or the
      // leader never kept them (an earlier leader's, come late or dropped as it took
      // the lock). Those numbered before the answer's last of their term, or of a term
      // it lacks, come first; later ones after it, with the states.
      // The leader's answer is messages (arrays) only: it ends at the first item that is
      // not one (a hole of a sparse list another script posted, at no cost to it, with a
      // length of billions, which `filter` would walk).
      const answer = [];
      for (const m of msg[2]) {
        if (!Array.isArray(m)) break;
        answer.push(m);
      }
      const at = (m) => `${m[2]} ${m[3]}`;
      const has = new Set();
      const top = new Map();
      for (const m of answer) {
        if (!NUMBERED.test(m[0])) continue;
        has.add(at(m));
        top.set(m[2], Math.max(top.get(m[2]) ?? -Infinity, m[3]));
      }
      const lacking = (m) => NUMBERED.test(m[0]) && !has.has(at(m));
      const late = (m) => top.has(m[2]) && m[3] > top.get(m[2]);
      // What this member has already: a leader that never saw the asked term (it was
      // away all of that term) answers with all it keeps, an earlier term's messages
      // included, which this member may have had (from that leader, before).
      const seen = new Map(this.seen); // as it was before this answer
      const had = (m) => NUMBERED.test(m[0]) && seen.has(m[2]) && m[3] <= seen.get(m[2]);
      this.unhold();
      for (const m of held) if (lacking(m) && !late(m)) this.take(m);
      for (const m of answer) if (!had(m)) this.take(m);
      for (const m of held) if (!NUMBERED.test(m[0]) || (lacking(m) && late(m))) this.take(m);
    } else if (this.held && HELD.test(kind)) {
      // Bounded as what is kept: past it, what is held is passed on as it came.
      const weight = weigh(msg);
      if (!weight) return;
      this.heldChars += weight[1];
      if (this.held.push(clean(msg)) > KEEP || this.heldChars > KEEP_CHARS) this.unhold(true);
    } else {
      if (kind === 'w' && this.held) {
        // A new leader: ask it, since the one asked may have gone without answering.
        this.channel.postMessage(this.asked);
        this.wait();
      }
      // (A member that joins is told where the stream stands by the leader's member,
      // with `answer()`.)
      this.take(msg);
    }
  }

  // The leader's answer to a follower's question (`["q"]`, see PROBE_MS), and to a
  // member that joins (`["h"]`): where the stream stands.
  answer() {
    if (this.release) this.channel.postMessage(['p', ...this.mark()]);
  }

  // The leader's answer to a member that catches up (`["y", to, term, count]`).
  // Through the member, as `answer()`: a leader whose wasm was torn through answers
  // nothing, or its answers would count as a word from a leader, and the followers
  // would never take over.
  answerCatchUp(msg) {
    if (this.release) this.channel.postMessage(['z', msg[1], this.after(msg[2], msg[3]), this.term]);
  }

  // A leader whose wasm was torn through answers no one (above), yet its connection
  // may still deliver (native's listener), and followers that hear events never ask:
  // a member's word makes it step out and back, a task from now (not inside the
  // member's call), so that a sound member leads.
  // At once the first time, then not before a wait that doubles each time, from
  // HAND_OVER_MS to HAND_OVER_MAX_MS (a word meanwhile is answered as it ends): torn,
  // it stays torn, and a group whose members all are (one panic every tab meets, two
  // sources of one group in a torn tab) would hand the lock round for good, a new
  // connection each time; yet a torn member that leads again later (the others gone)
  // must still hand over to a tab that joins then.
  handOver() {
    if (this.handOverTimer !== undefined) return;
    const channel = this.channel;
    const wait = Math.max(0, this.handOverAt - performance.now());
    this.handOverTimer = setTimeout(() => {
      this.handOverTimer = undefined;
      if (!this.release || this.left || this.channel !== channel) return;
      this.handOverWait = Math.min(this.handOverWait * 2, HAND_OVER_MAX_MS) || ShareLink.HAND_OVER_MS;
      this.handOverAt = performance.now() + this.handOverWait;
      this.stepOutAndBack(channel);
    }, wait);
  }

  // Where the stream stands: the last kept message's term and count (which may be an
  // earlier leader's: a member that joins now must not get what came before it), or
  // this leader's own.
  mark() {
    const last = this.kept.at(-1);
    return last ? [last[0][2], last[0][3]] : [this.term, this.count];
  }

  // A message for the source; kept (a leader ignores what an earlier one posted), or
  // dropped when it is not the leader's (see `weigh`). None after `leave()`: a callback
  // may close the source in the middle of a catch-up.
  take(msg) {
    if (this.left) return;
    if (!this.release && NUMBERED.test(msg[0]) && msg.length === 4 && !this.keep(msg)) return;
    this.onMessage(msg);
  }

  // Notes that this member has the messages of `term` up to `count`: the last
  // SEEN_TERMS terms (a term is one leadership; a member sees few).
  saw(term, count) {
    if (typeof term !== 'string' || typeof count !== 'number') return;
    const before = this.seen.get(term);
    this.seen.delete(term);
    this.seen.set(term, before === undefined ? count : Math.max(before, count));
    if (this.seen.size > SEEN_TERMS) this.seen.delete(this.seen.keys().next().value);
  }

  // Keeps `msg`; false when it weighs nothing (see `weigh`).
  keep(msg) {
    const weight = weigh(msg);
    if (!weight) return false;
    this.saw(msg[2], msg[3]);
    const [events, chars] = weight;
    this.kept.push([clean(msg), events, chars]);
    this.events += events;
    this.chars += chars;
    while (this.kept.length > 1 && (this.events > KEEP || this.chars > KEEP_CHARS)) {
      const [, e, c] = this.kept.shift();
      this.events -= e;
      this.chars -= c;
    }
    return true;
  }

  // The kept messages after the one numbered `count` in `term`: all of them when that
  // term is not among them (they all came later), those after the term's first kept
  // one when the asker's is older than that.
  after(term, count) {
    const kept = this.kept;
    let from = 0;
    for (let i = kept.length; i--; ) {
      const m = kept[i][0];
      if (m[2] !== term) continue;
      if (m[3] <= count) {
        from = i + 1;
        break;
      }
      from = i;
    }
    return kept.slice(from).map((k) => k[0]);
  }

  // Asks for what the group received after the last message this member has, or
  // after where it joined (one that never heard from a leader has nothing to catch
  // up on).
  catchUp() {
    const last = this.kept.at(-1);
    const at = last ? [last[0][2], last[0][3]] : this.joined;
    if (!at) return;
    this.asked = ['y', this.id, ...at];
    this.held = [];
    this.heldChars = 0;
    this.wait();
    this.channel.postMessage(this.asked);
  }

  // (Again) CATCH_UP_MS for the answer.
  wait() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.unhold(true), CATCH_UP_MS);
  }

  // Stops holding; passes on what was held when `pass` (no answer came).
  unhold(pass) {
    const held = this.held;
    this.held = null;
    clearTimeout(this.timer);
    if (pass && held) for (const m of held) this.take(m);
  }

  // Gives up the locks (held or asked for) and the channel.
  part() {
    // (A hand-over waited for goes with the group left: a new word asks again.)
    clearTimeout(this.handOverTimer);
    this.handOverTimer = undefined;
    this.unhold();
    this.abort.abort();
    if (this.release) this.release();
    this.release = null;
    this.channel.onmessage = null;
    this.channel.close();
  }

  post(message) {
    if (this.left || this.away) return;
    if (this.release && NUMBERED.test(message[0])) {
      // (An open, `["o"]`, gets an empty place first: the term and count are at 2 and 3
      // in every numbered message.)
      if (message.length === 1) message.push(null);
      message.push(this.term, ++this.count);
      this.keep(message);
    } else if (this.release && message[0] === 'w') {
      message.push(this.term);
    } else if (this.release && message[0] === 's') {
      // (A state's items are read by position, some optional: the term goes by name,
      // which the channel's structured clone keeps on an array.)
      message.term = this.term;
    }
    this.channel.postMessage(message);
  }

  // `[count, ids...]`: how many members wait for the group's lock, and the ids of the
  // members of this build in the group, which each hold (or ask for) their MEMBER lock
  // while in it: a tab that closed holds none. Null where the locks cannot be asked.
  async waiting() {
    try {
      const { held = [], pending = [] } = await navigator.locks.query();
      const end = ` ${this.name}`;
      const ids = [...held, ...pending]
        .map((lock) => lock.name)
        .filter((name) => name.startsWith(MEMBER) && name.endsWith(end))
        .map((name) => name.slice(MEMBER.length, -end.length));
      return [pending.filter((lock) => lock.name === this.name).length, ...ids];
    } catch {
      return null;
    }
  }

  // This context may not use Web Locks (the request was refused): leaves the group and
  // hands the member `ALONE`, to connect alone. Says so once on the console.
  alone(e) {
    if (this.left) return;
    this.leave();
    if (!warned) {
      warned = true;
      console.warn(`wasm-eventsource: sharing across tabs needs Web Locks, which this context refuses (${e.message}): each source connects on its own`);
    }
    this.onMessage(ALONE);
  }

  leave() {
    if (this.left) return;
    this.left = true;
    clearInterval(this.probe);
    clearTimeout(this.handOverTimer);
    this.listen('removeEventListener');
    if (!this.away) this.part();
  }
}
