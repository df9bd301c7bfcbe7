import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { DecisionIds, lastDecisionId } from "./decision-ids.js";
import { GateKeeper } from "./gate-keeper.js";

const UUID_LAYOUT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOW_HEX = (low: number) => low.toString(16).padStart(3, "0");

describe("DecisionIds", () => {
  it("unique ids in UUID layout; a publishing one leaves each id and its parts in lastDecisionId", () => {
    const ids = new DecisionIds(true);
    const seen = new Set<string>();
    let serial = -1;
    let serials = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = ids.next();
      expect(id).toMatch(UUID_LAYOUT);
      seen.add(id);
      expect(lastDecisionId.id).toBe(id);
      expect(lastDecisionId.base + LOW_HEX(lastDecisionId.low)).toBe(id);
      if (lastDecisionId.serial !== serial) {
        serial = lastDecisionId.serial;
        serials++;
      }
    }
    expect(seen.size).toBe(10_000);
    // A new base (and serial) every 4096 ids: 10 000 ids span 3 or 4 of them.
    expect(serials).toBeGreaterThanOrEqual(3);
  });

  it("only a gate with audit sinks publishes its ids", async () => {
    const identity = await AgentIdentity.create("bot");
    const policy = new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] });
    const withSink = new GateKeeper({ identity, policy, auditSinks: [{ write: () => {} }] });
    const plain = new GateKeeper({ identity, policy });
    const d = await withSink.check("tool_use", "search");
    expect(lastDecisionId.id).toBe(d.id);
    const other = await plain.check("tool_use", "search");
    expect(other.id).toMatch(UUID_LAYOUT);
    expect(lastDecisionId.id).toBe(d.id);
  });
});
