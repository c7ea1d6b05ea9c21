// Code the types must reject: tests/e2e/react.test.mjs expects exactly these errors.
import { useEventSource, useEventSourceEvents } from "wasm-eventsource/react";
import { useEventSource as useVueEventSource } from "wasm-eventsource/vue";
export function wrong() {
  const { data } = useEventSource<{ n: number }>("/events", "tick", { transport: "carrier-pigeon" });
  const { events } = useEventSourceEvents<{ n: number }>("/events", "tick", undefined, { keep: "all" });
  const vue = useVueEventSource<{ n: number }>("/events", "tick");
  vue.data.value = { n: 1 };
  return [data?.missing, events[0]?.data.missing];
}
