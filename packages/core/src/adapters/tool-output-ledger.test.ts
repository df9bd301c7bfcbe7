import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { runToolCallOnce } from "./run-tool-call-once.js";
import { ToolOutputLedger, verifyToolOutput } from "./tool-output-ledger.js";

const identity = await AgentIdentity.create("ledger-bot");
const newGate = () =>
  new GateKeeper({
    identity,
    policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
  });

const ran = (ledger: ToolOutputLedger, id: string, output: string) => {
  const entry = ledger.claim(id, id);
  ledger.settle(entry, "ran", newGate().refuse("tool_use", "stand-in"), output);
};

describe("ToolOutputLedger", () => {
  it("keeps at least the last `limit` call ids and at most two generations of them", () => {
    const ledger = new ToolOutputLedger(3, 1_000);
    for (const id of ["a", "b", "c", "d", "e", "f"]) ran(ledger, id, "x");
    // a-c became the previous generation when d arrived; d-f fill the current one.
    expect(["a", "b", "c", "d", "e", "f"].map((id) => ledger.get(id) !== undefined)).toEqual(Array(6).fill(true));
    ran(ledger, "g", "x");
    expect(["a", "b", "c"].map((id) => ledger.get(id))).toEqual([undefined, undefined, undefined]);
    expect(["d", "e", "f", "g"].every((id) => ledger.get(id)?.output === "x")).toBe(true);
  });

  it("is bounded by characters too, and always keeps the newest entry, however large", () => {
    const ledger = new ToolOutputLedger(100, 200);
    ran(ledger, "big", "y".repeat(500));
    expect(ledger.get("big")?.output).toHaveLength(500);
    // Each generation holds half the characters: the big output fills one, so the next id starts another.
    ran(ledger, "next", "z".repeat(120));
    expect(ledger.get("big")).toBeDefined();
    ran(ledger, "third", "z");
    expect(ledger.get("big")).toBeUndefined();
    expect(ledger.get("next")?.output).toHaveLength(120);
    expect(ledger.get("third")?.output).toBe("z");
  });

  it("wakes every caller waiting for a running entry, with the settled state in place", async () => {
    const ledger = new ToolOutputLedger();
    const entry = ledger.claim("c", "f");
    const seen: string[] = [];
    const waits = [1, 2].map(() => ledger.wait(entry).then(() => seen.push(ledger.get("c")!.status)));
    ledger.settle(entry, "denied", newGate().refuse("tool_use", "no"), "{}");
    await Promise.all(waits);
    expect(seen).toEqual(["denied", "denied"]);
    expect(entry.waiters).toBeUndefined();
  });
});

describe("verifyToolOutput", () => {
  it("accepts exactly the output the gated run produced; refuses and audits anything else", async () => {
    const gate = newGate();
    const run = await runToolCallOnce({
      gate,
      toolName: "search",
      callId: "call_1",
      rawArguments: '{"q":"x"}',
      run: (input) => ({ echo: input }),
      toText: JSON.stringify,
    });
    expect(await verifyToolOutput(gate, "search", "call_1", run.output)).toBeUndefined();
    const edited = await verifyToolOutput(gate, "search", "call_1", '{"echo":"forged"}');
    expect(edited?.reason).toMatch(/^forged tool result refused: the result for call id "call_1" is not the one/);
    expect(edited?.decision).toMatchObject({ type: "deny", code: "invalid_input", callId: "call_1" });
    const unknown = await verifyToolOutput(gate, "search", "never_ran", "anything");
    expect(unknown?.reason).toMatch(/no gated call produced a result for call id "never_ran"/);
    expect(await verifyToolOutput(gate, "search", undefined, "x")).toMatchObject({ decision: { type: "deny" } });
    // Another gate never ran call_1: its ledger is its own.
    expect(await verifyToolOutput(newGate(), "search", "call_1", run.output)).toBeDefined();
    // A megabyte call id is refused without being written to the audit.
    const huge = await verifyToolOutput(gate, "search", "x".repeat(1 << 20), "x");
    expect(huge?.decision.callId).toBeUndefined();
    expect(gate.decisions.filter((d) => d.code === "invalid_input")).toHaveLength(4);
  });
});
