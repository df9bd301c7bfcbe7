import { describe, expect, it } from "vitest";
import type { AdapterDriver, AdapterScenario } from "./adapter-driver.js";
import { type AdapterContext, expectNeverAllowed, expectReadsDenial, lastFor, pausedDeploy } from "./adapter-expect.js";
import { AGENT_NAME, call, conformanceGate, downStore, recordingTools, TTL_MS } from "./adapter-fixtures.js";
import { tamperCases } from "./adapter-tamper-cases.js";

export type {
  AdapterDriver,
  AdapterScenario,
  AdapterTurn,
  ConformanceAnswer,
  ConformanceCall,
  ConformanceInput,
  ConformanceTamper,
  ConformanceTools,
  ResumeArgs,
  RunArgs,
} from "./adapter-driver.js";

/**
 * Registers a vitest `describe` block proving that an adapter keeps the gate's
 * promises through its framework's real loop: allowed calls run, denied calls
 * never run and the model reads why, escalations pause and run once on
 * approval, and forged, edited, expired or replayed approvals never run a tool.
 * Scenarios the driver declares unsupported show as skipped tests with the reason.
 *
 * @example
 * ```ts
 * import { runAdapterConformance } from "@agentgate/core/testing";
 * runAdapterConformance({ name: "my-framework", run: ..., resume: ... });
 * ```
 */
export function runAdapterConformance(driver: AdapterDriver): void {
  const timeout = driver.timeoutMs ?? 20_000;
  const scenario = (id: AdapterScenario, title: string, body: () => Promise<void>) => {
    const reason = driver.unsupported?.[id];
    if (reason !== undefined) it.skip(`${title} (unsupported: ${reason})`, body);
    else it(title, body);
  };
  const ctx: AdapterContext = { driver, scenario };

  describe(`adapter conformance: ${driver.name}`, { timeout }, () => {
    scenario("allowed", "an allowed call runs once and the model reads its result", async () => {
      const gate = await conformanceGate();
      const { tools, ran } = recordingTools();
      const c = call("search", "docs");
      const turn = await driver.run({ gate, tools, call: c });
      expect(ran).toEqual(["search:docs"]);
      expect(turn.paused).toBeUndefined();
      expect(turn.seen).toContain("ran search:docs");
      expect(lastFor(gate, c.callId)).toMatchObject({ type: "allow", target: "search" });
    });

    scenario("denied", "a denied call never runs and the model reads the reason", async () => {
      const gate = await conformanceGate();
      const { tools, ran } = recordingTools();
      const c = call("shell", "rm");
      const turn = await driver.run({ gate, tools, call: c });
      expect(ran).toEqual([]);
      expect(turn.paused).toBeUndefined();
      expectReadsDenial(turn, lastFor(gate, c.callId));
    });

    scenario("approve", "an escalation pauses, and an approval runs the call once", async () => {
      const p = await pausedDeploy(driver);
      expect(lastFor(p.gate, p.call.callId)).toMatchObject({ type: "escalate", target: "deploy" });
      const turn = await driver.resume({ ...p, answer: { approved: true, approvedBy: "alice" } });
      expect(p.ran).toEqual(["deploy:docs"]);
      expect(turn.seen).toContain("ran deploy:docs");
    });

    scenario("reject", "a rejection never runs the call and the model reads the reason", async () => {
      const p = await pausedDeploy(driver);
      const turn = await driver.resume({
        ...p,
        answer: { approved: false, approvedBy: "alice", reason: "change freeze" },
      });
      expect(p.ran).toEqual([]);
      expectNeverAllowed(p.gate, p.call.callId);
      expectReadsDenial(turn, lastFor(p.gate, p.call.callId), "change freeze");
    });

    scenario("self_approval", "the agent cannot approve itself, however it spells its name", async () => {
      const p = await pausedDeploy(driver);
      await driver.resume({ ...p, answer: { approved: true, approvedBy: ` ${AGENT_NAME.toUpperCase()} ` } });
      expect(p.ran).toEqual([]);
      expectNeverAllowed(p.gate, p.call.callId);
      expect(p.gate.decisions.some((d) => d.code === "self_approval")).toBe(true);
    });

    scenario("expired_approval", "an approval used after approvalTtlMs does not run the call", async () => {
      let now = Date.UTC(2026, 0, 1);
      const p = await pausedDeploy(driver, await conformanceGate({ clock: () => now }));
      const expire = () => void (now += TTL_MS + 1);
      await driver.resume({ ...p, answer: { approved: true, approvedBy: "alice" }, beforeContinue: expire });
      expect(p.ran).toEqual([]);
      expectNeverAllowed(p.gate, p.call.callId);
    });

    scenario("replay", "resuming the same approved state twice runs the call once", async () => {
      const p = await pausedDeploy(driver);
      const answer = { approved: true, approvedBy: "alice" };
      await driver.resume({ ...p, answer });
      expect(p.ran).toEqual(["deploy:docs"]);
      const replay = await driver.resume({ ...p, answer });
      expect(p.ran).toEqual(["deploy:docs"]);
      // Not a no-op: the gate refused the replay, or the adapter's in-process
      // run-once memory gave the model the first run's output without running again.
      if (lastFor(p.gate, p.call.callId)?.code !== "call_replayed") expect(replay.seen).toContain("ran deploy:docs");
    });

    scenario("huge_call_id", "a 1 MB call id is refused cleanly (DENY, no crash)", async () => {
      const gate = await conformanceGate();
      const { tools, ran } = recordingTools();
      const c = { ...call("search", "docs"), callId: "x".repeat(1 << 20) };
      const turn = await driver.run({ gate, tools, call: c });
      expect(ran).toEqual([]);
      expect(turn.paused).toBeUndefined();
      expect(gate.decisions.findLast((d) => d.action === "tool_use")).toMatchObject({
        type: "deny",
        code: "invalid_input",
      });
      for (const d of gate.decisions) expect(JSON.stringify(d).length).toBeLessThan(20_000);
    });

    scenario("store_down", "a store whose every method rejects fails closed, and the model reads why", async () => {
      const gate = await conformanceGate({ store: downStore() });
      const { tools, ran } = recordingTools();
      const c = call("search", "docs");
      const turn = await driver.run({ gate, tools, call: c });
      expect(ran).toEqual([]);
      expect(turn.paused).toBeUndefined();
      expectReadsDenial(turn, lastFor(gate, c.callId));
    });

    tamperCases(ctx);
  });
}
