import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Action } from "../action.js";
import { makeDecision, type Decision } from "../gate/decision.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { AuditLogError, JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";

let dir: string;
const sinks: JsonlAuditSink[] = [];
const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentgate-sink-"));
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

let counter = 0;
function decision(fields: Partial<Decision> = {}): Decision {
  counter++;
  return makeDecision({
    id: `d-${counter}`,
    type: "allow",
    code: "allowed",
    agentId: "agent-1",
    agentName: "bot",
    action: "tool_use",
    target: "search",
    reason: 'rule "tool_use" allows target "search"',
    timestamp: new Date(1_700_000_000_000 + counter).toISOString(),
    policy: "p",
    ...fields,
  });
}

const types = (path: string) => lines(path).map((l) => JSON.parse(l).type as string);
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");

describe("JsonlAuditSink", () => {
  it("writes a hash chain with signed checkpoints that verifies with the public key", async () => {
    const path = join(dir, "audit.jsonl");
    const sink = open(path, { signer });
    const written = [
      decision(),
      decision({ type: "deny", code: "no_rule", target: undefined, action: "shell" }),
      decision({ retryAfterMs: 1234, callId: 'c"1\n' }),
    ];
    for (const d of written) sink.write(d);
    await sink.close();
    const records = lines(path).map((l) => JSON.parse(l));
    expect(records.map((r) => r.type)).toEqual(["checkpoint", "decision", "decision", "decision", "checkpoint"]);
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    // Format v2: records carry no hash; each checkpoint's hash covers the records since the one before.
    expect(records.every((r) => r.v === 2)).toBe(true);
    expect(records[0].prevHash).toBe("0".repeat(64));
    expect(records.slice(1, 4).every((r) => r.hash === undefined)).toBe(true);
    expect(records[4].prevHash).toBe(records[0].hash);
    expect(existsSync(`${path}.head`)).toBe(true);
    expect(JSON.parse(readFileSync(`${path}.head`, "utf8")).seq).toBe(4);
    expect(statSync(path).mode & 0o777).toBe(0o600); // only the owner reads what agents did

    const v = await verifyAuditLog(path, { publicKey });
    expect(v).toMatchObject({
      ok: true,
      records: 5,
      decisions: 3,
      checkpoints: 2,
      signatures: "trusted-key",
      headChecked: true,
    });
    const entries = await readAuditLog(path);
    expect(entries.map((e) => e.decision)).toEqual(written);
    expect(entries.map((e) => [e.line, e.seq])).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
  });

  it("records every decision of a real gate, and gate.close() makes them durable", async () => {
    const path = join(dir, "gate.jsonl");
    const identity = await AgentIdentity.create("research-bot", { algorithm: "Ed25519" });
    const policy = new PermissionPolicy({
      name: "research-policy",
      rules: [
        { action: Action.TOOL_USE, allowed: true, allowedTargets: ["search"] },
        { action: Action.LLM_CALL, allowed: true, maxPerMinute: 2 },
      ],
    });
    const gate = new GateKeeper({ identity, policy, auditSinks: [open(path, { signer: identity })] });
    const made = [
      await gate.check("tool_use", { target: "search" }),
      await gate.check("shell"),
      await gate.check("llm_call"),
      await gate.check("llm_call"),
      await gate.check("llm_call"),
    ];
    await gate.close();
    expect((await readAuditLog(path)).map((e) => e.decision)).toEqual(made);
    expect(made.map((d) => d.type)).toEqual(["allow", "deny", "allow", "allow", "deny"]);
    expect(await verifyAuditLog(path, { publicKey: identity.publicKeyJwk()! })).toMatchObject({
      ok: true,
      decisions: 5,
    });
  });

  it("group commit: flushes once flushEvery records are buffered, without a flush() call", async () => {
    const path = join(dir, "count.jsonl");
    const sink = open(path, { flushEvery: 5, flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 4; i++) sink.write(decision());
    // Nothing can have been written yet: writing is asynchronous and only a count or the timer starts it.
    expect(readFileSync(path, "utf8")).toBe("");
    expect(sink.pending).toBe(4);
    const fifth = sink.write(decision());
    await fifth;
    expect(types(path)).toEqual([...Array(5).fill("decision"), "seal"]);
    expect(sink.pending).toBe(0);
  });

  it("group commit: flushes after flushIntervalMs, without a flush() call", async () => {
    const path = join(dir, "timer.jsonl");
    const sink = open(path, { flushEvery: 1_000_000, flushIntervalMs: 5 });
    const done = [sink.write(decision()), sink.write(decision()), sink.write(decision())];
    await vi.waitFor(() => expect(types(path)).toEqual(["decision", "decision", "decision", "seal"]));
    await Promise.all(done);
  });

  it("reuses written chunks without corrupting a later group: several groups of many chunks read back exactly", async () => {
    const path = join(dir, "reuse.jsonl");
    const sink = open(path, { signer, fsync: false, flushIntervalMs: 3_600_000 });
    const written: Decision[] = [];
    for (let group = 0; group < 4; group++) {
      for (let i = 0; i < 1500; i++) written.push(decision({ reason: `${group}:${i}:${"r".repeat(i % 300)}` }));
      for (const d of written.slice(-1500)) sink.write(d);
      await sink.flush();
    }
    await sink.close();
    expect((await readAuditLog(path)).map((e) => e.decision)).toEqual(written);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, decisions: 6000, unsigned: 0 });
  });

  it("write() resolves once its record is on disk; flush() writes everything accepted", async () => {
    const path = join(dir, "flush.jsonl");
    const sink = open(path, { flushIntervalMs: 3_600_000 });
    const d = decision();
    await Promise.all([sink.write(d), sink.flush()]);
    expect(JSON.parse(lines(path)[0]!).decision).toEqual(d);
    sink.write(decision());
    await sink.flush();
    expect(types(path)).toEqual(["decision", "seal", "decision", "seal"]);
  });

  it("signs one checkpoint per group commit, written with its records; checkpointEvery refreshes the head file", async () => {
    const path = join(dir, "ckpt.jsonl");
    const sink = open(path, {
      signer,
      checkpointEvery: 6,
      checkpointIntervalMs: 3_600_000,
      flushIntervalMs: 3_600_000,
    });
    const head = () => JSON.parse(readFileSync(`${path}.head`, "utf8")).seq;
    for (let group = 0; group < 3; group++) {
      for (let i = 0; i < 4; i++) sink.write(decision());
      await sink.flush();
      // Every record on disk is under a signature: the group ends with its checkpoint.
      expect(JSON.parse(lines(path).at(-1)!).type).toBe("checkpoint");
      expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
        ok: true,
        unsigned: 0,
        decisions: 4 * (group + 1),
      });
      expect(sink.lastCheckpoint?.seq).toBe(lines(path).length - 1);
      // The head: written by the first group, then once 6 records have passed.
      expect(head()).toBe([5, 5, 15][group]);
    }
    // A group of 1000 records still costs one signature.
    for (let i = 0; i < 1000; i++) sink.write(decision());
    await sink.close();
    const types = lines(path).map((l) => JSON.parse(l).type);
    expect(types.filter((t) => t === "checkpoint")).toHaveLength(5);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, checkpoints: 5, decisions: 1012 });
    expect(head()).toBe(types.length - 1);
  });

  it("reopening continues the chain", async () => {
    const path = join(dir, "reopen.jsonl");
    const first = open(path, { signer });
    first.write(decision());
    first.write(decision());
    await first.close();
    const second = open(path, { signer });
    expect(second.opened).toEqual({ resumed: true, nextSeq: 4 });
    second.write(decision());
    await second.close();
    const third = open(path);
    third.write(decision());
    await third.close();
    const records = lines(path).map((l) => JSON.parse(l));
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    // A writer without a signer leaves its records (its decision and the seal after it) unsigned: a trusted key does not accept them unless told to.
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      unsigned: 2,
      problem: expect.stringMatching(/not covered by any signature/),
    });
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({
      ok: true,
      unsigned: 2,
      decisions: 4,
    });
    // A signed writer opening it next names those records instead of signing over them.
    const fourth = open(path, { signer });
    expect(fourth.opened.unsigned).toEqual({ from: records.length - 2, to: records.length - 1 });
    await fourth.close();
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({
      ok: true,
      unsigned: 2,
      recoveries: 1,
    });
  });

  it("a torn last line from a crash is cut off, recorded in a recovery record and reported, never chained over", async () => {
    const path = join(dir, "torn.jsonl");
    const sink = open(path, { signer });
    sink.write(decision());
    await sink.flush();
    const partial = '{"decision":{"action":"tool_use","agentId":"agent-1","age';
    appendFileSync(path, partial);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: true,
      tornTail: { line: 4, bytes: partial.length },
    });

    await sinks
      .splice(0)[0]!
      .close()
      .catch(() => {});
    // The close above appended after the torn bytes: start again from a clean crash image.
    const image = lines(path).slice(0, 3).join("\n") + "\n" + partial;
    writeFileSync(path, image);
    rmSync(`${path}.head`);
    const warnings: string[] = [];
    const reopened = new JsonlAuditSink(path, { signer, onWarning: (m) => warnings.push(m) });
    sinks.push(reopened);
    expect(reopened.opened.recoveredTornLine).toMatchObject({
      bytes: partial.length,
      offset: image.length - partial.length,
    });
    expect(warnings.join()).toMatch(/incomplete last line .* recovery record seq 3/);
    expect(reopened.opened.unsigned).toBeUndefined();
    reopened.write(decision());
    await reopened.close();
    const records = lines(path).map((l) => JSON.parse(l));
    expect(records.map((r) => r.type)).toEqual([
      "checkpoint",
      "decision",
      "checkpoint",
      "recovery",
      "checkpoint",
      "decision",
      "checkpoint",
    ]);
    expect(records[3].torn.bytes).toBe(partial.length);
    expect(Buffer.from(records[3].torn.preview, "base64").toString()).toBe(partial);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, recoveries: 1, decisions: 2 });
  });

  it("a complete last record that only lacks its newline is kept", async () => {
    const path = join(dir, "nonl.jsonl");
    const sink = open(path);
    sink.write(decision());
    sink.write(decision());
    await sinks.splice(0)[0]!.close();
    expect(sink.closed).toBe(true);
    writeFileSync(path, readFileSync(path, "utf8").slice(0, -1));
    // The last line is the group's seal: kept once it matches the records it closes.
    const reopened = open(path);
    expect(reopened.opened).toEqual({ resumed: true, nextSeq: 3 });
    reopened.write(decision());
    await reopened.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, decisions: 3 });
  });

  it("refuses to continue a chain whose last line does not verify", async () => {
    const path = join(dir, "bad-tail.jsonl");
    const sink = open(path);
    sink.write(decision());
    await sinks.splice(0)[0]!.close();
    writeFileSync(path, readFileSync(path, "utf8").replace('"allow"', '"deny"'));
    expect(() => new JsonlAuditSink(path)).toThrow(AuditLogError);
    expect(() => new JsonlAuditSink(path)).toThrow(
      /its last seal \(seq 1\) does not match the records it closes; refusing to append/,
    );
    // The failed open released its lock.
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("refuses to append when the head shows the log was truncated", async () => {
    const path = join(dir, "trunc.jsonl");
    const sink = open(path, { signer });
    for (let i = 0; i < 3; i++) sink.write(decision());
    await sinks.splice(0)[0]!.close();
    writeFileSync(path, lines(path).slice(0, 2).join("\n") + "\n");
    expect(() => new JsonlAuditSink(path, { signer })).toThrow(/was truncated; refusing to append/);
  });

  it("a checkpoint named by the head but missing from the log (crash between the two) is restored on reopen", async () => {
    const path = join(dir, "pending.jsonl");
    const sink = open(path, { signer });
    sink.write(decision());
    await sinks.splice(0)[0]!.close();
    // Drop the closing checkpoint line: the state a crash after the head write leaves.
    writeFileSync(path, lines(path).slice(0, -1).join("\n") + "\n");
    const v = await verifyAuditLog(path, { publicKey });
    expect(v).toMatchObject({ ok: true, checkpoints: 2, lastCheckpoint: { seq: 2 } });
    expect(v.lastCheckpoint?.line).toBeUndefined();
    const reopened = open(path, { signer });
    expect(reopened.opened).toMatchObject({ resumed: true, restoredCheckpoint: 2, nextSeq: 3 });
    await reopened.close();
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: true,
      checkpoints: 3,
      lastCheckpoint: { seq: 3, line: 4 },
    });
  });

  it("one writer per file: a second sink on the same path is refused until the first closes", async () => {
    const path = join(dir, "lock.jsonl");
    const first = open(path);
    expect(() => new JsonlAuditSink(path)).toThrow(/already open for writing in this process/);
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    const second = open(path);
    await second.close();
  });

  it("a lock left by a dead writer (not refreshed within lockStaleMs) is taken over", () => {
    const path = join(dir, "stale.jsonl");
    mkdirSync(`${path}.lock`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    const sink = open(path);
    expect(statSync(`${path}.lock`).mtimeMs).toBeGreaterThan(old.getTime());
    expect(sink.opened.resumed).toBe(false);
  });

  it("writes arguments only with includeArgs, secrets redacted", async () => {
    const path = join(dir, "args.jsonl");
    const input = {
      query: "weather",
      auth: { password: "hunter2" },
      headers: { Authorization: "Bearer abc.def.ghi", "X-Request-Id": "r1" },
      max_tokens: 5,
    };
    const without = open(path);
    without.write(decision(), { args: input });
    await without.close();
    expect(readFileSync(path, "utf8")).not.toContain("args");

    const withArgsPath = join(dir, "args2.jsonl");
    const sink = open(withArgsPath, { includeArgs: true });
    sink.write(decision(), {
      args: {
        query: "weather",
        auth: { password: "hunter2" },
        nested: [{ apiKey: "k-1", api_key: "k-2" }],
        headers: { Authorization: "Bearer abcdefghijk" },
        max_tokens: 5,
      },
    });
    await sink.close();
    const text = readFileSync(withArgsPath, "utf8");
    for (const secret of ["hunter2", "k-1", "k-2", "abcdefghijk"]) expect(text).not.toContain(secret);
    const [entry] = await readAuditLog(withArgsPath);
    expect(entry!.args).toEqual({
      query: "weather",
      auth: "[REDACTED]",
      nested: [{ apiKey: "[REDACTED]", api_key: "[REDACTED]" }],
      headers: { Authorization: "[REDACTED]" },
      max_tokens: 5,
    });
    expect(await verifyAuditLog(withArgsPath)).toMatchObject({ ok: true });
  });

  it("arguments that are not JSON never break the record", async () => {
    const path = join(dir, "weird.jsonl");
    const sink = open(path, { includeArgs: true, maxArgsLength: 200 });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    sink.write(decision(), { args: cyclic });
    sink.write(decision(), { args: { big: 10n, fn: () => 1, when: new Date(0), n: Number.NaN } });
    sink.write(decision(), { args: { long: "x".repeat(500) } });
    sink.write(decision(), { args: JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') });
    sink.write(decision(), {
      args: {
        m: new Map([
          ["token", "x"],
          ["k", "v"],
        ]),
        s: new Set([1, 2]),
        re: /a+/g,
        err: new Error("boom"),
      },
    });
    await sink.close();
    const args = (await readAuditLog(path)).map((e) => e.args);
    expect(args[0]).toEqual({ a: 1, self: "[circular]" });
    expect(args[1]).toEqual({ big: "10", when: "1970-01-01T00:00:00.000Z", n: null });
    expect(args[2]).toMatch(/^\[arguments omitted: \d+ characters of canonical JSON, sha256 [0-9a-f]{64}\]$/);
    expect(Object.keys(args[3] as object)).toEqual(["__proto__", "ok"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(args[4]).toEqual({
      m: [
        ["token", "x"],
        ["k", "v"],
      ],
      s: [1, 2],
      re: "[RegExp: /a+/g]",
      err: "[Error: Error: boom]",
    });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, decisions: 5 });
  });

  it("write errors reject the write and flush promises, reach the gate's onAuditError, and keep the records", async () => {
    if (!existsSync("/dev/full")) throw new Error("this test needs /dev/full (Linux)");
    const path = join(dir, "full.jsonl");
    symlinkSync("/dev/full", path);
    const sink = open(path, { flushIntervalMs: 1, fsync: false });
    const errors: [unknown, Decision][] = [];
    const identity = await AgentIdentity.create("bot");
    const gate = new GateKeeper({
      identity,
      policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
      auditSinks: [sink],
      onAuditError: (error, d) => errors.push([error, d]),
    });
    const d = await gate.check("tool_use", { target: "x" });
    expect(d.type).toBe("allow");
    expect(gate.decisions).toEqual([d]);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]![1]).toBe(d);
    expect(errors[0]![0]).toBeInstanceOf(AuditLogError);
    expect(String((errors[0]![0] as Error).message)).toMatch(/could not write 1 audit record\(s\).*ENOSPC.*retried/);
    // Nothing accepted is dropped: the record waits for the next attempt.
    expect(sink.pending).toBe(1);
    await expect(sink.flush()).rejects.toThrow(/ENOSPC/);
    expect(sink.pending).toBe(1);
    await expect(sink.close()).rejects.toThrow(/ENOSPC/);
    // After a failed close, writes are refused, and the gate reports that too.
    await gate.check("tool_use", { target: "y" });
    expect(errors.at(-1)![0]).toBeInstanceOf(AuditLogError);
    expect(String((errors.at(-1)![0] as Error).message)).toMatch(/is closed/);
    sinks.splice(0);
  });

  it("refuses an HS256 signer and bad options", () => {
    return AgentIdentity.create("hmac").then((hmac) => {
      expect(() => new JsonlAuditSink(join(dir, "x.jsonl"), { signer: hmac })).toThrow(/Ed25519/);
      expect(() => new JsonlAuditSink(join(dir, "y.jsonl"), { flushEvery: 0 })).toThrow(/flushEvery/);
      expect(() => new JsonlAuditSink("")).toThrow(TypeError);
    });
  });

  it("writes after close throw; close is idempotent", async () => {
    const sink = open(join(dir, "closed.jsonl"));
    await sink.close();
    await sink.close();
    expect(() => sink.write(decision())).toThrow(/is closed/);
  });
});
