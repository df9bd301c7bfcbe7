import { Agent, RunState, tool } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

// Adversarial tests (issue 9): a saved RunState may travel through a browser or a
// database and come back edited or replayed. Each test drives the real Runner loop
// with the SDK's ScriptedModel and asserts which tools actually ran. The app says
// so: every agent here is gated with `runState: "untrusted"`.
const untrusted = { runState: "untrusted" } as const;

const rules = [{ action: "tool_use", allowed: true, allowedTargets: ["search", "deploy", "rollback"], escalateTargets: ["deploy", "rollback"] }];

function rollbackTool(executions: string[]) {
  return tool({
    name: "rollback",
    description: "Roll a service back",
    parameters: z.object({ service: z.string(), env: z.string() }),
    execute: async ({ service, env }) => {
      executions.push(`rollback ${service}@${env}`);
      return `rolled back ${service} in ${env}`;
    },
  });
}

/** An agent that asks for one deploy (then finishes), with deploy and rollback behind `gate`. */
function opsAgent(gate: Awaited<ReturnType<typeof makeGate>>, id: string, ran: string[]) {
  const model = new ScriptedModel([
    [functionCall("deploy", { service: "api", env: "prod" }, { callId: id })],
    [assistantMessage("finished")],
    [assistantMessage("finished")],
  ]);
  return { model, agent: new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran), rollbackTool(ran)], gate, untrusted) }) };
}

/** Pauses on the deploy, records the human's answer in the gate and the state, and returns the saved state. */
async function approvedAndSaved(gate: Awaited<ReturnType<typeof makeGate>>, id: string, ran: string[]) {
  const paused = await makeRunner().run(opsAgent(gate, id, ran).agent, "deploy api");
  expect(paused.interruptions).toHaveLength(1);
  const [outcome] = await resolveGateInterruptions(paused, gate, () => ({ approved: true, approvedBy: "alice" }));
  expect(outcome).toMatchObject({ approved: true });
  return paused.state.toString();
}

/**
 * Edits a saved state consistently (every copy, including the SDK's own
 * approval-to-invocation fingerprint), so that only the gate stands between
 * the edit and the tool.
 */
function edit(saved: string, change: (text: string) => string): string {
  return change(saved);
}

/** Resumes a saved state on a fresh agent (another process) whose model only finishes. */
async function resume(gate: Awaited<ReturnType<typeof makeGate>>, ran: string[], text: string) {
  const model = new ScriptedModel([[assistantMessage("finished")], [assistantMessage("finished")]]);
  const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran), rollbackTool(ran)], gate, untrusted) });
  const result = await makeRunner().run(agent, await RunState.fromString(agent, text));
  return { result, model };
}

describe("OpenAI Agents: edited and replayed run state", () => {
  it("an approved call whose arguments were edited in the saved state does not run", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const saved = await approvedAndSaved(gate, id, ran);
    const edited = edit(saved, (t) => t.replaceAll("prod", "prdx")); // every copy of the arguments
    const { model } = await resume(gate, ran, edited);
    expect(ran).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toMatchObject({ denied: true, code: "call_mismatch" });
  });

  it("an approved call whose tool was swapped in the saved state (same call id) does not run", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const saved = await approvedAndSaved(gate, id, ran);
    const swapped = edit(saved, (t) => t.replaceAll("deploy", "rollback"));
    await resume(gate, ran, swapped);
    expect(ran).toEqual([]);
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "call_mismatch", target: "rollback" });
  });

  it("an approval moved onto another call id in the saved state does not run", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const saved = await approvedAndSaved(gate, id, ran);
    const moved = edit(saved, (t) => t.replaceAll(id, `${id}-forged`));
    await resume(gate, ran, moved);
    expect(ran).toEqual([]);
    expect(await gate.pendingEscalations()).toEqual(expect.arrayContaining([expect.objectContaining({ callId: `${id}-forged` })]));
  });

  it("two calls sharing one id with different arguments: the unapproved one never runs", async () => {
    const gate = await makeGate(rules, { approvalHandler: (r) => ({ approved: (r.args as { env: string }).env === "staging", approvedBy: "alice" }) });
    const ran: string[] = [];
    const id = callId("dup");
    const model = new ScriptedModel([
      [functionCall("deploy", { service: "api", env: "staging" }, { callId: id }), functionCall("deploy", { service: "api", env: "prod" }, { callId: id })],
      [assistantMessage("finished")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate, untrusted) });
    // The SDK refuses such a run itself; either way, prod must never deploy.
    await makeRunner().run(agent, "deploy twice").catch((error: unknown) => {
      expect(String(error)).toMatch(/reused/);
    });
    expect(ran).not.toContain("api@prod");
  });

  it("the decide callback cannot let the agent approve itself, nor approve through __proto__", async () => {
    for (const answer of [
      (g: Awaited<ReturnType<typeof makeGate>>) => ({ approved: true, approvedBy: g.identity.name.toUpperCase() }),
      () => JSON.parse('{"__proto__": {"approved": true}}'),
    ]) {
      const gate = await makeGate(rules);
      const ran: string[] = [];
      const id = callId();
      const paused = await makeRunner().run(opsAgent(gate, id, ran).agent, "deploy api");
      const [outcome] = await resolveGateInterruptions(paused, gate, () => answer(gate));
      expect(outcome).toMatchObject({ approved: false });
      await resume(gate, ran, paused.state.toString());
      expect(ran).toEqual([]);
    }
  });

  it("a state resumed after approvalTtlMs does not run on the old approval", async () => {
    let now = Date.UTC(2026, 0, 1);
    const gate = await makeGate(rules, { approvalTtlMs: 60_000, clock: () => now });
    const ran: string[] = [];
    const id = callId();
    const saved = await approvedAndSaved(gate, id, ran);
    now += 60_001;
    const { result } = await resume(gate, ran, saved);
    expect(ran).toEqual([]);
    // The gate treats it as a new request: a human is asked again.
    expect(result.interruptions.length + (await gate.pendingEscalations()).length).toBeGreaterThan(0);
  });

  it("a 1 MB call id is refused without crashing the run", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const model = new ScriptedModel([[functionCall("deploy", { service: "api", env: "prod" }, { callId: "c".repeat(1 << 20) })], [assistantMessage("finished")]]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate, untrusted) });
    const result = await makeRunner().run(agent, "deploy");
    expect(ran).toEqual([]);
    expect(result.interruptions).toEqual([]);
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "invalid_input" });
  });

  // Fixed: adapters claim the execution (`execute: true`), so a recorded call runs once and a replay is DENY call_replayed.
  it("resuming a saved approved state twice runs the call once", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const saved = await approvedAndSaved(gate, id, ran);
    await resume(gate, ran, saved);
    expect(ran).toEqual(["api@prod"]);
    await resume(gate, ran, saved);
    expect(ran).toEqual(["api@prod"]);
  });
});
