import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Decision } from "../gate/decision.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { AuditLogError, JsonlAuditSink, verifyAuditLog } from "./index.js";

let dir: string;
const sinks: JsonlAuditSink[] = [];
const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const identity = await AgentIdentity.create("bot");
const policy = new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentgate-bound-"));
});
afterEach(async () => {
  await Promise.allSettled(sinks.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

function open(path: string, options: ConstructorParameters<typeof JsonlAuditSink>[1] = {}): JsonlAuditSink {
  const sink = new JsonlAuditSink(path, { onWarning: () => {}, ...options });
  sinks.push(sink);
  return sink;
}

function gateWith(sink: JsonlAuditSink, errors: unknown[]): GateKeeper {
  return new GateKeeper({ identity, policy, auditSinks: [sink], onAuditError: (e) => errors.push(e) });
}

const MAX = 32 * 1024;

describe("the sink's buffer is bounded", () => {
  it("a full disk (/dev/full): records stop piling up at maxBufferBytes, and by default the gate then DENYs with 'audit unavailable'", async () => {
    if (!existsSync("/dev/full")) throw new Error("this test needs /dev/full (Linux)");
    const path = join(dir, "full.jsonl");
    symlinkSync("/dev/full", path);
    const sink = open(path, { fsync: false, flushIntervalMs: 1, maxBufferBytes: MAX });
    const errors: unknown[] = [];
    const gate = gateWith(sink, errors);
    const decisions: Decision[] = [await gate.check("tool_use", { target: "t0" })];
    // The first group commit fails for real (ENOSPC) and stays buffered.
    await vi.waitFor(() =>
      expect(errors.some((e) => AuditLogError.isInstance(e) && /ENOSPC/.test(e.message))).toBe(true),
    );
    for (let i = 1; i < 3000; i++) {
      decisions.push(await gate.check("tool_use", { target: `t${i}`, args: { i } }));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 2)); // let group commits fail for real
    }
    const allowed = decisions.filter((d) => d.type === "allow").length;
    // Allowed while the buffer had room, then refused: never more than the bound holds.
    expect(allowed).toBeGreaterThan(10);
    expect(allowed).toBeLessThan(3000);
    expect(sink.bufferedBytes).toBeLessThanOrEqual(MAX + 1024);
    const refused = decisions.slice(allowed);
    expect(refused.every((d) => d.type === "deny" && d.code === "internal_error")).toBe(true);
    expect(refused[0]!.reason).toMatch(
      /^audit unavailable: audit log .* holds \d+ bytes of records not yet written \(maxBufferBytes 32768\): .*ENOSPC/,
    );
    expect(sink.unavailable).toMatch(/ENOSPC/);
    // The refusals could not be recorded either: counted, and reported.
    expect(sink.dropped).toBe(refused.length);
    expect(errors.some((e) => AuditLogError.isInstance(e) && /ENOSPC/.test(e.message))).toBe(true);
    expect(errors.some((e) => AuditLogError.isInstance(e) && /buffer is full .* not written/.test(e.message))).toBe(
      true,
    );
    await expect(sink.close()).rejects.toThrow(/ENOSPC/);
    sinks.splice(0);
  });

  it("a producer that never yields: DENY at the bound, ALLOW again once the backlog is written; the log names what it dropped", async () => {
    const path = join(dir, "busy.jsonl");
    const sink = open(path, {
      signer,
      fsync: false,
      flushEvery: 1_000_000,
      flushIntervalMs: 3_600_000,
      maxBufferBytes: MAX,
    });
    const errors: unknown[] = [];
    const gate = gateWith(sink, errors);
    const types: string[] = [];
    // Checks that never yield to the event loop (in-memory store, no call id): no timer runs, so nothing is written.
    for (let i = 0; i < 1000; i++) types.push((await gate.check("tool_use", { target: `t${i}` })).type);
    const allowed = types.indexOf("deny");
    expect(allowed).toBeGreaterThan(10);
    expect(types.slice(allowed).every((t) => t === "deny")).toBe(true);
    expect(sink.bufferedBytes).toBeLessThanOrEqual(MAX + 1024);
    expect(sink.dropped).toBe(1000 - allowed);
    await sink.flush();
    expect(sink.unavailable).toBeUndefined();
    expect((await gate.check("tool_use", { target: "after" })).type).toBe("allow");
    await sink.close();
    const records = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.find((r) => r.type === "recovery")).toMatchObject({ dropped: 1000 - allowed });
    expect(await verifyAuditLog(path, { publicKey: signer.publicKeyJwk()! })).toMatchObject({
      ok: true,
      decisions: allowed + 1,
      dropped: 1000 - allowed,
    });
  });

  it("onBufferFull: 'drop' keeps deciding, drops and counts what does not fit, and reports each drop through onAuditError", async () => {
    const path = join(dir, "drop.jsonl");
    const sink = open(path, {
      fsync: false,
      flushEvery: 1_000_000,
      flushIntervalMs: 3_600_000,
      maxBufferBytes: MAX,
      onBufferFull: "drop",
    });
    const errors: unknown[] = [];
    const gate = gateWith(sink, errors);
    const decisions: Decision[] = [];
    for (let i = 0; i < 1000; i++) decisions.push(await gate.check("tool_use", { target: `t${i}` }));
    expect(decisions.every((d) => d.type === "allow")).toBe(true);
    expect(sink.unavailable).toBeUndefined();
    expect(sink.dropped).toBeGreaterThan(0);
    expect(sink.bufferedBytes).toBeLessThanOrEqual(MAX + 1024);
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(sink.dropped);
    expect((errors[0] as Error).message).toMatch(
      /buffer is full .* decision .* was not written \(\d+ dropped so far\)/,
    );
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: true,
      decisions: 1000 - sink.dropped,
      dropped: sink.dropped,
    });
  });

  it("a producer that calls write() and never yields: each run of drops shares one rejection, so what it leaves behind stays bounded", async () => {
    const path = join(dir, "flood.jsonl");
    const sink = open(path, { fsync: false, maxBufferBytes: MAX });
    const gate = gateWith(sink, []);
    const d = await gate.check("tool_use", "t");
    const returned = new Set<Promise<void>>();
    for (let i = 0; i < 20_000; i++) returned.add(sink.write(d));
    // The accepted records share their group's promise; every drop shares one rejection.
    expect(sink.dropped).toBeGreaterThan(15_000);
    expect(returned.size).toBe(2);
    const rejection = [...returned][1]!;
    await expect(rejection).rejects.toThrow(/buffer is full .* decision .* was not written \(1 dropped so far\)/);
    await sink.flush();
    // Writing resumes with a recovery record; the next run of drops gets its own rejection.
    await sink.write(d);
    for (let i = 0; i < 20_000; i++) returned.add(sink.write(d));
    expect(returned.size).toBe(4);
    const dropped = sink.dropped;
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, decisions: 40_002 - dropped, dropped }); // the gate's own check wrote one too
  });

  it("the gate reads any sink's unavailable: a reason, or a getter that throws, turns ALLOW into DENY; DENY and ESCALATE pass through", async () => {
    let state: string | undefined | Error;
    const seen: Decision[] = [];
    const sink = {
      write: (d: Decision) => void seen.push(d),
      get unavailable(): string | undefined {
        if (state instanceof Error) throw state;
        return state;
      },
    };
    const gate = new GateKeeper({
      identity,
      policy: new PermissionPolicy({
        name: "p",
        rules: [{ action: "tool_use", allowed: true, allowedTargets: ["a", "b"], escalateTargets: ["b"] }],
      }),
      auditSinks: [sink],
    });
    expect((await gate.check("tool_use", "a")).type).toBe("allow");
    state = "disk full";
    const refused = await gate.check("tool_use", { target: "a", callId: "c1" });
    expect(refused).toMatchObject({
      type: "deny",
      code: "internal_error",
      reason: "audit unavailable: disk full",
      target: "a",
      callId: "c1",
    });
    expect((await gate.check("tool_use", "b")).type).toBe("escalate");
    expect((await gate.check("tool_use", "z")).code).toBe("target_not_allowed");
    state = new Error("boom");
    expect(await gate.check("tool_use", "a")).toMatchObject({
      type: "deny",
      reason: "audit unavailable: the audit sink failed: boom",
    });
    state = undefined;
    // The same call id is decided again once the sink is back, not served the refusal.
    expect((await gate.check("tool_use", { target: "a", callId: "c1" })).type).toBe("allow");
    // What the sinks and gate.decisions saw is what the caller got.
    expect(seen.map((d) => d.type)).toEqual(["allow", "deny", "escalate", "deny", "deny", "allow"]);
    expect(gate.decisions).toEqual(seen);
  });

  it("refuses a bad bound or mode", () => {
    expect(() => new JsonlAuditSink(join(dir, "a.jsonl"), { maxBufferBytes: 10 })).toThrow(/maxBufferBytes/);
    expect(() => new JsonlAuditSink(join(dir, "b.jsonl"), { onBufferFull: "ignore" as never })).toThrow(/onBufferFull/);
  });
});
