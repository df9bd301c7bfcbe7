import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { Decision } from "../gate/decision.js";
import { GateKeeper, type GateKeeperOptions } from "../gate/gate-keeper.js";
import type { PausedCallQuestion } from "./paused-call-question.js";
import { checkPausableToolCall, type PauseChannel } from "./paused-call.js";
import type { ToolCall } from "../gate/tool-call.js";

// A framework's pause, as LangGraph's interrupt() behaves: the first pass throws the framework's
// signal and the run stops; a resumed run calls it again and gets the human's answer.
class Paused extends Error {
  constructor(readonly question: PausedCallQuestion) {
    super("paused");
  }
}
function framework(answers: unknown[] = []) {
  const asked: PausedCallQuestion[] = [];
  let resumed = false;
  const channel: PauseChannel = {
    pause: (question) => {
      asked.push(question);
      if (!resumed) throw new Paused(question);
      return answers.shift();
    },
    cannotPause: (error) => (error instanceof Paused ? undefined : `cannot pause: ${String(error)}`),
  };
  return { channel, asked, resume: () => void (resumed = true) };
}

const identity = await AgentIdentity.create("paused-bot");
const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
  { action: "llm_call", allowed: true, requireApproval: true },
];
const gateOf = (options: Partial<GateKeeperOptions> = {}) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), ...options });
let n = 0;
const deploy = (input: unknown = { env: "prod" }): ToolCall & { callId: string } => ({
  toolName: "deploy",
  input,
  callId: `call-${++n}`,
  execute: true,
});

/** The first pass pauses (rethrown as is), leaving the escalation pending. */
async function paused(gate: GateKeeper, call: ToolCall, f: ReturnType<typeof framework>) {
  await expect(checkPausableToolCall(gate, call, f.channel)).rejects.toBeInstanceOf(Paused);
  f.resume();
}

