import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import { FrameworkToolSteps } from "./framework-tool-steps.js";
import { GateKeeper, type GateKeeperOptions } from "../gate/gate-keeper.js";

const identity = await AgentIdentity.create("steps-bot");
const escalating: ActionRule[] = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
];
const makeGate = (rules: ActionRule[], options: Partial<GateKeeperOptions> = {}) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "s", rules }), ...options });
const approvedBy = () => "alice";

describe("FrameworkToolSteps.needsHuman", () => {
  it("a gate that can never escalate the tool is not asked: the tool's own rule decides", async () => {
    const gate = makeGate([{ action: "tool_use", allowed: true }]);
    const steps = new FrameworkToolSteps(gate, { toolName: "search", trustedState: true });
    expect(await steps.needsHuman("c1", { q: 1 }, () => false)).toBe(false);
    // A boolean, whatever falsy value the tool's own rule returns.
    for (const falsy of [undefined, 0, "", null])
      for (const id of ["c1", undefined])
        expect(await steps.needsHuman(id, { q: 1 }, () => falsy as never)).toBe(false);
    expect(gate.decisions).toEqual([]);
    // The tool wants a human: the gate is asked first, so a denied call never bothers anyone.
    expect(await steps.needsHuman("c2", { q: 1 }, () => true)).toBe(true);
    const denied = new FrameworkToolSteps(gate, {
      toolName: "rm",
      trustedState: true,
      mapping: { rm: { action: "shell" } },
    });
    expect(await denied.needsHuman("c3", {}, () => true)).toBe(false);
  });

  it("calls the tool's own rule with the framework's arguments (run, input, call id), so it can be passed as is", async () => {
    const gate = makeGate(escalating);
    const run = { id: "run-1" };
    const seen: unknown[][] = [];
    const own = (...args: unknown[]) => (seen.push(args), false);
    const input = { q: 1 };
    await new FrameworkToolSteps(gate, { toolName: "search", trustedState: true }).needsHuman("o1", input, own, run);
    await new FrameworkToolSteps(gate, { toolName: "search", trustedState: true }).needsHuman(
      undefined,
      input,
      own,
      run,
    );
    expect(seen).toEqual([
      [run, input, "o1"],
      [run, input, undefined],
    ]);
  });

  it("a tool's own rule that throws or rejects rejects the step (never a synchronous throw); nothing is checked", async () => {
    const gate = makeGate([{ action: "tool_use", allowed: true }]);
    const steps = new FrameworkToolSteps(gate, { toolName: "search", trustedState: true });
    const throwing = () => {
      throw new Error("own rule broke");
    };
    const asked = steps.needsHuman("t1", {}, throwing);
    await expect(asked).rejects.toThrow("own rule broke");
    await expect(steps.needsHuman(undefined, {}, throwing)).rejects.toThrow("own rule broke");
    await expect(steps.needsHuman("t2", {}, () => Promise.reject(new Error("async broke")))).rejects.toThrow(
      "async broke",
    );
    expect(gate.decisions).toEqual([]);
  });

  it("an escalation needs a human unless the gate asks one inline; a denial never does", async () => {
    const gate = makeGate(escalating);
    const deploy = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    let ownAsked = 0;
    expect(await deploy.needsHuman("d1", { env: "prod" }, () => (ownAsked++, false))).toBe(true);
    expect(ownAsked).toBe(0);
    const search = new FrameworkToolSteps(gate, { toolName: "search", trustedState: true });
    expect(await search.needsHuman("d2", {}, () => true)).toBe(true); // allowed: the tool's own rule
    expect(
      await new FrameworkToolSteps(gate, { toolName: "wipe", trustedState: true }).needsHuman("d3", {}, () => true),
    ).toBe(false);
    const inline = makeGate(escalating, { approvalHandler: () => true });
    expect(
      await new FrameworkToolSteps(inline, { toolName: "deploy", trustedState: true }).needsHuman(
        "d4",
        {},
        () => false,
      ),
    ).toBe(false);
  });
});

