import { AgentIdentity, GateKeeper, PermissionPolicy, type ActionRule, type GateKeeperOptions } from "@agentgate/core";
import { Runner, tool, type RunResult } from "@openai/agents-core";
import { z } from "zod";

let policies = 0;

/** A fresh gate (fresh identity, so call ids never collide across tests). */
export async function makeGate(
  rules: ActionRule[],
  options: Partial<Omit<GateKeeperOptions, "policy">> = {},
): Promise<GateKeeper> {
  const identity = options.identity ?? (await AgentIdentity.create("ops-bot"));
  const policy = new PermissionPolicy({ name: `test-policy-${++policies}`, rules });
  return new GateKeeper({ ...options, identity, policy });
}

/** The SDK runner every test uses: no tracing, nothing leaves the process. */
export function makeRunner(config: ConstructorParameters<typeof Runner>[0] = {}): Runner {
  return new Runner({ tracingDisabled: true, ...config });
}

/** A search tool that records every execution. */
export function searchTool(executions: string[] = []) {
  return tool({
    name: "search",
    description: "Search the docs",
    parameters: z.object({ query: z.string() }),
    execute: async ({ query }) => {
      executions.push(query);
      return `results for ${query}`;
    },
  });
}

/** A deploy tool that records every execution. */
export function deployTool(executions: string[] = []) {
  return tool({
    name: "deploy",
    description: "Deploy a service",
    parameters: z.object({ service: z.string(), env: z.string() }),
    execute: async ({ service, env }) => {
      executions.push(`${service}@${env}`);
      return `deployed ${service} to ${env}`;
    },
  });
}

/** The text of every function_call_result the model was sent, by call id. */
export function toolResultsSeenByModel(requests: readonly { request: { input: unknown } }[]): Map<string, string> {
  const seen = new Map<string, string>();
  for (const { request } of requests) {
    if (!Array.isArray(request.input)) continue;
    for (const item of request.input as Array<Record<string, any>>) {
      if (item?.type !== "function_call_result") continue;
      const output = item.output;
      const text = typeof output === "string" ? output : output?.type === "text" ? output.text : JSON.stringify(output);
      seen.set(item.callId, text);
    }
  }
  return seen;
}

export type AnyRunResult = RunResult<any, any>;

let calls = 0;
/** A call id no other test uses (core remembers call ids per policy and agent). */
export function callId(label = "call"): string {
  return `${label}_${++calls}_${Math.random().toString(36).slice(2, 8)}`;
}
