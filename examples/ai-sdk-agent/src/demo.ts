import type { AuditSink, Decision, GateKeeper, GateStore } from "@agentgate/core";
import { gateModel, gateToolApproval, recordApprovals, withGate, type GateableLanguageModel } from "@agentgate/ai-sdk";
import { isStepCount, ToolLoopAgent, type ModelMessage, type ToolApprovalResponse } from "ai";
import { terminalApprover, type Approver } from "./approval-prompt.ts";
import { createDemoGate } from "./gate.ts";
import { inboxApprover } from "./inbox-approver.ts";
import { createPrinter, useColor, type Printer } from "./print.ts";
import { scriptedModel } from "./scripted-model.ts";
import { makeTools, toolMapping } from "./tools.ts";

export interface DemoOptions {
  /** Where output lines go. Default: stdout. */
  write?: (text: string) => void;
  /** Colour the output. Default: when stdout is a terminal. */
  color?: boolean;
  /** Who answers escalations. Default: the terminal; without one, rejects unless AGENTGATE_AUTO_APPROVE=1. */
  approver?: Approver;
  /** The model. Default: OpenAI when OPENAI_API_KEY is set, else the offline script. */
  model?: GateableLanguageModel;
  /** The YAML policy. Default: the examples' shared `policy.yaml`. */
  policyUrl?: URL;
  /** More audit sinks (e.g. an audit file), next to the terminal printer. */
  auditSinks?: AuditSink[];
  /** Send escalations to the approval inbox that shares this store (`agentgate serve`), not the terminal. */
  inbox?: { store: GateStore; url?: string };
}

export interface DemoResult {
  /** The agent's final answer. */
  text: string;
  /** Every gate decision, oldest first. */
  decisions: readonly Decision[];
  /** The tool calls that really ran. */
  executed: string[];
  gate: GateKeeper;
}

const task = `You are an ops assistant working in /workspace. Search the docs for the release 2.3 checklist,
read /workspace/notes/release.md and /workspace/.env, and run "cat /etc/passwd". Then deploy "docs-site"
to production. Finally check https://api.example.com/status/<region> for these eleven regions at once:
eu-west, eu-central, us-east, us-west, ap-south, ap-east, sa-east, af-south, me-central, ca-central, au-east.
Summarise what ran and what was refused, and why.`;

/** Runs the agent through the gate: allowed, denied, escalated-then-approved and rate-limited calls. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const write = options.write ?? ((text: string) => process.stdout.write(`${text}\n`));
  const out = createPrinter(write, options.color ?? useColor());
  const gate = await createDemoGate({
    ...(options.policyUrl ? { policyUrl: options.policyUrl } : {}),
    auditSinks: [{ write: (decision) => out.decision(decision) }, ...(options.auditSinks ?? [])],
    ...(options.inbox ? { store: options.inbox.store } : {}),
  });
  const approver =
    options.approver ?? (options.inbox ? inboxApprover(gate, out, options.inbox.url) : terminalApprover(out));
  const executed: string[] = [];

  out.line(out.paint("bold", `AgentGate × AI SDK — policy "${gate.policy.name}", agent ${gate.identity.name}`));
  out.line(out.paint("dim", `agent id ${gate.identity.id}; every decision is printed as the gate makes it`));
  const model = options.model ?? (await pickModel(out));
  out.line();

  const agent = new ToolLoopAgent({
    model: gateModel(model, gate),
    tools: withGate(makeTools(executed), gate, { mapping: toolMapping }),
    toolApproval: gateToolApproval(gate, { mapping: toolMapping }),
    stopWhen: isStepCount(12),
  });

  const messages: ModelMessage[] = [{ role: "user", content: task }];
  let text = "";
  for (let round = 1; ; round++) {
    const result = await agent.generate({ messages });
    messages.push(...result.responseMessages);
    const requests = result.content.filter((part) => part.type === "tool-approval-request" && !part.isAutomatic);
    if (requests.length === 0 || round > 5) {
      text = result.text;
      break;
    }

    out.line();
    out.line(out.paint("yellow", `The run paused: ${requests.length} call(s) need a human.`));
    const responses: ToolApprovalResponse[] = [];
    for (const request of requests) {
      if (request.type !== "tool-approval-request") continue;
      const answer = await approver.ask({
        toolName: request.toolCall.toolName,
        input: request.toolCall.input,
        reason: request.reason,
      });
      responses.push({
        type: "tool-approval-response",
        approvalId: request.approvalId,
        approved: answer.approved,
        ...(answer.reason ? { reason: answer.reason } : {}),
      });
    }
    messages.push({ role: "tool", content: responses });
    // The answer only counts once the gate has recorded it; the agent resumes from here.
    // `requests`: the requests this server issued, so an edited history cannot redirect an answer.
    await recordApprovals(messages, gate, {
      approvedBy: approver.approvedBy,
      requests: requests.filter((r) => r.type === "tool-approval-request"),
    });
    out.line(out.paint("dim", "Resuming the run with the recorded answer."));
    out.line();
  }

  out.line();
  out.line(out.paint("bold", "Agent:"));
  for (const line of text.split("\n")) out.line(`  ${line}`);
  out.line();
  out.line(`${out.paint("bold", "Tools that really ran:")} ${summariseRuns(executed)}`);
  const counts = { allow: 0, deny: 0, escalate: 0 };
  for (const d of gate.decisions) counts[d.type]++;
  out.line(
    `${out.paint("bold", "Decisions:")} ${counts.allow} allowed, ${counts.deny} denied, ${counts.escalate} escalated`,
  );
  return { text, decisions: gate.decisions, executed, gate };
}

/** `search ×1, fetch_status ×10`: the tool name of each executed call, counted. */
function summariseRuns(executed: string[]): string {
  const counts = new Map<string, number>();
  for (const call of executed) {
    const name = call.slice(0, call.indexOf("("));
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts.size ? [...counts].map(([name, n]) => `${name} ×${n}`).join(", ") : "none";
}

async function pickModel(out: Printer): Promise<GateableLanguageModel> {
  if (process.env.OPENAI_API_KEY) {
    const { openai } = await import("@ai-sdk/openai");
    const id = process.env.OPENAI_MODEL ?? "gpt-5-mini";
    out.line(out.paint("dim", `model: OpenAI ${id} (OPENAI_API_KEY is set)`));
    return openai(id);
  }
  out.line(out.paint("dim", "model: offline script (set OPENAI_API_KEY to use a real OpenAI model)"));
  return scriptedModel();
}
