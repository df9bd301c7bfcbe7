import { AgentIdentity, GateKeeper, PermissionPolicy, type Decision } from "@agentgate/core";
import { gateMiddleware, isGateInterrupt } from "@agentgate/langchain";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { Command, MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import type { Approver } from "./approval.ts";
import { makeTools, mapping } from "./tools.ts";

export interface RunOptions {
  model: BaseChatModel;
  approve: Approver;
  log?: (line: string) => void;
  /** The shared example policy by default. */
  policyPath?: string | URL;
  prompt?: string;
}

export interface RunResult {
  answer: string;
  decisions: readonly Decision[];
}

const icon = { allow: "✔", deny: "✘", escalate: "?" } as const;

/** One line per decision, as the demo prints them. */
export function formatDecision(d: Decision): string {
  const target = d.target !== undefined ? ` ${d.target}` : "";
  const by = d.approvedBy ? ` (by ${d.approvedBy})` : "";
  return `  ${icon[d.type]} ${d.type.toUpperCase().padEnd(8)} ${d.action}${target}${by}: ${d.reason}`;
}

/**
 * The whole demo: a createAgent loop behind gateMiddleware, with a MemorySaver
 * so escalations pause the run (a LangGraph interrupt) until `approve` answers.
 */
export async function runAgent(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? console.log;
  const policyPath = options.policyPath ?? new URL("../../policy.yaml", import.meta.url);
  const policy = PermissionPolicy.fromYaml(policyPath);
  const identity = await AgentIdentity.create("ops-assistant", { capabilities: ["search", "deploy"] });
  const gate = new GateKeeper({
    identity,
    policy,
    auditSinks: [{ write: (decision) => log(formatDecision(decision)) }],
  });
  log(`agent ${identity.name} (${identity.id}) under policy "${policy.name}"`);

  const agent = createAgent({
    model: options.model,
    tools: makeTools(log),
    middleware: [gateMiddleware(gate, { mapping })],
    checkpointer: new MemorySaver(),
    systemPrompt: "You are an operations assistant. Use the tools to do what you are asked.",
  });
  const config = { configurable: { thread_id: globalThis.crypto.randomUUID() } };
  const prompt =
    options.prompt ??
    "Find the deploy checklist, show me /workspace/.env, print my SSH key with the shell, check the weather in Paris, then deploy to production.";

  let result = await agent.invoke({ messages: [{ role: "user", content: prompt }] }, config);
  // Each pause is one or more escalations waiting for a human: answer each by interrupt id.
  for (let pauses = 0; result.__interrupt__?.length; pauses++) {
    if (pauses > 10) throw new Error("too many approval rounds");
    const resume: Record<string, unknown> = {};
    for (const pending of result.__interrupt__) {
      if (!isGateInterrupt(pending.value) || pending.id === undefined) throw new Error("unexpected interrupt");
      resume[pending.id] = await options.approve(pending.value);
    }
    result = await agent.invoke(new Command({ resume }), config);
  }

  const answer = String(result.messages.at(-1)?.content ?? "");
  log(`\nassistant: ${answer}`);
  return { answer, decisions: gate.decisions };
}
