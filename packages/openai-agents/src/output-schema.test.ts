import { PermissionDeniedError } from "@agentgate/core";
import { Agent, tool } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

const Status = z.object({ ok: z.boolean(), detail: z.string() });

function statusTool(ran: string[], extra: Partial<Parameters<typeof tool>[0]> = {}) {
  return tool({
    name: "status",
    description: "Service status",
    parameters: z.object({ service: z.string() }),
    outputSchema: Status,
    execute: async ({ service }) => {
      ran.push(service);
      return { ok: true, detail: `${service} is up` };
    },
    ...(extra as object),
  } as Parameters<typeof tool>[0]) as ReturnType<typeof tool>;
}

function scenario(id: string) {
  return new ScriptedModel([
    [functionCall("status", { service: "api" }, { callId: id })],
    [assistantMessage("checked")],
  ]);
}

describe("tools with an outputSchema", () => {
  it("run normally when allowed", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = scenario(id);
    const tools = gateTools([statusTool(ran)], gate, { deniedOutput: (d) => ({ ok: false, detail: d.reason }) });
    await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools }), "status");
    expect(ran).toEqual(["api"]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toEqual({ ok: true, detail: "api is up" });
  });

  it("return the schema-fitting `deniedOutput` when denied, and the run goes on", async () => {
    const gate = await makeGate([]);
    const ran: string[] = [];
    const id = callId();
    const model = scenario(id);
    const tools = gateTools([statusTool(ran)], gate, {
      deniedOutput: (denial) => ({ ok: false, detail: `refused: ${denial.reason}` }),
    });
    const result = await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools }), "status");
    expect(result.finalOutput).toBe("checked");
    expect(ran).toEqual([]);
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    expect(seen.ok).toBe(false);
    expect(seen.detail).toMatch(/^refused: .*tool_use/);
  });

  it("fall back to the tool's own errorFunction, which receives a PermissionDeniedError", async () => {
    const gate = await makeGate([]);
    const ran: string[] = [];
    const received: unknown[] = [];
    const id = callId();
    const model = scenario(id);
    const own = statusTool(ran, {
      errorFunction: (_ctx: unknown, error: unknown) => {
        received.push(error);
        return { ok: false, detail: "unavailable" };
      },
    } as never);
    await makeRunner().run(
      new Agent({ name: "ops", instructions: "", model, tools: gateTools([own], gate) }),
      "status",
    );
    expect(ran).toEqual([]);
    expect(received).toHaveLength(1);
    expect(PermissionDeniedError.isInstance(received[0])).toBe(true);
    expect((received[0] as PermissionDeniedError).decision.type).toBe("deny");
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toEqual({ ok: false, detail: "unavailable" });
  });

  it("return core's deniedToolResult for a JSON-schema outputSchema (which the SDK does not validate)", async () => {
    const gate = await makeGate([]);
    const ran: string[] = [];
    const id = callId();
    const model = scenario(id);
    const jsonSchemaTool = tool({
      name: "status",
      description: "Service status",
      parameters: z.object({ service: z.string() }),
      outputSchema: {
        type: "object",
        properties: { ok: { type: "boolean" } },
        required: ["ok"],
        additionalProperties: true,
      },
      execute: async ({ service }) => (ran.push(service), { ok: true }),
    });
    await makeRunner().run(
      new Agent({ name: "ops", instructions: "", model, tools: gateTools([jsonSchemaTool], gate) }),
      "s",
    );
    expect(ran).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toMatchObject({ denied: true, decision: "deny" });
  });

  it("refuse, when gated, a schema that no refusal fits without deniedOutput or errorFunction (instead of aborting the run later)", async () => {
    const gate = await makeGate([]);
    const ran: string[] = [];
    expect(() => gateTools([statusTool(ran)], gate)).toThrow(/tool "status".*outputSchema.*`deniedOutput`/s);
    // A schema the refusal fits needs nothing more, and a denied call does not abort the run.
    const loose = tool({
      name: "status",
      description: "Service status",
      parameters: z.object({ service: z.string() }),
      outputSchema: z.object({
        denied: z.boolean().optional(),
        reason: z.string().optional(),
        ok: z.boolean().optional(),
      }),
      execute: async ({ service }) => (ran.push(service), { ok: true }),
    });
    const id = callId();
    const model = scenario(id);
    const result = await makeRunner().run(
      new Agent({ name: "ops", instructions: "", model, tools: gateTools([loose], gate) }),
      "status",
    );
    expect(result.finalOutput).toBe("checked");
    expect(ran).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toMatchObject({ denied: true });
  });

  it("use the fallback for a rejected escalation too", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, requireApproval: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = scenario(id);
    const tools = gateTools([statusTool(ran)], gate, { deniedOutput: (d) => ({ ok: false, detail: d.reason }) });
    const agent = new Agent({ name: "ops", instructions: "", model, tools });
    const runner = makeRunner();
    let result = await runner.run(agent, "status");
    expect(result.interruptions).toHaveLength(1);
    await resolveGateInterruptions(result, gate, () => ({ approved: false, reason: "not now" }));
    result = await runner.run(agent, result.state);
    expect(result.finalOutput).toBe("checked");
    expect(ran).toEqual([]);
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    expect(seen).toEqual({ ok: false, detail: expect.stringMatching(/not now/) });
  });

  it("run after an approved escalation, with the real output", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, requireApproval: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = scenario(id);
    const tools = gateTools([statusTool(ran)], gate, { deniedOutput: (d) => ({ ok: false, detail: d.reason }) });
    const agent = new Agent({ name: "ops", instructions: "", model, tools });
    const runner = makeRunner();
    let result = await runner.run(agent, "status");
    await resolveGateInterruptions(result, gate, () => true);
    result = await runner.run(agent, result.state);
    expect(ran).toEqual(["api"]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toEqual({ ok: true, detail: "api is up" });
  });
});
