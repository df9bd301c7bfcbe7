import { once } from "node:events";
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { AuditLogError } from "./audit-log-error.js";
import { findLastCheckpoint } from "./audit-log-tail.js";
import { headReadLimit, parseHeadFile } from "./head-file.js";
import { JsonlAuditSink, verifyAuditLog } from "./index.js";
import { resumeAuditLog } from "./open-audit-log.js";
import { logDecision } from "./test-utils/audit-logs.js";
import { SRC, spawnTsChild } from "./test-utils/ts-child.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentgate-reopen-limits-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const decision = logDecision;

/** `resumeAuditLog`'s context for `path`, reading at most `readLimit` bytes back. */
const context = (path: string, readLimit: number, key = publicKey) => ({
  path,
  headPath: `${path}.head`,
  key,
  fsync: false,
  warn: () => {},
  readLimit,
});

function resume(path: string, readLimit: number, key = publicKey) {
  const fd = openSync(path, "a+");
  try {
    return resumeAuditLog(fd, context(path, readLimit, key));
  } finally {
    closeSync(fd);
  }
}

/** Runs the writer `source` on `<name>.jsonl` in a child that flushes, then kills itself with SIGKILL; returns the log's path. */
async function killedWriter(name: string, source: string): Promise<string> {
  const path = join(dir, `${name}.jsonl`);
  const script = join(dir, `${name}-writer.mts`);
  writeFileSync(script, source);
  const child = spawnTsChild(script, { AGENTGATE_SIGNER: JSON.stringify(signer.export()), AGENTGATE_AUDIT: path });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const [, signal] = (await once(child, "exit")) as [number | null, string | null];
  expect(stderr).toBe("");
  expect(stdout).toBe("FLUSHED\n");
  expect(signal).toBe("SIGKILL");
  // A killed writer leaves its lock, which goes stale after lockStaleMs; knowing it is dead, remove it at once.
  rmSync(`${path}.lock`, { recursive: true, force: true });
  return path;
}

/** A writer with maxBufferBytes 80 MiB: one group of ~70 MB (more than the 64 MiB a default reopen reads), then SIGKILL. */
const BIG_WRITER = `
import { AgentIdentity } from "${SRC}/index.ts";
import { JsonlAuditSink } from "${SRC}/node/index.ts";
const signer = await AgentIdentity.import(process.env.AGENTGATE_SIGNER);
const sink = new JsonlAuditSink(process.env.AGENTGATE_AUDIT, {
  signer, maxBufferBytes: 80 * 1024 * 1024, flushEvery: 1e9, flushIntervalMs: 3_600_000, checkpointEvery: 1e9, fsync: false,
});
const reason = "r".repeat(16_000);
for (let i = 0; i < 4_400; i++) {
  sink.write({ id: "d-" + i, type: "allow", code: "allowed", agentId: "a", agentName: "bot", action: "tool_use",
    reason, timestamp: "2026-01-01T00:00:00.000Z", policy: "p" });
}
await sink.flush();
process.stdout.write("FLUSHED\\n");
process.kill(process.pid, "SIGKILL");
`;

