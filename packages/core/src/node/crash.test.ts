import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";

// The child runs this package's TypeScript sources directly (Node strips the
// types); this hook maps the sources' `./x.js` specifiers to `./x.ts`.
const HOOKS = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try { return next(specifier, context); }
    catch (error) {
      if (error?.code === "ERR_MODULE_NOT_FOUND" && specifier.startsWith(".") && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  },
});`;
const src = pathToFileURL(join(import.meta.dirname, "..")).href;
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
  }
  expect(child.signalCode).toBe("SIGKILL");
  expect(stderr).toBe("");
  return stdout.split("\n").filter((l) => l.startsWith("WARN "));
}

describe("crash safety", () => {
  // Generous timeout: each round starts a Node process that loads the sources, slow on a loaded machine.
  it("a writer killed with SIGKILL leaves a log whose every complete line verifies, and reopening continues the chain", { timeout: 180_000 }, async () => {
    const path = join(dir, "audit.jsonl");
    const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
    const publicKey = signer.publicKeyJwk()!;
    let verified = 0;
    let torn = 0;
    for (let round = 0; round < 3; round++) {
      const warnings = await writeAndKill(path, signer, 100);
      // A kill can cut a write short (Linux stops a write between pages on SIGKILL): the next writer must say so.
      for (const w of warnings) expect(w).toMatch(/a torn last line \(\d+ bytes .*\) from an interrupted write was cut off and recorded in recovery record seq \d+$/);
      torn += warnings.length;
      const v = await verifyAuditLog(path, { publicKey });
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
    const final = await verifyAuditLog(path, { publicKey });
    expect(final).toMatchObject({ ok: true });
    expect(final.tornTail).toBeUndefined();
    const seqs = readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(readFileSync(path, "utf8")).not.toContain("hunter2");
    // Every torn line a kill left was reported and recorded, never silently chained over.
    expect(warnings).toHaveLength(sink.opened.recoveredTornLine ? 1 : 0);
    expect(final.recoveries).toBe(torn + warnings.length);
  });
});
