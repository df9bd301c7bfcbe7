import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import { targetKind } from "../policy/target.js";
import { targetPatternProblem } from "../policy/validate.js";
import { GateKeeper } from "./gate-keeper.js";

const identity = await AgentIdentity.create("prop-bot");
const actions = ["tool_use", "llm_call", "file_read", "network", "shell", "custom"];
const targetPool = ["search", "/w/a", "/w/.env", "/w/../etc/passwd", "https://api.example.com/x", "x", "deploy"];
const globPool = ["search", "/w/**", "**/.env", "*", "**", "https://api.example.com/**", "{x,deploy}", "?"];

// Only patterns that can match this action's normalised targets (the policy refuses the others).
const globsFor = (action: string) => globPool.filter((p) => targetPatternProblem(targetKind(action), p) === undefined);

const rule = (action: string) =>
  fc.record(
    {
      action: fc.constant(action),
      allowed: fc.boolean(),
      allowedTargets: fc.array(fc.constantFrom(...globsFor(action)), { maxLength: 3 }),
      deniedTargets: fc.array(fc.constantFrom(...globsFor(action)), { maxLength: 2 }),
      escalateTargets: fc.array(fc.constantFrom(...globsFor(action)), { maxLength: 2 }),
      requireApproval: fc.boolean(),
      maxPerMinute: fc.nat({ max: 5 }),
      escalateAfter: fc.nat({ max: 5 }),
      denyAfter: fc.nat({ max: 5 }),
    },
    { requiredKeys: ["action"] },
  ) as fc.Arbitrary<ActionRule>;

const policyArb = fc
  .subarray(actions, { minLength: 0 })
  .chain((as) => fc.tuple(...as.map(rule)))
  .map((rules) => new PermissionPolicy({ name: "prop", rules }));

const request = fc.record({
  action: fc.constantFrom(...actions, "unknown_action"),
  target: fc.option(fc.constantFrom(...targetPool), { nil: undefined }),
});

describe("gate invariants (property-based)", () => {
  it("an action without a rule is never allowed", async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(request, { maxLength: 10 }), async (policy, reqs) => {
        const gate = new GateKeeper({ identity, policy, approvalHandler: () => true });
        for (const r of reqs) {
          const d = await gate.check(r.action, r.target === undefined ? undefined : { target: r.target });
          if (!policy.getRule(r.action)) expect(d.type).toBe("deny");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("a target in denied_targets is never allowed, whatever else the rule says (even with approvals)", async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(request, { maxLength: 10 }), async (policy, reqs) => {
        const gate = new GateKeeper({ identity, policy, approvalHandler: () => ({ approved: true, approvedBy: "h" }) });
        for (const r of reqs) {
          const d = await gate.check(r.action, r.target === undefined ? undefined : { target: r.target });
          const explained = policy.explain(r.action, r.target);
          if (explained.code === "denied_target") expect(d.type).toBe("deny");
          if (explained.decision === "deny") expect(d.type).toBe("deny");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("limits are never exceeded under concurrency", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 20 }),
        fc.option(fc.nat({ max: 20 }), { nil: undefined }),
        fc.integer({ min: 1, max: 80 }),
        fc.boolean(),
        async (maxPerMinute, denyAfter, n, approve) => {
          const rules: ActionRule[] = [
            {
              action: "a",
              allowed: true,
              maxPerMinute,
              ...(denyAfter !== undefined ? { denyAfter } : {}),
              escalateAfter: 3,
            },
          ];
          const gate = new GateKeeper({
            identity,
            policy: new PermissionPolicy({ name: "lim", rules }),
            approvalHandler: async () => {
              await new Promise((r) => setTimeout(r, Math.random() * 3));
              return approve;
            },
          });
          const results = await Promise.all(
            Array.from({ length: n }, (_, i) => gate.check("a", i % 3 === 0 ? { callId: `c${i}` } : undefined)),
          );
          const allowed = results.filter((d) => d.type === "allow").length;
          expect(allowed).toBeLessThanOrEqual(Math.min(maxPerMinute, denyAfter ?? Infinity));
          const expected = Math.min(n, maxPerMinute, denyAfter ?? Infinity, approve ? Infinity : 3);
          expect(allowed).toBe(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});