describe("reopen after a writer with a bigger maxBufferBytes (its limit is in the head file)", () => {
  it("a crashed writer's 70 MB group reopens with the default limit; the head file without the setting is refused", async () => {
    const path = await killedWriter("big", BIG_WRITER);
    const head = readFileSync(`${path}.head`, "utf8");
    expect(parseHeadFile(head)).toMatchObject({ maxBufferBytes: 80 * 1024 * 1024 });
    // The head file as an older writer wrote it (the checkpoint line only): the default limit cannot read the group.
    const headLine = (parseHeadFile(head) as { line: string }).line;
    writeFileSync(`${path}.head`, `${headLine}\n`);
    const refused = (() => {
      try {
        new JsonlAuditSink(path, { signer, onWarning: () => {} });
      } catch (error) {
        return error;
      }
    })();
    expect(AuditLogError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/longer than the 64 MiB a reopen reads/);
    expect((refused as Error).message).toContain(path);

    // With the writer's setting back in the head file, a default writer continues the chain.
    writeFileSync(`${path}.head`, head);
    const sink = new JsonlAuditSink(path, { signer, onWarning: () => {} });
    expect(sink.opened).toMatchObject({ resumed: true, nextSeq: 4_402 });
    expect(sink.opened.unsigned).toBeUndefined();
    await sink.write(decision(1));
    await sink.close();
    // The default writer's head file is one line again: its groups fit the default limit.
    expect(parseHeadFile(readFileSync(`${path}.head`, "utf8"))).toMatchObject({ maxBufferBytes: undefined });
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true });
  }, 120_000);

  it("a writer with a bigger maxBufferBytes names it in the head file at open, before appending; logs without a signer too", async () => {
    const signed = join(dir, "signed.jsonl");
    const first = new JsonlAuditSink(signed, { signer, fsync: false, onWarning: () => {} });
    await first.write(decision(1));
    await first.close();
    const oldHead = readFileSync(`${signed}.head`, "utf8");
    expect(oldHead.split("\n")).toHaveLength(2); // an old-style head file: one checkpoint line
    const big = new JsonlAuditSink(signed, {
      signer,
      fsync: false,
      maxBufferBytes: 32 * 1024 * 1024,
      onWarning: () => {},
    });
    // Nothing appended yet, and the head already says how far back a reopen must read; its checkpoint kept.
    expect(readFileSync(`${signed}.head`, "utf8")).toBe(`${oldHead}{"maxBufferBytes":33554432}\n`);
    await big.write(decision(2));
    await big.close();
    expect(parseHeadFile(readFileSync(`${signed}.head`, "utf8"))).toMatchObject({ maxBufferBytes: 32 * 1024 * 1024 });
    expect(await verifyAuditLog(signed, { publicKey })).toMatchObject({ ok: true });

    const plain = join(dir, "plain.jsonl");
    const unsigned = new JsonlAuditSink(plain, { fsync: false, maxBufferBytes: 32 * 1024 * 1024, onWarning: () => {} });
    await unsigned.write(decision(3));
    await unsigned.close();
    expect(readFileSync(`${plain}.head`, "utf8")).toBe('{"maxBufferBytes":33554432}\n');
    expect(await verifyAuditLog(plain)).toMatchObject({ ok: true, headChecked: false });
    const again = new JsonlAuditSink(plain, { fsync: false, onWarning: () => {} });
    expect(again.opened).toMatchObject({ resumed: true, nextSeq: 2 }); // its record and its seal
    await again.close();
  });

  it("an edited settings line raises the limit at most 16-fold: the head's checkpoint 1.5 MB back is not searched for", async () => {
    const path = join(dir, "edited.jsonl");
    const sink = new JsonlAuditSink(path, {
      signer,
      fsync: false,
      flushEvery: 50,
      checkpointEvery: 1e9,
      onWarning: () => {},
    });
    for (let i = 0; i < 50; i++) sink.write(decision(i));
    await sink.checkpoint();
    const early = readFileSync(`${path}.head`, "utf8");
    const target = `/workspace/${"x".repeat(2_000)}`;
    for (let i = 50; i < 800; i++) {
      sink.write({ ...decision(i), target });
      if (i % 50 === 49) await sink.flush();
    }
    await sink.close();
    expect(readFileSync(path).length).toBeGreaterThan(1.5e6);
    // The head as the writer left it early on, with a settings line someone wrote: ~4e16 bytes to read back.
    writeFileSync(`${path}.head`, `${early}{"maxBufferBytes":9999999999999999}\n`);
    expect(() => resume(path, 64 * 1024)).toThrow(
      /head file .* names checkpoint seq 51, which is not in the last 1 MiB of the log, the most a reopen reads back/,
    );
    // It still raises the limit, up to the cap: from 128 KiB to 2 MiB, which holds the checkpoint.
    expect(resume(path, 128 * 1024).state).toMatchObject({ resumed: true });
    expect(headReadLimit(64 * 2 ** 20, 9_999_999_999_999_999)).toBe(2 ** 30);
    expect(headReadLimit(64 * 2 ** 20, 32 * 2 ** 20)).toBe(128 * 2 ** 20);
    expect(headReadLimit(8 * 2 ** 30, 2 ** 40)).toBe(128 * 2 ** 30); // a writer that reads further itself keeps its own cap
  });

  it("head files: one checkpoint line (old), with a settings line, settings only; anything else is refused", () => {
    expect(parseHeadFile('{"seq":1}\n')).toEqual({ line: '{"seq":1}', maxBufferBytes: undefined });
    expect(parseHeadFile('{"seq":1}\n{"maxBufferBytes":4096}\n')).toEqual({ line: '{"seq":1}', maxBufferBytes: 4096 });
    expect(parseHeadFile('{"maxBufferBytes":4096}\n')).toEqual({ line: undefined, maxBufferBytes: 4096 });
    expect(parseHeadFile('{"seq":1}\n{"seq":2}\n')).toHaveProperty("problem");
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, "");
    writeFileSync(`${path}.head`, '{"seq":1}\n{"maxBufferBytes":4096}\n');
    expect(() => resume(path, 64 * 1024)).toThrow(/head file .* is not a valid checkpoint/);
  });
});

