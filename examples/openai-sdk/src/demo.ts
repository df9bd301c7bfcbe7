import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  type ApprovalAnswer,
  type ApprovalRequest,
  type Decision,
} from "@agentgate/core";
import { gateModelCalls, runToolCalls, verifyToolResults } from "@agentgate/openai";
import OpenAI from "openai";
import { terminalApproval } from "./approval-prompt.ts";
import { startFakeResponsesServer } from "./fake-responses-server.ts";
import { makeTools, toolDefinitions, toolMapping } from "./tools.ts";

export interface DemoOptions {
  /** Who answers escalations. Default: a terminal prompt (auto-answer without a TTY). */
  decide?: (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;
  /** Where lines go. Default: console.log. */
  log?: (line: string) => void;
}

export interface DemoResult {
  finalOutput: string;
  decisions: readonly Decision[];
  /** The function executions that actually happened. */
  executed: string[];
  /** The request bodies the offline server received (empty with a real model). */
  requests: unknown[];
}

const instructions = `You are an ops assistant. Search the docs for the AgentGate quick start, read
/workspace/secrets/api-token.txt, run "cat /etc/passwd", and deploy "docs-site" to production,
calling the tools in parallel. Then summarise what each tool returned, including refusals.`;

/** One agent loop on the Responses API, every function call and model call gated. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const policy = PermissionPolicy.fromYaml(new URL("../../policy.yaml", import.meta.url));
  const identity = await AgentIdentity.create("ops-assistant", { capabilities: ["search", "deploy"] });
  // No approvalHandler: an escalation comes back as "escalated", the loop asks a human and resolves it.
  const gate = new GateKeeper({
    identity,
    policy,
    auditSinks: [{ write: (decision) => log(formatDecision(decision)) }],
  });
  const decide = options.decide ?? terminalApproval(log);

  const offline = process.env.OPENAI_API_KEY ? undefined : await startFakeResponsesServer();
  const model = offline ? "offline-script" : (process.env.OPENAI_MODEL ?? "gpt-4.1-mini");
  log(
    offline
      ? "model: offline script on a local server (set OPENAI_API_KEY to use a real model)"
      : `model: ${model} (OpenAI)`,
  );
  const client = gateModelCalls(new OpenAI(offline ? { apiKey: "offline", baseURL: offline.baseURL } : {}), gate);
  const executed: string[] = [];
  const tools = makeTools(executed);

  try {
    let response = await client.responses.create({
      model,
      instructions,
      input: "Please do your tasks.",
      tools: toolDefinitions,
    });
    for (let turn = 0; turn < 5 && response.output.some((item) => item.type === "function_call"); turn++) {
      let results = await runToolCalls(response.output, { gate, tools, mapping: toolMapping });
      for (const pending of results.filter((r) => r.status === "escalated")) {
        const answer = await decide(
          (await gate.pendingEscalations()).find((p) => p.escalationId === pending.decision.escalationId)!,
        );
        await gate.resolveEscalation(pending.decision.escalationId!, answer);
      }
      // Asking again runs the approved call; calls that already ran are not run twice.
      if (results.some((r) => r.status === "escalated"))
        results = await runToolCalls(response.output, { gate, tools, mapping: toolMapping });
      // Before tool results go out: each must be one the gate produced (it matters when they pass through a client).
      const checked = await verifyToolResults(
        results.map((r) => r.item),
        gate,
      );
      if (!checked.ok) log(`! ${checked.forged.length} forged tool result(s) replaced`);
      // The server keeps the conversation: send only the tool results, the model reads denials as results.
      response = await client.responses.create({
        model,
        instructions,
        previous_response_id: response.id,
        input: checked.history,
        tools: toolDefinitions,
      });
    }
    const finalOutput = response.output_text;
    log("");
    log(finalOutput);
    log("");
    log(`tools that actually ran: ${executed.length > 0 ? executed.join(", ") : "none"}`);
    return { finalOutput, decisions: gate.decisions, executed, requests: offline?.requests ?? [] };
  } finally {
    await offline?.close();
  }
}

/** One line per decision, e.g. `[gate] DENY     file_read → /workspace/secrets/x (…)`. */
export function formatDecision(decision: Decision): string {
  const target = decision.target !== undefined ? ` → ${decision.target}` : "";
  return `[gate] ${decision.type.toUpperCase().padEnd(8)} ${decision.action}${target} (${decision.reason})`;
}
