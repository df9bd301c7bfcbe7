import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { rechain } from "./test-utils/audit-logs.js";
import { SRC as src, TS_HOOKS as HOOKS } from "./test-utils/ts-child.js";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";

// The child runs this package's TypeScript sources directly (Node strips the
// types); this hook maps the sources' `./x.js` specifiers to `./x.ts`.
const CHILD = `
import { AgentIdentity, GateKeeper, PermissionPolicy } from "${src}/index.ts";
import { JsonlAuditSink } from "${src}/node/index.ts";
const signer = await AgentIdentity.import(process.env.AGENTGATE_SIGNER);
const sink = new JsonlAuditSink(process.env.AGENTGATE_AUDIT, {
  signer, includeArgs: true, flushEvery: 7, flushIntervalMs: 2, checkpointEvery: 25, checkpointIntervalMs: 20,
  onWarning: (m) => process.stdout.write("WARN " + m + "\\n"),
});
const policy = new PermissionPolicy({ name: "crash", rules: [{ action: "tool_use", allowed: true, allowedTargets: ["search"] }] });
const gate = new GateKeeper({ identity: signer, policy, auditSinks: [sink], onAuditError: (e) => console.error(e) });
for (let i = 0; ; i++) {
  await gate.checkToolCall({ toolName: i % 2 ? "search" : "rm", input: { q: "x".repeat(i % 400), password: "hunter2" } });
  if (i % 20 === 0) await new Promise((r) => setImmediate(r));
}
`;

const dir = mkdtempSync(join(tmpdir(), "agentgate-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const countLines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0);

/**
 * Starts a writer, lets it append at least `grow` lines, and kills it with
 * SIGKILL mid-stream. Returns the warnings it reported when opening the file.
 */
async function writeAndKill(path: string, signer: AgentIdentity, grow: number): Promise<string[]> {
  const script = join(dir, "writer.mts");
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(HOOKS)}`, script], {
    env: { ...process.env, AGENTGATE_SIGNER: JSON.stringify(signer.export()), AGENTGATE_AUDIT: path },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  const start = countLines(path);
  try {
    await vi.waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`writer exited early (${child.exitCode}): ${stderr}`);
        expect(countLines(path)).toBeGreaterThanOrEqual(start + grow);
      },
      { timeout: 60_000, interval: 5 },
    );
  } finally {
    child.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    // A killed writer leaves its lock, which goes stale after lockStaleMs; knowing it is dead, remove it at once.
    rmSync(`${path}.lock`, { recursive: true, force: true });
  }
  expect(child.signalCode).toBe("SIGKILL");
  expect(stderr).toBe("");
  return stdout.split("\n").filter((l) => l.startsWith("WARN "));
}

describe("crash safety", () => {
  // Generous timeout: each round starts a Node process that loads the sources, slow on a loaded machine.
  it("a writer killed with SIGKILL leaves a log whose every complete line verifies, and reopening continues the chain", {
    timeout: 180_000,
  }, async () => {
    const path = join(dir, "audit.jsonl");
    const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
    const publicKey = signer.publicKeyJwk()!;
    let verified = 0;
    let recoveries = 0;
    for (let round = 0; round < 3; round++) {
      const warnings = await writeAndKill(path, signer, 100);
      // A kill can cut a group's write short (Linux stops a write between pages on SIGKILL), leaving a torn line
      // and records without their checkpoint: the next writer must say so, and not vouch for them.
      for (const w of warnings) {
        expect(w).toMatch(
          /an incomplete last line \(\d+ bytes .*; not a record, as an interrupted write leaves\) was cut off and recorded in recovery record seq \d+$|after the last signed checkpoint (is|are) not covered by a signature .* not vouched for by this writer$/,
        );
      }
      if (warnings.length > 0) recoveries++;
      // Records of a group torn by the kill were never acknowledged (no flush returned): accepted here explicitly, and counted.
      const v = await verifyAuditLog(path, { publicKey, allowUnsignedTail: true });
      expect(v.problem).toBeUndefined();
      expect(v.ok).toBe(true);
      // Each round resumes the previous chain: nothing before the kill is lost or rewritten.
      expect(v.records).toBeGreaterThanOrEqual(verified + 100);
      expect(v.checkpoints).toBeGreaterThan(round);
      verified = v.records;
    }
    const warnings: string[] = [];
    const sink = new JsonlAuditSink(path, { signer, onWarning: (m) => warnings.push(m) });
    expect(sink.opened.resumed).toBe(true);
    expect(sink.opened.nextSeq).toBeGreaterThanOrEqual(verified);
    sink.write((await readAuditLog(path)).at(-1)!.decision);
    await sink.close();
    const final = await verifyAuditLog(path, { publicKey, allowUnsignedTail: true });
    expect(final).toMatchObject({ ok: true });
    expect(final.tornTail).toBeUndefined();
    const seqs = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(readFileSync(path, "utf8")).not.toContain("hunter2");
    // Every torn line or unsigned range a kill left was reported and recorded, never silently chained over or signed over.
    expect(warnings.length > 0).toBe(sink.opened.recoveredTornLine !== undefined || sink.opened.unsigned !== undefined);
    expect(final.recoveries).toBe(recoveries + (warnings.length > 0 ? 1 : 0));
    // Unsigned records exist only where a recovery record declares them.
    const declared = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => r.unsigned)
      .reduce((n, r) => n + r.unsigned.to - r.unsigned.from + 1, 0);
    expect(final.unsigned).toBe(declared);
  });
});

// Writes a few decisions, waits for gate.flush(), says so, then idles until killed.
const FLUSH_CHILD = `
import { AgentIdentity, GateKeeper, PermissionPolicy } from "${src}/index.ts";
import { JsonlAuditSink } from "${src}/node/index.ts";
const signer = await AgentIdentity.import(process.env.AGENTGATE_SIGNER);
const sink = new JsonlAuditSink(process.env.AGENTGATE_AUDIT, { signer, flushIntervalMs: 3_600_000, checkpointIntervalMs: 3_600_000 });
const policy = new PermissionPolicy({ name: "crash", rules: [{ action: "tool_use", allowed: true, allowedTargets: ["search"] }] });
const gate = new GateKeeper({ identity: signer, policy, auditSinks: [sink] });
for (let i = 0; i < 5; i++) await gate.check("tool_use", i % 2 ? "search" : "rm");
await gate.flush();
process.stdout.write("FLUSHED\\n");
setInterval(() => {}, 60_000);
`;

/** Runs FLUSH_CHILD and kills it with SIGKILL once gate.flush() has returned. */
async function flushAndKill(path: string, signer: AgentIdentity): Promise<void> {
  const script = join(dir, "flush-writer.mts");
  writeFileSync(script, FLUSH_CHILD);
  const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(HOOKS)}`, script], {
    env: { ...process.env, AGENTGATE_SIGNER: JSON.stringify(signer.export()), AGENTGATE_AUDIT: path },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  try {
    await vi.waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`writer exited early (${child.exitCode}): ${stderr}`);
        expect(stdout).toContain("FLUSHED");
      },
      { timeout: 60_000, interval: 5 },
    );
  } finally {
    child.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    // A killed writer leaves its lock, which goes stale after lockStaleMs; knowing it is dead, remove it at once.
    rmSync(`${path}.lock`, { recursive: true, force: true });
  }
  expect(child.signalCode).toBe("SIGKILL");
}

