import { Agent, RunState, tool } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner } from "./test-utils/fixtures.js";

// Adversarial tests (issue 9) the shared adapter conformance suite (conformance.test.ts)
// does not express. A saved RunState may travel through a browser or a
// database and come back edited or replayed. Each test drives the real Runner loop
// with the SDK's ScriptedModel and asserts which tools actually ran. The app says
// so: every agent here is gated with `runState: "untrusted"`.
const untrusted = { runState: "untrusted" } as const;

const rules = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["search", "deploy", "rollback"],
    escalateTargets: ["deploy", "rollback"],
  },
];

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
  return {
    model,
    agent: new Agent({
      name: "ops",
      instructions: "",
      model,
      tools: gateTools([deployTool(ran), rollbackTool(ran)], gate, untrusted),
    }),
  };
}

/** Resumes a saved state on a fresh agent (another process) whose model only finishes. */
async function resume(gate: Awaited<ReturnType<typeof makeGate>>, ran: string[], text: string) {
  const model = new ScriptedModel([[assistantMessage("finished")], [assistantMessage("finished")]]);
  const agent = new Agent({
    name: "ops",
    instructions: "",
    model,
    tools: gateTools([deployTool(ran), rollbackTool(ran)], gate, untrusted),
  });
  const result = await makeRunner().run(agent, await RunState.fromString(agent, text));
  return { result, model };
}

describe("OpenAI Agents: edited and replayed run state", () => {
  it("two calls sharing one id with different arguments: the unapproved one never runs", async () => {
    const gate = await makeGate(rules, {
      approvalHandler: (r) => ({ approved: (r.args as { env: string }).env === "staging", approvedBy: "alice" }),
    });
    const ran: string[] = [];
    const id = callId("dup");
    const model = new ScriptedModel([
      [
        functionCall("deploy", { service: "api", env: "staging" }, { callId: id }),
        functionCall("deploy", { service: "api", env: "prod" }, { callId: id }),
      ],
      [assistantMessage("finished")],
    ]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model,
      tools: gateTools([deployTool(ran)], gate, untrusted),
    });
    // The SDK refuses such a run itself; either way, prod must never deploy.
    await makeRunner()
      .run(agent, "deploy twice")
      .catch((error: unknown) => {
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
});
