import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runToolCalls } from "./run-tool-calls.js";
import { makeGate, RULES } from "./test-utils/gate.js";

describe("runToolCalls invariants", () => {
  it("any model output (hostile names, ids, arguments) ends in a result per call, never a crash; a function runs only on ALLOW", async () => {
    const gate = await makeGate(RULES);
    const call = fc.record({
      id: fc.oneof(fc.string(), fc.constant(""), fc.string({ minLength: 1100, maxLength: 1200 })),
      type: fc.constant("function" as const),
      function: fc.record({
        name: fc.oneof(fc.constantFrom("search", "delete_repo", "deploy", ""), fc.string()),
        arguments: fc.oneof(fc.string(), fc.json()),
      }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 4 }), async (calls) => {
        const ran: string[] = [];
        const fn = (name: string) => (args: unknown) => (ran.push(name), { ok: true, args });
        const results = await runToolCalls(calls, {
          gate,
          tools: { search: fn("search"), delete_repo: fn("delete_repo"), deploy: fn("deploy") },
        });
        expect(results).toHaveLength(calls.length);
        for (const r of results) {
          expect(typeof r.item.content).toBe("string");
          if (r.status === "ran" && !r.replayed) expect(r.decision.type).toBe("allow");
          if (r.status !== "ran" && r.status !== "failed") expect(r.decision.type).not.toBe("allow");
        }
        expect(ran.every((n) => n === "search")).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