/** The attacker's edit: the first DENY becomes an ALLOW, and every hash from there on is recomputed (no key needed). */
function forgeAllow(lines: string[]): Promise<string[]> {
  const at = lines.findIndex((l) => JSON.parse(l).decision?.type === "deny");
  expect(at).toBeGreaterThan(0);
  const r = JSON.parse(lines[at]!);
  r.decision = { ...r.decision, type: "allow", code: "allowed", reason: "allowed" };
  return rechain([...lines.slice(0, at), JSON.stringify(r), ...lines.slice(at + 1)], at);
}

describe("a crash after gate.flush()", () => {
  it("leaves every flushed record under a signature; a forged deny -> allow is refused on reopen and fails verification", {
    timeout: 120_000,
  }, async () => {
    const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
    const publicKey = signer.publicKeyJwk()!;
    const path = join(dir, "flushed.jsonl");
    await flushAndKill(path, signer);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(["checkpoint", ...Array(5).fill("decision"), "checkpoint"]);
    // Untouched, the flushed records are proven by the batch's own signature.
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, unsigned: 0, decisions: 5 });

    // 1. Forge deny -> allow and re-chain: the batch's checkpoint no longer verifies. A new writer refuses to vouch for it.
    writeFileSync(path, `${(await forgeAllow(lines)).join("\n")}\n`);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/signature does not verify/),
    });
    expect(() => new JsonlAuditSink(path, { signer, onWarning: () => {} })).toThrow(
      /signature does not verify; refusing to append/,
    );

    // 2. Forge and also drop the batch's checkpoint: the head file still names it, and it does not match the records.
    writeFileSync(path, `${(await forgeAllow(lines.slice(0, -1))).join("\n")}\n`);
    expect(() => new JsonlAuditSink(path, { signer, onWarning: () => {} })).toThrow(
      /head file .* names checkpoint seq 6, the next line, but the records .* do not match it/,
    );
    // 3. Remove the head file too, so the forged records look like a crash's unsigned tail.
    rmSync(`${path}.head`);
    const warnings: string[] = [];
    const sink = new JsonlAuditSink(path, { signer, onWarning: (m) => warnings.push(m) });
    // The new writer records the range it cannot prove, in the chain, before signing anything.
    expect(sink.opened.unsigned).toEqual({ from: 1, to: 5 });
    expect(warnings.join()).toMatch(
      /records seq 1\.\.5 after the last signed checkpoint are not covered by a signature/,
    );
    await sink.close();
    const after = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(after[6]).toMatchObject({ type: "recovery", unsigned: { from: 1, to: 5 } });
    const v = await verifyAuditLog(path, { publicKey });
    expect(v).toMatchObject({
      ok: false,
      unsigned: 5,
      firstBadLine: 2,
      problem: expect.stringMatching(/records seq 1\.\.5 .* not covered by any signature/),
    });
    // Accepting unproven records is explicit, and says how many.
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({ ok: true, unsigned: 5 });
  });
});