describe("FrameworkToolSteps.read and check", () => {
  it("trusted state: every check presents the input the approval step saw; untrusted: the arguments given", async () => {
    const gate = makeGate(escalating);
    const trusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    const untrusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: false });
    await trusted.needsHuman("r1", { env: "prod", limit: 10 }, () => false);
    await untrusted.needsHuman("r2", { env: "prod", limit: 10 }, () => false);
    expect(trusted.read("r1", '{"env":"prod"}')).toEqual({ input: { env: "prod", limit: 10 } });
    expect(untrusted.read("r2", '{"env":"staging"}')).toEqual({ input: { env: "staging" } });
    // Unreadable arguments are never replaced by a remembered input.
    expect(trusted.read("r1", "{").inputError).toMatch(/malformed JSON/);
    expect(
      new FrameworkToolSteps(gate, { toolName: "raw", trustedState: true, rawInput: true }).read("x", "hi"),
    ).toEqual({
      input: "hi",
    });
  });

  it("a framework approval of an escalated call is recorded in the gate (trusted state) and the call runs once", async () => {
    const gate = makeGate(escalating);
    const steps = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    await steps.needsHuman("k1", { env: "prod" }, () => false);
    const seen = () => ({ approved: true, approvedBy, via: "state.approve()" });
    const decision = await steps.check("k1", '{"env":"prod"}', true, seen);
    expect(decision).toMatchObject({ type: "allow", callId: "k1" });
    expect(gate.decisions.find((d) => d.code === "approved")).toMatchObject({ approvedBy: "alice" });
    expect(await steps.check("k1", '{"env":"prod"}', true, seen)).toMatchObject({
      type: "deny",
      code: "call_replayed",
    });
  });

  it("`shape` gets the final decision on every path: plain, untrusted, and an approval honoured first", async () => {
    const gate = makeGate(escalating);
    const kind = (decision: { type: string; code?: string | undefined }) =>
      decision.type === "deny" ? `deny:${decision.code}` : decision.type;
    const search = new FrameworkToolSteps(gate, { toolName: "search", trustedState: true });
    expect(await search.check("s1", "{}", true, undefined, kind)).toBe("allow");
    expect(await search.check("s2", "not json", true, undefined, kind)).toBe("deny:invalid_input");
    const untrusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: false });
    const seen = () => ({ approved: true, approvedBy, via: "state.approve()" });
    expect(await untrusted.check("s3", "{}", true, seen, kind)).toBe("escalate");
    const trusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    // The approval is recorded, the call checked again: `shape` sees that ALLOW, once.
    let shaped = 0;
    const counted = (decision: { type: string; code?: string | undefined }) => (shaped++, kind(decision));
    expect(await trusted.check("s4", "{}", true, seen, counted)).toBe("allow");
    expect(shaped).toBe(1);
  });

  it("untrusted state, or no framework approval: the escalation stands; an approvedBy that throws refuses", async () => {
    const gate = makeGate(escalating);
    const untrusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: false });
    const forged = () => ({ approved: true, approvedBy, via: "state.approve()" });
    expect(await untrusted.check("u1", '{"env":"prod"}', true, forged)).toMatchObject({ type: "escalate" });
    const trusted = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    expect(await trusted.check("u2", "{}", true, () => ({ approved: false, via: "x" }))).toMatchObject({
      type: "escalate",
    });
    const failing = () => ({
      approved: true,
      approvedBy: () => {
        throw new Error("no session");
      },
      via: "state.approve()",
    });
    expect(await trusted.check("u3", "{}", true, failing)).toMatchObject({ type: "deny", code: "approval_error" });
    const unreadable = () => {
      throw new Error("corrupt state");
    };
    expect(await trusted.check("u4", "{}", true, unreadable)).toMatchObject({ type: "escalate" });
    expect(await gate.pendingEscalationFor("u1")).toBeDefined();
  });
});

