import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import { SRC as src, TS_HOOKS as HOOKS } from "./test-utils/ts-child.js";
import { JsonlAuditSink, verifyAuditLog } from "./index.js";

// Children run this package's TypeScript sources directly (see crash.test.ts).
// Waits for the start signal (a file), opens the log, says whether it could, and if so keeps
// writing until told to stop on stdin.
const WRITER = `
import { existsSync } from "node:fs";
import { makeDecision } from "${src}/gate/decision.ts";
import { JsonlAuditSink } from "${src}/node/index.ts";
const { AGENTGATE_AUDIT: path, AGENTGATE_GO: go, AGENTGATE_STALE: stale } = process.env;
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 1));
let sink;
try {
  sink = new JsonlAuditSink(path, { fsync: false, lockStaleMs: Number(stale || 10000), onWarning: () => {} });
} catch (error) {
  process.stdout.write("REFUSED " + error.message + "\\n");
  process.exit(0);
}
process.stdout.write("OPENED\\n");
let i = 0;
const timer = setInterval(() => {
  sink.write(makeDecision({ id: "d" + process.pid + "-" + i++, type: "allow", code: "allowed", agentId: "a", agentName: "a", action: "tool_use", target: "x", reason: "r", timestamp: new Date().toISOString(), policy: "p" }));
}, 5);
process.stdin.on("data", async () => {
  clearInterval(timer);
  await sink.close();
  process.stdout.write("CLOSED\\n");
  process.exit(0);
});
`;

const dir = mkdtempSync(join(tmpdir(), "agentgate-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, "writer.mts");
writeFileSync(script, WRITER);

interface Writer {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  out: () => string;
}

function startWriter(path: string, go: string, stale?: number): Writer {
  const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(HOOKS)}`, script], {
    env: {
      ...process.env,
      AGENTGATE_AUDIT: path,
      AGENTGATE_GO: go,
      AGENTGATE_STALE: stale === undefined ? "" : String(stale),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}

const settled = (w: Writer) => /^(OPENED|REFUSED)/m.test(w.out());

/** Starts `n` writers, lets them load, then releases them at once; returns them once each has opened or been refused. */
async function race(path: string, n: number): Promise<Writer[]> {
  const go = `${path}.go`;
  const writers = Array.from({ length: n }, () => startWriter(path, go));
  // Give every child time to load the sources and reach the start line.
  await new Promise((r) => setTimeout(r, 2500));
  writeFileSync(go, "");
  await vi.waitFor(() => expect(writers.every(settled)).toBe(true), { timeout: 60_000, interval: 20 });
  return writers;
}

async function stop(writers: Writer[]): Promise<void> {
  await Promise.all(
    writers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      const exited = new Promise((r) => w.child.once("exit", r));
      w.child.stdin.write("stop\n");
      await exited;
    }),
  );
}

describe("one writer per audit log, across processes", () => {
  it("writers racing on a new file: exactly one opens; the chain never forks", { timeout: 120_000 }, async () => {
    const path = join(dir, "fresh.jsonl");
    const writers = await race(path, 4);
    const opened = writers.filter((w) => w.out().startsWith("OPENED"));
    expect(opened, writers.map((w) => w.out()).join("|")).toHaveLength(1);
    for (const w of writers.filter((w) => !w.out().startsWith("OPENED"))) {
      expect(w.out()).toMatch(
        /^REFUSED audit log .* is (being written by another process|being opened by another process right now)/,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    await stop(writers);
    expect(opened[0]!.out()).toContain("CLOSED");
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("writers racing on a stale lock (its writer died): exactly one takes it over", { timeout: 120_000 }, async () => {
    const path = join(dir, "stale.jsonl");
    mkdirSync(`${path}.lock`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    const writers = await race(path, 4);
    const opened = writers.filter((w) => w.out().startsWith("OPENED"));
    expect(opened, writers.map((w) => w.out()).join("|")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    await stop(writers);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
  });

  it("a live writer keeps its lock fresh (heartbeat), whatever its pid; once it dies the lock goes stale and is taken over", {
    timeout: 120_000,
  }, async () => {
    const path = join(dir, "live.jsonl");
    const go = `${path}.go`;
    writeFileSync(go, "");
    const holder = startWriter(path, go, 2_000);
    await vi.waitFor(() => expect(holder.out()).toContain("OPENED"), { timeout: 60_000, interval: 20 });
    // Longer than the stale time: only the heartbeat keeps the lock.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(() => new JsonlAuditSink(path, { lockStaleMs: 2_000, onWarning: () => {} })).toThrow(
      /being written by another process \(lock .*\.lock, refreshed within the last 2000 ms\)/,
    );
    holder.child.kill("SIGKILL");
    await new Promise((r) => holder.child.once("exit", r));
    // Killed: no release, no heartbeat. After the stale time the lock is taken over.
    expect(existsSync(`${path}.lock`)).toBe(true);
    expect(() => new JsonlAuditSink(path, { lockStaleMs: 2_000, onWarning: () => {} })).toThrow(
      /being written by another process/,
    );
    await new Promise((r) => setTimeout(r, 2_500));
    const sink = new JsonlAuditSink(path, { lockStaleMs: 2_000, onWarning: () => {} });
    expect(sink.opened.resumed).toBe(true);
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
  });

  it("a pid lock file from an older version is not taken over silently", () => {
    const path = join(dir, "legacy.jsonl");
    writeFileSync(`${path}.lock`, "999999999\n");
    expect(() => new JsonlAuditSink(path, { onWarning: () => {} })).toThrow(/lock file .* from an older AgentGate/);
    expect(readFileSync(`${path}.lock`, "utf8")).toBe("999999999\n");
  });
});
