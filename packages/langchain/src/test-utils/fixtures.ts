import { AgentIdentity, GateKeeper, PermissionPolicy, type ActionRule, type GateKeeperOptions } from "@agentgate/core";
import { tool } from "@langchain/core/tools";
import { z } from "zod";

/** The rules most tests share: search allowed, deploy needs a human, shell never, model calls capped. */
export const baseRules: ActionRule[] = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["search", "deploy", "get_weather"],
    escalateTargets: ["deploy"],
  },
  { action: "llm_call", allowed: true, maxPerMinute: 100 },
  { action: "shell", allowed: false },
];

let n = 0;

/** A fresh gate (fresh identity and store) per test, so call ids never collide. */
export async function makeGate(
  rules: ActionRule[] = baseRules,
  options: Partial<Omit<GateKeeperOptions, "identity" | "policy">> = {},
): Promise<GateKeeper> {
  const identity = await AgentIdentity.create(`test-bot-${++n}`);
  const policy = new PermissionPolicy({ name: "langchain-test", rules });
  return new GateKeeper({ identity, policy, ...options });
}

/** Real LangChain tools that record every time their function actually runs. */
export function makeTools() {
  const runs: string[] = [];
  const search = tool(
    async ({ query }) => {
      runs.push(`search:${query}`);
      return `results for ${query}`;
    },
    { name: "search", description: "Search the docs", schema: z.object({ query: z.string() }) },
  );
  const deploy = tool(
    async ({ env }) => {
      runs.push(`deploy:${env}`);
      return `deployed to ${env}`;
    },
    { name: "deploy", description: "Deploy the service", schema: z.object({ env: z.string() }) },
  );
  const shell = tool(
    async ({ cmd }) => {
      runs.push(`shell:${cmd}`);
      return `ran ${cmd}`;
    },
    { name: "shell", description: "Run a shell command", schema: z.object({ cmd: z.string() }) },
  );
  return { runs, search, deploy, shell };
}

/** A unique tool call id, so call-id idempotency never links two tests. */
export function callId(prefix = "call"): string {
  return `${prefix}_${globalThis.crypto.randomUUID()}`;
}
