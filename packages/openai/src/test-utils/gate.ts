import { AgentIdentity, GateKeeper, PermissionPolicy, type ActionRule, type GateKeeperOptions } from "@agentgate/core";
import OpenAI from "openai";

let policies = 0;

/** A fresh gate (fresh identity and policy name, so call ids never collide across tests). */
export async function makeGate(
  rules: ActionRule[],
  options: Partial<Omit<GateKeeperOptions, "policy">> = {},
): Promise<GateKeeper> {
  const identity = options.identity ?? (await AgentIdentity.create("ops-bot"));
  const policy = new PermissionPolicy({ name: `test-policy-${++policies}`, rules });
  return new GateKeeper({ ...options, identity, policy });
}

/** The real client, pointed at the fake server: no key, no network, no retries. */
export function makeClient(baseURL: string): OpenAI {
  return new OpenAI({ apiKey: "sk-test", baseURL, maxRetries: 0 });
}

/** The usual rules: search and get_weather allowed, delete_repo denied, deploy escalates. */
export const RULES: ActionRule[] = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["search", "get_weather", "deploy"],
    escalateTargets: ["deploy"],
    deniedTargets: ["delete_repo"],
  },
  { action: "llm_call", allowed: true },
];
