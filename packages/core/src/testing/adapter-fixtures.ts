import { AgentIdentity } from "../identity/agent-identity.js";
import { GateKeeper, type GateKeeperOptions } from "../gate/gate-keeper.js";
import type { GateStore } from "../gate/store.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ConformanceCall, ConformanceInput, ConformanceTools } from "./adapter-driver.js";

export const AGENT_NAME = "conformance-agent";
export const TTL_MS = 60_000;

let policies = 0;

/** A fresh gate per scenario (fresh identity and policy name, so call ids never collide). */
export async function conformanceGate(
  options: Partial<Omit<GateKeeperOptions, "identity" | "policy">> = {},
): Promise<GateKeeper> {
  const identity = await AgentIdentity.create(AGENT_NAME);
  const policy = new PermissionPolicy({
    name: `adapter-conformance-${++policies}`,
    rules: [
      // A rate limit, so every call goes through the store (and the store-down case can fail).
      {
        action: "tool_use",
        allowed: true,
        allowedTargets: ["search", "deploy", "rollback"],
        escalateTargets: ["deploy", "rollback"],
        maxPerMinute: 1_000,
      },
      // No limit on model calls: adapters that gate them too still reach the tool call when the store is down.
      { action: "llm_call", allowed: true },
    ],
  });
  return new GateKeeper({ approvalTtlMs: TTL_MS, ...options, identity, policy });
}

/** Tools that record every run, in order. */
export function recordingTools(): { tools: ConformanceTools; ran: string[] } {
  const ran: string[] = [];
  const tools: ConformanceTools = {
    names: ["search", "shell", "deploy", "rollback"],
    run(toolName: string, input: ConformanceInput): string {
      ran.push(`${toolName}:${input.service}`);
      return `ran ${toolName}:${input.service}`;
    },
  };
  return { tools, ran };
}

let calls = 0;
export function call(toolName: string, service: string, label = "call"): ConformanceCall {
  return { toolName, input: { service }, callId: `${label}_${++calls}_${globalThis.crypto.randomUUID().slice(0, 8)}` };
}

/** A store whose every method rejects, as an unreachable backend would. */
export function downStore(): GateStore {
  return new Proxy({} as GateStore, {
    get(_, key) {
      if (key === "then") return undefined;
      return () => Promise.reject(new Error("conformance: store is down"));
    },
  });
}