/** A default writer (but fsync): ~75 MB of decisions with 8 KB targets in groups of 500, well within 5 s, then SIGKILL. */
const FAST_WRITER = `
import { AgentIdentity } from "${SRC}/index.ts";
import { JsonlAuditSink } from "${SRC}/node/index.ts";
const signer = await AgentIdentity.import(process.env.AGENTGATE_SIGNER);
const sink = new JsonlAuditSink(process.env.AGENTGATE_AUDIT, { signer, fsync: false, onWarning: () => {} });
const target = "/workspace/" + "x".repeat(8_180);
for (let i = 0; i < 9_000; i++) {
  sink.write({ id: "d-" + i, type: "deny", code: "no_rule", agentId: "a", agentName: "bot", action: "file_read",
    reason: "r", timestamp: "2026-01-01T00:00:00.000Z", policy: "p", target });
  if (i % 500 === 499) await sink.flush();
}
process.stdout.write("FLUSHED\\n");
process.kill(process.pid, "SIGKILL");
`;

describe("the head file trails the log by less than the reopen limit", () => {
  it("a default writer killed after 75 MB in a few seconds (fewer than checkpointEvery records) reopens and verifies", async () => {
    const path = await killedWriter("fast", FAST_WRITER);

    const size = statSync(path).size;
    expect(size).toBeGreaterThan(72 * 1024 * 1024); // more than the 64 MiB a reopen reads back
    // The head was refreshed by bytes: it names a checkpoint within a quarter of the limit plus a group of the end.
    const head = parseHeadFile(readFileSync(`${path}.head`, "utf8")) as { line: string };
    const sink = new JsonlAuditSink(path, { signer, fsync: false, onWarning: () => {} });
    expect(sink.opened).toMatchObject({ resumed: true, nextSeq: 9_000 + 19 }); // with the checkpoint at open and 18 groups
    expect(JSON.parse(head.line).seq).toBeGreaterThan(6_000);
    expect(sink.opened.unsigned).toBeUndefined();
    await sink.write(decision(1));
    await sink.close();
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, decisions: 9_001 });
  }, 120_000);
});

