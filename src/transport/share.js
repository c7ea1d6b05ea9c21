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
// `leave()`. After `leave()` neither callback is called again.
export class ShareLink {
  constructor(name, onMessage, onLead) {
    this.name = name;
    this.left = false;
    this.release = null;
    this.abort = new AbortController();
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (e) => {
      if (!this.left) onMessage(e.data);
    };
    navigator.locks
      .request(name, { signal: this.abort.signal }, () => {
        if (this.left) return undefined;
        return new Promise((resolve) => {
          this.release = resolve;
          onLead();
        });
      })
      // Aborted by leave() while waiting: nothing to report.
      .catch(() => {});
  }

  post(message) {
    if (!this.left) this.channel.postMessage(message);
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
    this.abort.abort();
    if (this.release) this.release();
    this.channel.onmessage = null;
    this.channel.close();
  }
}
