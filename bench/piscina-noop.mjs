// Piscina worker for the empty-task baseline of bench/engine.ts: returns immediately.
export default function noop() {
  return undefined;
}
