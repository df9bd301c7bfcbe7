import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { isDeniedToolResult } from "../gate/approval.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { runToolCallOnce, toolResultText, type JsonToolCall } from "./run-tool-call-once.js";

const identity = await AgentIdentity.create("run-once-bot");
const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy", "boom"], escalateTargets: ["deploy"] },
];
const newGate = (options: { approvalHandler?: () => boolean } = {}) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), ...options });

/** One `search` call with `{}` arguments on a fresh gate, unless `fields` say otherwise. */
const once = (fields: Partial<JsonToolCall> & { callId: string }) =>
  runToolCallOnce({ gate: newGate(), toolName: "search", rawArguments: "{}", run: () => "ok", ...fields });

/** A call of a real function that counts its runs. */
function calls(gate: GateKeeper) {
  const runs: unknown[] = [];
  const call = (callId: string | undefined, rawArguments: unknown, extra: Partial<JsonToolCall> = {}) =>
    runToolCallOnce({
      gate,
      toolName: "search",
      callId,
      rawArguments,
      run: async (input) => {
        runs.push(input);
        return { hits: [input] };
      },
      toText: (value) => JSON.stringify(value),
      ...extra,
    });
  return { runs, call };
}

describe("runToolCallOnce", () => {
  it("runs an allowed call once; a repeat gets the first output back without running", async () => {
    const { runs, call } = calls(newGate());
    const first = await call("c1", '{"q":"a"}');
    expect(first).toMatchObject({ status: "ran", replayed: false, output: '{"hits":[{"q":"a"}]}' });
    expect(first.decision).toMatchObject({ type: "allow", callId: "c1" });
    const again = await call("c1", '{"q":"a"}');
    expect(again).toEqual({ status: "ran", decision: first.decision, output: first.output, replayed: true });
    expect(runs).toHaveLength(1);
    // `shape` maps the outcome in the callback that records it.
    const shaped = runToolCallOnce(
      { gate: newGate(), toolName: "search", callId: "s1", rawArguments: "{}", run: () => 1 },
      (o) => `${o.status}:${o.output}`,
    );
    expect(await shaped).toBe("ran:1");
  });

  it("hands `run` and `shape` the call itself, so an adapter's own fields need no closure per call", async () => {
    interface Mine extends JsonToolCall {
      extra: string;
    }
    const seen: unknown[] = [];
    const call: Mine = {
      gate: newGate(),
      toolName: "search",
      callId: "own-1",
      rawArguments: '{"q":"a"}',
      extra: "from the adapter",
      run: (input, self) => (seen.push(self), `${self.extra}: ${JSON.stringify(input)}`),
    };
    const shaped = await runToolCallOnce(call, (outcome, self) => ({ output: outcome.output, same: self === call }));
    expect(shaped).toEqual({ output: 'from the adapter: {"q":"a"}', same: true });
    expect(seen).toEqual([call]);
    // A replay is shaped with the call too, and does not run again.
    expect(await runToolCallOnce(call, (outcome, self) => [outcome.replayed, self.extra])).toEqual([
      true,
      "from the adapter",
    ]);
    expect(seen).toHaveLength(1);
  });

  it("refuses the same call id with other arguments or another tool (call_mismatch), audited", async () => {
    const gate = newGate();
    const { runs, call } = calls(gate);
    await call("c1", '{"q":"a"}');
    const other = await call("c1", '{"q":"b"}');
    expect(other).toMatchObject({ status: "denied", decision: { code: "call_mismatch", callId: "c1" } });
    expect(JSON.parse(other.output).reason).toMatch(/already used for a different tool or arguments/);
    const swapped = await call("c1", '{"q":"a"}', { toolName: "boom" });
    expect(swapped.decision.code).toBe("call_mismatch");
    expect(runs).toEqual([{ q: "a" }]);
    expect(gate.decisions.map((d) => d.code)).toEqual(["allowed", "call_mismatch", "call_mismatch"]);
  });

  it("binds a call id to the tool name and argument text apart: no joined text makes two inputs one", async () => {
    const gate = newGate();
    const { runs, call } = calls(gate);
    await call("j1", "\u0000{}", { toolName: "search" });
    // The same characters split at another place between name and arguments: another input.
    const shifted = await call("j1", "{}", { toolName: "search\u0000" });
    expect(shifted.decision.code).toBe("call_mismatch");
    // Text arguments and missing arguments are different inputs too.
    const missing = await call("j1", undefined);
    expect(missing.decision.code).toBe("call_mismatch");
    expect(runs).toHaveLength(0);
  });

  it("runs a concurrent repeat of one call id once; both get the same output", async () => {
    const { runs, call } = calls(newGate());
    const [a, b] = await Promise.all([call("c1", '{"q":"a"}'), call("c1", '{"q":"a"}')]);
    expect(runs).toHaveLength(1);
    expect([a.replayed, b.replayed]).toEqual([false, true]);
    expect(b.output).toBe(a.output);
  });

  it("turns unreadable input into audited DENYs the model reads, and never runs the tool", async () => {
    const gate = newGate();
    const { runs, call } = calls(gate);
    const cases = [
      [await call("j", "{not json"), /malformed JSON arguments for tool "search"/],
      [await call("n", { q: 1 }), /was called without an argument string/],
      [await call("p", "{}", { problem: "custom tools are not run" }), /custom tools are not run/],
      [await call("u", "{}", { run: undefined }), /no function named "search"/],
      [await call("s", "{}", { parse: () => Promise.reject(new Error("q: required")) }), /do not match its schema: q/],
    ] as const;
    for (const [outcome, reason] of cases) {
      expect(outcome).toMatchObject({ status: "denied", decision: { type: "deny", code: "invalid_input" } });
      expect(outcome.decision.reason).toMatch(reason);
      expect(isDeniedToolResult(JSON.parse(outcome.output))).toBe(true);
    }
    expect(runs).toEqual([]);
    expect(gate.decisions).toHaveLength(cases.length);
  });

  it("a tool that throws is `failed` with the error the model reads; its repeat is not run again", async () => {
    const gate = newGate();
    let runs = 0;
    const call = () =>
      runToolCallOnce({
        gate,
        toolName: "boom",
        callId: "c1",
        rawArguments: "{}",
        run: () => {
          runs++;
          throw new Error("backend down\nstack");
        },
        toText: String,
      });
    const failed = await call();
    expect(failed).toMatchObject({ status: "failed", error: expect.any(Error) });
    expect(JSON.parse(failed.output)).toEqual({ error: 'tool "boom" failed: backend down' });
    expect(await call()).toMatchObject({ status: "failed", replayed: true, output: failed.output });
    expect(runs).toBe(1);
  });

  it("never rejects, even for values with a throwing `then` getter from the schema or the tool", async () => {
    const hostile = Object.defineProperty({}, "then", {
      get() {
        throw new Error("gotcha");
      },
    });
    const fromSchema = await once({ callId: "h1", parse: () => hostile });
    expect(fromSchema).toMatchObject({ status: "ran", output: "ok" });
    const fromTool = await once({ callId: "h2", run: () => hostile });
    expect(fromTool).toMatchObject({ status: "ran", output: "{}" });
  });

  it("decides an escalated call again on a repeat, so it runs once a human approved", async () => {
    const gate = newGate();
    const { runs, call } = calls(gate);
    const deploy = { toolName: "deploy" };
    const pending = await call("d1", '{"env":"prod"}', deploy);
    expect(pending.status).toBe("escalated");
    expect(JSON.parse(pending.output)).toMatchObject({
      decision: "escalate",
      reason: expect.stringMatching(/human approval required/),
    });
    await gate.resolveEscalation(pending.decision.escalationId!, { approved: true, approvedBy: "ops" });
    expect(await call("d1", '{"env":"prod"}', deploy)).toMatchObject({ status: "ran", decision: { code: "approved" } });
    expect(await call("d1", '{"env":"prod"}', deploy)).toMatchObject({ status: "ran", replayed: true });
    expect(runs).toHaveLength(1);
  });

  it("remembers nothing without a call id or with one the gate refuses as too long", async () => {
    const gate = newGate();
    const { runs, call } = calls(gate);
    await call(undefined, "{}");
    await call(undefined, "{}");
    // An empty id is no id: checked and run without one, never refused as a malformed id.
    expect(await call("", "{}")).toMatchObject({ status: "ran", decision: { type: "allow" } });
    const huge = await call("x".repeat(1 << 20), "{}");
    expect(huge).toMatchObject({ status: "denied", decision: { code: "invalid_input" } });
    expect(runs).toHaveLength(3);
  });

  it("the model reads a string result as is and anything else as JSON, never a throw (the default toText)", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect([toolResultText("plain"), toolResultText({ a: [1] }), toolResultText(undefined)]).toEqual([
      "plain",
      '{"a":[1]}',
      "undefined",
    ]);
    expect([toolResultText(circular), toolResultText(10n)]).toEqual(["[object Object]", "10"]);
    const outcome = await once({ callId: "t", run: () => ({ ok: 1 }) });
    expect(outcome.output).toBe('{"ok":1}');
  });

  it("property: whatever the sequence of ids and arguments, each call id runs at most once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom("{}", '{"q":1}', "{bad")), {
          maxLength: 12,
        }),
        async (sequence) => {
          const gate = newGate();
          const ran: string[] = [];
          const outcomes = await Promise.all(
            sequence.map(([id, raw]) =>
              runToolCallOnce({
                gate,
                toolName: "search",
                callId: id,
                rawArguments: raw,
                run: () => ran.push(id),
                toText: String,
              }),
            ),
          );
          expect(new Set(ran).size).toBe(ran.length);
          for (const o of outcomes) if (o.status === "ran" && !o.replayed) expect(o.decision.type).toBe("allow");
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("calls from untyped callers", () => {
  it("a tool name that is not a string is an audited DENY, never a throw", async () => {
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("untyped"),
      policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
    });
    for (const toolName of [undefined, null, 42]) {
      const call = { gate, toolName, rawArguments: "{}", callId: `c-${String(toolName)}`, run: () => "ran" };
      const outcome = await runToolCallOnce(call as unknown as JsonToolCall);
      expect(outcome.status).not.toBe("ran");
      expect(outcome.decision.type).toBe("deny");
    }
  });
});