describe("finding checkpoints reads a bounded tail", () => {
  /** A log without a signer: groups end with seals, never a checkpoint. */
  async function unsignedLog(path: string, records: number): Promise<void> {
    const sink = new JsonlAuditSink(path, { fsync: false, flushEvery: 50, onWarning: () => {} });
    for (let i = 0; i < records; i++) {
      sink.write(decision(i));
      if (i % 50 === 49) await sink.flush();
    }
    await sink.close();
  }

  it("a log never signed, reopened with a signer: named unsigned when small, refused when longer than the limit", async () => {
    const small = join(dir, "small.jsonl");
    await unsignedLog(small, 20);
    expect(resume(small, 64 * 1024).state.unsigned).toEqual({ from: 0, to: 20 });

    const big = join(dir, "big.jsonl");
    await unsignedLog(big, 600); // ~250 KB, in groups of 50 with their seals
    const size = readFileSync(big).length;
    let error: unknown;
    try {
      resume(big, 64 * 1024);
    } catch (e) {
      error = e;
    }
    expect(AuditLogError.isInstance(error)).toBe(true);
    expect((error as AuditLogError).path).toBe(big);
    expect((error as Error).message).toMatch(
      /no signed checkpoint in the last 65536 bytes of the log, the most a reopen reads back.*refusing to append.*verifyAuditLog/,
    );
    // Nothing was appended to the refused log; with a limit that covers it, it opens as before.
    expect(readFileSync(big).length).toBe(size);
    expect(resume(big, 1024 * 1024).state.unsigned).toEqual({ from: 0, to: 611 }); // 600 records, 12 seals
  });

  /** Bytes this process has read so far (Linux). */
  const bytesRead = () => Number(/rchar: (\d+)/.exec(readFileSync("/proc/self/io", "utf8"))![1]);

  it.runIf(existsSync("/proc/self/io"))(
    "a line of 256 MiB without a newline (a sparse hole) is read only as far as the limit, not to its start",
    async () => {
      const path = join(dir, "long-line.jsonl");
      const sink = new JsonlAuditSink(path, { signer, fsync: false, onWarning: () => {} });
      for (let i = 0; i < 10; i++) sink.write(decision(i));
      await sink.close();
      const lines = readFileSync(path, "utf8").split("\n");
      const checkpoint = lines[lines.length - 2]!;
      // The log, 256 MiB of zeros (no disk used), then a copy of its last checkpoint: the tail reads fine, the group before it does not.
      truncateSync(path, statSync(path).size + 256 * 2 ** 20);
      appendFileSync(path, `\n${checkpoint}\n`);
      rmSync(`${path}.head`);
      let before = bytesRead();
      expect(() => resume(path, 64 * 1024)).toThrow(
        /its last group and the records after it are longer than the 65536 bytes a reopen reads/,
      );
      expect(bytesRead() - before).toBeLessThan(4 * 2 ** 20);

      // Finding a checkpoint stops at the limit too: no checkpoint within 64 KiB of a record after the hole.
      const other = join(dir, "no-checkpoint.jsonl");
      writeFileSync(other, "");
      truncateSync(other, 256 * 2 ** 20);
      appendFileSync(other, `\n${lines[1]}\n`);
      const fd = openSync(other, "r");
      try {
        before = bytesRead();
        expect(findLastCheckpoint(fd, statSync(other).size, 64 * 1024)).toEqual({ tooFar: 64 * 1024 });
        expect(bytesRead() - before).toBeLessThan(4 * 2 ** 20);
      } finally {
        closeSync(fd);
      }
    },
  );

  it("a head file that trails the log by more than the limit is refused, not searched for without bound", async () => {
    const path = join(dir, "trailing.jsonl");
    const sink = new JsonlAuditSink(path, {
      signer,
      fsync: false,
      flushEvery: 50,
      checkpointEvery: 1e9,
      checkpointIntervalMs: 3_600_000,
      onWarning: () => {},
    });
    for (let i = 0; i < 50; i++) sink.write(decision(i));
    await sink.checkpoint();
    // The head as a writer left it that then kept going for ~250 KB without refreshing it (or failed to).
    copyFileSync(`${path}.head`, join(dir, "early.head"));
    for (let i = 50; i < 650; i++) {
      sink.write(decision(i));
      if (i % 50 === 49) await sink.flush();
    }
    await sink.close();
    copyFileSync(join(dir, "early.head"), `${path}.head`);
    expect(() => resume(path, 64 * 1024)).toThrow(
      /head file .* names checkpoint seq 51, which is not in the last 65536 bytes of the log, the most a reopen reads back.*refusing to append/,
    );
    // Within the limit, the checkpoint it names is found and matches: the log continues.
    expect(resume(path, 1024 * 1024).state).toMatchObject({ resumed: true });
  });
});
