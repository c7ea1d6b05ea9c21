// What a source shared across tabs asks the browser (src/transport/share.rs): a
// BroadcastChannel to the other members of its group and a Web Lock that makes one of
// them the leader.

let warned = false;

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
    console.warn(
      'wasm-eventsource: sharing across tabs needs Web Locks and BroadcastChannel, which this context lacks: each source connects on its own',
    );
  }
  return ok;
}

// A member of the group `name`: `onMessage(data)` for each message another member
// posts, `onLead()` once this member holds the leader's lock, which it keeps until
// `leave()`. After `leave()` no callback is called again.
//
// A page that goes into the back/forward cache is frozen with its locks and channels:
// a leader there would hold the group's lock, with no script to pass its events on,
// until the browser evicts the page (minutes), and the other tabs would wait for
// nothing. So at `pagehide` into that cache the member steps out, as a closed tab
// would: `onMessage(true)` (not a message: the source drops its connection), then the
// lock and the channel go. At `pageshow` out of it, the member joins again with a new
// channel and lock request, then `onMessage(false)`.
export class ShareLink {
  constructor(name, onMessage, onLead) {
    this.name = name;
    this.onMessage = onMessage;
    this.onLead = onLead;
    this.left = this.away = false;
    this.join();
    // In a window only: a worker has no back/forward cache.
    this.lifecycle = typeof window === 'object' && window !== null && ((e) => {
      if (this.left || !e.persisted || (e.type === 'pagehide') === this.away) return;
      if (this.away) {
        this.away = false;
        this.join();
        onMessage(false);
      } else {
        onMessage(true);
        this.away = true;
        this.part();
      }
    });
    this.listen('addEventListener');
  }

  listen(how) {
    if (this.lifecycle) for (const type of ['pagehide', 'pageshow']) window[how](type, this.lifecycle);
  }

  join() {
    const abort = (this.abort = new AbortController());
    const channel = (this.channel = new BroadcastChannel(this.name));
    this.release = null;
    // (Away, the member has closed its channel: only `left` needs a check here.)
    channel.onmessage = (e) => {
      if (!this.left) this.onMessage(e.data);
    };
    navigator.locks
      .request(this.name, { signal: abort.signal }, () =>
        this.left || abort.signal.aborted
          ? undefined
          : new Promise((resolve) => {
              this.release = resolve;
              this.onLead();
            }),
      )
      // Aborted by leave() or pagehide while waiting: nothing to report.
      .catch(() => {});
  }

  // Gives up the lock (held or asked for) and the channel.
  part() {
    this.abort.abort();
    if (this.release) this.release();
    this.channel.onmessage = null;
    this.channel.close();
  }

  post(message) {
    if (!this.left && !this.away) this.channel.postMessage(message);
  }

  // How many members wait for the lock (the leader's followers), or 0 when unknown.
  async waiting() {
    try {
      const { pending } = await navigator.locks.query();
      return pending.filter((lock) => lock.name === this.name).length;
    } catch {
      return 0;
    }
  }

  leave() {
    if (this.left) return;
    this.left = true;
    this.listen('removeEventListener');
    if (!this.away) this.part();
  }
}
