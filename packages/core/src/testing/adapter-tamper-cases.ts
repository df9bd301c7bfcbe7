import { expect } from "vitest";
import { type AdapterContext, expectNeverAllowed, pausedDeploy } from "./adapter-expect.js";

/** Saved state or history edited between the pause and the approval. */
export function tamperCases({ driver, scenario }: AdapterContext): void {
  const approve = { approved: true, approvedBy: "alice" };

  scenario("call_mismatch", "the approved call id with another input never runs (call_mismatch)", async () => {
    const p = await pausedDeploy(driver);
    await driver.resume({ ...p, answer: approve, tamper: { kind: "input", input: { service: "prod" } } });
    expect(p.ran).toEqual([]);
    expectNeverAllowed(p.gate, p.call.callId);
    expect(p.gate.decisions.some((d) => d.callId === p.call.callId && d.code === "call_mismatch")).toBe(true);
  });

  scenario("swapped_tool", "an approval for one tool does not run another tool under the same call id", async () => {
    const p = await pausedDeploy(driver);
    await driver.resume({ ...p, answer: approve, tamper: { kind: "tool", toolName: "rollback" } });
    expect(p.ran).toEqual([]);
    expectNeverAllowed(p.gate, p.call.callId);
    expect(p.gate.decisions.some((d) => d.callId === p.call.callId && d.type === "deny")).toBe(true);
  });

  scenario("moved_approval", "an approval moved onto another call id does not run", async () => {
    const p = await pausedDeploy(driver);
    const moved = `${p.call.callId}-moved`;
    await driver.resume({ ...p, answer: approve, tamper: { kind: "callId", callId: moved } });
    expect(p.ran).toEqual([]);
    expectNeverAllowed(p.gate, moved);
    expectNeverAllowed(p.gate, p.call.callId);
  });
}