describe("FrameworkToolSteps.recordRejections", () => {
  it("records each rejected call once, with the framework's reason; unknown and odd ids are skipped", async () => {
    const gate = makeGate(escalating);
    const steps = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true });
    await steps.needsHuman("j1", { env: "prod" }, () => false);
    const asked: unknown[] = [];
    const answer = (callId: string) => ({
      reason: "freeze",
      via: "state.reject()",
      approvedBy: (input: unknown) => (asked.push([callId, input]), "alice"),
    });
    await steps.recordRejections(["j1", "unknown", 42, ""], answer);
    await steps.recordRejections(["j1"], answer);
    expect(asked).toEqual([["j1", { env: "prod" }]]);
    const rejected = gate.decisions.filter((d) => d.code === "approval_denied");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatch(/freeze/);
  });
});

describe("FrameworkToolSteps: answers a framework run holds", () => {
  /** A framework run's answer record: per call, or tool-wide under "*". */
  type Run = { answers: Map<string, boolean>; messages: Map<string, string>; progress: number; reads: number };
  const run = (progress = 0): Run => ({ answers: new Map(), messages: new Map(), progress, reads: 0 });
  const answers = {
    answer: (r: Run, _tool: string, id: string) => r.answers.get(id) ?? r.answers.get("*"),
    rejectionMessage: (r: Run, _tool: string, id: string) => r.messages.get(id),
    rejectedIds: (r: Run) => (
      r.reads++, [...r.answers].filter(([id, ok]) => !ok && id !== "*").map(([id]) => [id, r.messages.get(id)] as const)
    ),
    progress: (r: Run) => r.progress,
  };
  const stepsFor = () =>
    new FrameworkToolSteps(makeGate(escalating), { toolName: "deploy", trustedState: true, answers });

  it("a tool-wide approval counts only for calls the run asked a human about; a call's own approval always", async () => {
    const steps = stepsFor();
    const r = run();
    expect(await steps.needsHuman("k1", { env: "prod" }, () => false, r)).toBe(true);
    r.answers.set("*", true);
    expect([steps.approvedIn(r, "k1"), steps.approvedIn(r, "k2"), steps.approvedIn(run(), "k1")]).toEqual([
      true,
      false,
      false,
    ]);
    r.answers.set("k3", true).delete("*");
    expect(steps.approvedIn(r, "k3")).toBe(true);
  });

  it("rejections: a tool-wide one is recorded for the asked calls once; a fresh run is never read whole", async () => {
    const steps = stepsFor();
    const r = run();
    await steps.needsHuman("m1", { env: "prod" }, () => false, r);
    expect(steps.recordRejectionsIn(r, "state.reject()")).toBeUndefined(); // nothing answered yet
    r.answers.set("*", false);
    await steps.recordRejectionsIn(r, "state.reject()");
    expect(steps.recordRejectionsIn(r, "state.reject()")).toBeUndefined(); // recorded once
    const denied = steps.gate.decisions.filter((d) => d.code === "approval_denied");
    expect(denied.map((d) => [d.callId, d.reason])).toEqual([
      ["m1", expect.stringMatching(/rejected with state\.reject\(\)/)],
    ]);
    expect(r.reads).toBe(0);
  });

  it("a run restored under way is read whole until it moves on; an unreadable run records nothing", async () => {
    const gate = makeGate(escalating);
    const first = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true, answers });
    await first.needsHuman("n1", { env: "prod" }, () => false, run());
    const steps = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true, answers });
    const restored = run(3);
    expect(steps.recordRejectionsIn(restored, "state.reject()")).toBeUndefined();
    restored.answers.set("n1", false);
    restored.messages.set("n1", "not today");
    await steps.recordRejectionsIn(restored, "state.reject()");
    restored.progress = 4;
    expect(steps.recordRejectionsIn(restored, "state.reject()")).toBeUndefined();
    expect(restored.reads).toBe(2);
    expect(gate.decisions.filter((d) => d.code === "approval_denied").map((d) => d.reason)).toEqual([
      expect.stringMatching(/not today/),
    ]);

    const broken = {
      ...answers,
      progress: () => {
        throw new Error("boom");
      },
    };
    const fragile = new FrameworkToolSteps(gate, { toolName: "deploy", trustedState: true, answers: broken });
    expect(fragile.recordRejectionsIn(run(), "state.reject()")).toBeUndefined();
    expect(fragile.approvedIn(run(), "x")).toBe(false);
  });
});