describe("checkPausableToolCall", () => {
  it("an allowed call is just checked; nobody is asked", async () => {
    const f = framework();
    const out = await checkPausableToolCall(
      gateOf(),
      { toolName: "search", input: {}, callId: "s", execute: true },
      f.channel,
    );
    expect(out).toEqual({ decision: expect.objectContaining({ type: "allow", target: "search" }) });
    expect(f.asked).toEqual([]);
  });

  it("pauses with one question in the HITL shape; the approval is recorded, the call allowed once, a replay refused", async () => {
    const gate = gateOf();
    const call = deploy();
    const f = framework([
      { decisions: [{ type: "approve" }], approvedBy: "alice" },
      { decisions: [{ type: "approve" }] },
    ]);
    await paused(gate, call, f);
    expect(f.asked[0]).toMatchObject({
      callId: call.callId,
      toolName: "deploy",
      args: { env: "prod" },
      actionRequests: [{ name: "deploy", args: { env: "prod" }, description: expect.stringContaining("Tool: deploy") }],
      reviewConfigs: [{ actionName: "deploy", allowedDecisions: ["approve", "edit", "reject"] }],
      agent: { id: identity.id },
    });
    const { decision } = await checkPausableToolCall(gate, call, f.channel);
    expect(decision).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice" });
    expect((await checkPausableToolCall(gate, call, f.channel)).decision).toMatchObject({ type: "deny" });
  });

  it("a rejection, or anything but an approval, is a DENY the model can read", async () => {
    for (const answer of [
      { decisions: [{ type: "reject", message: "not on a Friday" }] },
      "yes",
      { approved: "true" },
    ]) {
      const gate = gateOf();
      const call = deploy();
      const f = framework([answer]);
      await paused(gate, call, f);
      const { decision } = await checkPausableToolCall(gate, call, f.channel);
      expect(decision.type).toBe("deny");
      expect(await gate.pendingEscalations()).toEqual([]);
    }
  });

  it("an answer to a question never asked, or naming another escalation, is refused and settles the escalation", async () => {
    const gate = gateOf();
    // The framework hands over an answer on the very first pass: nothing was asked yet.
    const eager = framework([{ approved: true }]);
    eager.resume();
    const first = await checkPausableToolCall(gate, deploy(), eager.channel);
    expect(first.decision).toMatchObject({ type: "deny", code: "approval_error" });
    expect(first.decision.reason).toMatch(/does not answer an escalation this gate issued/);

    const call = deploy();
    const f = framework([{ approved: true, escalationId: "made-up" }]);
    await paused(gate, call, f);
    const second = await checkPausableToolCall(gate, call, f.channel);
    expect(second.decision.reason).toMatch(/answers escalation "made-up"/);
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("an edit is a new call checked on its own: allowed edits run with the edited arguments, others are refused", async () => {
    const gate = gateOf();
    const edit = (name: string, args: object) => ({ decisions: [{ type: "edit", editedAction: { name, args } }] });
    const cases: [object, Partial<Decision>, boolean][] = [
      [
        edit("deploy", { env: "staging" }),
        { type: "allow", code: "approved", callId: expect.stringMatching(/#edited$/) },
        true,
      ],
      [edit("search", { q: "x" }), { type: "deny", code: "approval_error" }, false],
    ];
    for (const [answer, expected, runs] of cases) {
      const call = deploy();
      const f = framework([answer]);
      await paused(gate, call, f);
      const out = await checkPausableToolCall(gate, call, f.channel);
      expect(out.decision).toMatchObject(expected);
      expect(out.edited !== undefined).toBe(runs);
    }
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("when the run cannot pause, the call is refused and its escalation stays pending for resolveEscalation", async () => {
    const gate = gateOf();
    const call = deploy();
    const out = await checkPausableToolCall(gate, call, {
      pause: () => {
        throw new Error("no checkpointer");
      },
      cannotPause: (error) => `cannot pause: ${(error as Error).message}`,
    });
    expect(out.decision).toMatchObject({ type: "deny", code: "approval_error", callId: call.callId });
    expect(out.decision.reason).toMatch(/a human must approve; cannot pause: no checkpointer$/);
    expect(await gate.pendingEscalationFor(call.callId)).toBeDefined();
  });

  it("a call without an id is refused (a resume could not find it), and its escalation does not linger", async () => {
    const gate = gateOf();
    const f = framework();
    const out = await checkPausableToolCall(gate, { toolName: "deploy", input: {}, execute: true }, f.channel);
    expect(out.decision.reason).toMatch(/no id, so it cannot wait for approval/);
    expect(f.asked).toEqual([]);
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("an approval the framework already collected is recorded instead of asking again; a failing lookup just asks", async () => {
    const gate = gateOf();
    const f = framework();
    const approved = await checkPausableToolCall(gate, deploy(), {
      ...f.channel,
      priorApproval: async () => ({ approved: true, approvedBy: "hitl" }),
    });
    expect(approved.decision).toMatchObject({ type: "allow", approvedBy: "hitl" });
    expect(f.asked).toEqual([]);
    await expect(
      checkPausableToolCall(gate, deploy(), { ...f.channel, priorApproval: () => Promise.reject(new Error("x")) }),
    ).rejects.toBeInstanceOf(Paused);
  });

  it("fails closed: a gate that throws is an audited DENY, never a rejection", async () => {
    class Broken extends GateKeeper {
      override checkToolCall(): Promise<Decision> {
        return Promise.reject(new Error("disk on fire"));
      }
    }
    const gate = new Broken({ identity, policy: new PermissionPolicy({ name: "p", rules }) });
    const out = await checkPausableToolCall(gate, deploy(), framework().channel);
    expect(out.decision).toMatchObject({ type: "deny", code: "internal_error" });
    expect(out.decision.reason).toContain("disk on fire");
    expect(gate.decisions.at(-1)).toBe(out.decision);
  });
});
