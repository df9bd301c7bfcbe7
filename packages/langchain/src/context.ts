import type { GateKeeper } from "@agentgate/core";

/** Throws a TypeError when `gate` is not a GateKeeper (a misuse, caught where the adapter is built). */
export function requireGate(gate: GateKeeper, who: string): void {
  if (!gate || typeof (gate as Partial<GateKeeper>).checkToolCall !== "function") {
    throw new TypeError(`${who} needs a GateKeeper`);
  }
}

/** What every decision records about where it came from: the framework, the app's context, the thread. */
export function contextOf(context: Record<string, unknown> | undefined, threadId: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { framework: "langchain", ...context };
  if (typeof threadId === "string") out.threadId = threadId;
  return out;
}
