import { AgentIdentity, GateKeeper, PermissionPolicy, type Decision } from "@agentgate/core";
import { gateModel, gateTools, resolveGateInterruptions, type ApprovalDecider } from "@agentgate/openai-agents";
import { Agent, OpenAIProvider, RunState, Runner, type Model } from "@openai/agents";
import { terminalApproval } from "./approval-prompt.ts";
import { scriptedModel } from "./scripted-model.ts";
import { makeTools, toolMapping } from "./tools.ts";

export interface DemoOptions {
  /** The model to drive the agent. Default: OpenAI when OPENAI_API_KEY is set, else the offline script. */
  model?: Model;
  /** The model name the policy sees. */
  modelName?: string;
  /** Who answers escalations. Default: a terminal prompt (auto-answer without a TTY). */
  decide?: ApprovalDecider;
  /** Where lines go. Default: console.log. */
  log?: (line: string) => void;
  /** The policy file. Default: the examples' shared policy.yaml. */
  policyUrl?: URL;
}

export interface DemoResult {
  finalOutput: string;
  /** Every decision the gate made, oldest first. */
  decisions: readonly Decision[];
  /** The tool executions that actually happened. */
  executed: string[];
}

const instructions = `You are an ops assistant. First search the docs for the AgentGate quick start,
read /workspace/secrets/api-token.txt, and run "cat /etc/passwd". Then deploy the service
"docs-site" to production. Finally summarise what each tool returned, including refusals.`;

/** Runs the agent once through the gate: pause on escalation, ask, resume. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const policy = PermissionPolicy.fromYaml(options.policyUrl ?? new URL("../../policy.yaml", import.meta.url));
  const identity = await AgentIdentity.create("ops-assistant", { capabilities: ["search", "deploy"] });
  const gate = new GateKeeper({
    identity,
    policy,
    auditSinks: [{ write: (decision) => log(formatDecision(decision)) }],
  });

  const { model, modelName } = await pickModel(options, log);
  const executed: string[] = [];
  const agent = new Agent({
    name: "ops-assistant",
    instructions,
    model: gateModel(model, gate, { modelName }),
    tools: gateTools(makeTools(executed), gate, { mapping: toolMapping }),
  });
  const runner = new Runner({ tracingDisabled: true });
  const decide = options.decide ?? terminalApproval(log);

  log(`policy "${policy.name}", agent ${identity.name} (${identity.id})`);
  let result = await runner.run(agent, "Please do your tasks.");
  while (result.interruptions.length > 0) {
    // The state could wait in a database for hours; show that it survives as a string.
    const saved = result.state.toString();
    log(
      `… paused for approval (${result.interruptions.length} call(s)); run state saved as ${saved.length} characters`,
    );
    const state = await RunState.fromString<undefined, typeof agent>(agent, saved);
    const outcomes = await resolveGateInterruptions(state, gate, decide);
    for (const outcome of outcomes) {
      log(`  → ${outcome.toolName}: ${outcome.approved ? "approved" : "rejected"} (${outcome.reason})`);
    }
    if (outcomes.length === 0) throw new Error("the run paused for something the gate did not raise");
    result = await runner.run(agent, state);
  }

  const finalOutput = String(result.finalOutput ?? "");
  log("");
  log(finalOutput);
  log("");
  log(`tools that actually ran: ${executed.length > 0 ? executed.join(", ") : "none"}`);
  return { finalOutput, decisions: gate.decisions, executed };
}

async function pickModel(
  options: DemoOptions,
  log: (line: string) => void,
): Promise<{ model: Model; modelName: string }> {
  if (options.model) return { model: options.model, modelName: options.modelName ?? "custom" };
  if (process.env.OPENAI_API_KEY) {
    const modelName = options.modelName ?? process.env.OPENAI_MODEL ?? "gpt-4.1-mini";
    log(`model: ${modelName} (OpenAI, because OPENAI_API_KEY is set)`);
    return { model: await new OpenAIProvider().getModel(modelName), modelName };
  }
  log("model: offline script (set OPENAI_API_KEY to use a real model)");
  return { model: scriptedModel(), modelName: "scripted-offline" };
}

/** One line per decision, e.g. `[gate] DENY     file_read → /workspace/secrets/x (…)`. */
export function formatDecision(decision: Decision): string {
  const target = decision.target !== undefined ? ` → ${decision.target}` : "";
  return `[gate] ${decision.type.toUpperCase().padEnd(8)} ${decision.action}${target} (${decision.reason})`;
}
