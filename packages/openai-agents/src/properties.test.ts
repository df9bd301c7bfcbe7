import { Agent } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, searchTool } from "./test-utils/fixtures.js";

describe("invariants", () => {
  // Reading argument strings is core's parseToolArguments, property-tested there.
  it("a tool the policy denies never executes, whatever arguments and human answers come in", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.json(),
            fc.record({ service: fc.string(), env: fc.string() }).map((v) => JSON.stringify(v)),
          ),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.constantFrom<unknown>(true, false, { approved: true }, "yes", null),
        async (argumentStrings, answer) => {
          // deploy is denied outright (denied_targets beats escalate_targets).
          const gate = await makeGate([
            { action: "tool_use", allowed: true, escalateTargets: ["deploy"], deniedTargets: ["deploy"] },
          ]);
          const ran: string[] = [];
          const model = new ScriptedModel([
            argumentStrings.map((args) => functionCall("deploy", args, { callId: callId() })),
            [assistantMessage("done")],
          ]);
          const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate) });
          const runner = makeRunner();
          let result = await runner.run(agent, "go");
          for (let turn = 0; result.interruptions.length > 0 && turn < 3; turn++) {
            await resolveGateInterruptions(result, gate, () => answer as never);
            result = await runner.run(agent, result.state);
          }
          expect(ran).toEqual([]);
          expect(result.finalOutput).toBe("done");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("an escalated call runs exactly when the human approved it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), async (answers) => {
        const gate = await makeGate([{ action: "tool_use", allowed: true, escalateTargets: ["deploy"] }]);
        const ran: string[] = [];
        const model = new ScriptedModel([
          answers.map((_, i) => functionCall("deploy", { service: `s${i}`, env: "prod" }, { callId: callId() })),
          [assistantMessage("done")],
        ]);
        const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate) });
        const runner = makeRunner();
        let result = await runner.run(agent, "go");
        await resolveGateInterruptions(
          result,
          gate,
          (request) => answers[Number((request.args as { service: string }).service.slice(1))]!,
        );
        result = await runner.run(agent, result.state);
        const expected = answers.flatMap((approved, i) => (approved ? [`s${i}@prod`] : []));
        expect([...ran].sort()).toEqual(expected.sort());
      }),
      { numRuns: 30 },
    );
  });
});
