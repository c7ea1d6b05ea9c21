// A strict TypeScript consumer of both front-end entries, type-checked (never run) by
// tests/e2e/react.test.mjs with `tsc --strict` against the packed package.
import { useEventSource, useEventSourceEvents, type EventSourceError, type UseEventSourceResult } from "wasm-eventsource/react";
import { useEventSource as useVueEventSource, useEventSourceEvents as useVueEventSourceEvents, type EventListOptions } from "wasm-eventsource/vue";
import { computed, ref } from "vue";

interface Chat {
  user: string;
  text: string;
}

function describe(error: EventSourceError | null): string {
  if (error === null) return "";
  // The union narrows on `kind`.
  return error.kind === "decode" ? `bad data: ${error.data}` : `closed: ${error.reason} ${error.status ?? ""}`;
}

export function Latest({ channel }: { channel: string }) {
  const result: UseEventSourceResult<Chat> = useEventSource<Chat>(`/events?channel=${channel}`, "chat", {
    transport: "fetch",
    headers: { Authorization: "Bearer t" },
  });
  const { state, data, meta, error, close, reconnect } = result;
  const attempt = state.kind === "reconnecting" ? state.attempt : 0;
  return (
    <p title={meta?.lastEventId} onClick={state.kind === "closed" ? reconnect : close}>
      {state.kind} {attempt} {data?.user}: {data?.text} {describe(error)}
    </p>
  );
}

export function History() {
  const { events } = useEventSourceEvents<Chat>(new URL("/events", location.href), "chat", undefined, { keep: 10 });
  // Options of null, as the runtime takes them (the types refused them).
  useEventSource<Chat>("/events", "chat", events.length > 5 ? { transport: "fetch" } : null);
  return (
    <ul>
      {events.map(({ data }, i) => (
        <li key={i}>{data.text}</li>
      ))}
    </ul>
  );
}

export function vueSetup() {
  const channel = ref("chat");
  const url = computed(() => `/events?channel=${channel.value}`);
  const { state, data, meta, error, close, reconnect } = useVueEventSource<Chat>(url, "chat", () => ({ transport: "fetch" as const }));
  const fromGetter = useVueEventSource<Chat>(() => `/events?channel=${channel.value}`, "chat");
  useVueEventSource<Chat>(url, "chat", () => (channel.value ? null : { transport: "fetch" as const }));
  const text: string | undefined = data.value?.text;
  const list: EventListOptions = { keep: computed(() => (channel.value === "chat" ? 10 : 5)) };
  const { events } = useVueEventSourceEvents<Chat>(url, "chat", undefined, list);
  const texts: string[] = events.value.map((e) => `${e.meta.lastEventId}:${e.data.text}`);
  return { state, text, texts, meta, error, close, reconnect, other: fromGetter.state.value.kind, describe: () => describe(error.value) };
}
