import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDecision } from "../gate/decision.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { AuditLogError } from "./audit-log-error.js";
import { JsonlAuditSink, verifyAuditLog } from "./index.js";
import { resumeAuditLog } from "./open-audit-log.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentgate-reopen-tamper-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deny = (i: number) => i % 3 === 0;
const decision = (i: number) =>
  makeDecision({
    id: `d-${i}`,
    type: deny(i) ? "deny" : "allow",
    code: deny(i) ? "target_not_allowed" : "allowed",
    agentId: "a",
    agentName: "bot",
    action: "tool_use",
    target: deny(i) ? "rm" : "search",
    reason: `decision ${i}`,
    timestamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    policy: "p",
  });

const lines = (path: string) => readFileSync(path, "utf8").split("\n").slice(0, -1);

/** 12 decisions in 3 signed groups: [C0, d1..d4, C5, d5..d8, C10, d9..d12, C15]; the head file names C15. */
async function signedLog(path: string): Promise<string[]> {
  const sink = new JsonlAuditSink(path, { signer, flushIntervalMs: 3_600_000, onWarning: () => {} });
  for (let i = 1; i <= 12; i++) {
    sink.write(decision(i));
    if (i % 4 === 0) await sink.flush();
  }
  await sink.close();
  return lines(path);
}

/** The attacker's edit: d-12 (seq 14, a DENY) becomes an ALLOW. No key is needed to write it. */
function forgeD12(log: string[]): string[] {
  const at = log.findIndex((l) => l.includes('"id":"d-12"'));
  expect(at).toBe(14);
  const forged = [...log];
  forged[at] = log[at]!.replace('"type":"deny"', '"type":"allow"').replace('"target_not_allowed"', '"allowed"');
  expect(forged[at]).not.toBe(log[at]);
  return forged;
}

const reopen = (path: string, warnings: string[] = []) =>
  new JsonlAuditSink(path, { signer, flushIntervalMs: 3_600_000, onWarning: (m) => warnings.push(m) });

describe("reopening a signed log never launders an edit of its last group", () => {
  it("refuses when the last checkpoint, left without its newline, no longer matches the edited group", async () => {
    const path = join(dir, "torn-cp.jsonl");
    const log = await signedLog(path);
    const before = forgeD12(log).join("\n");
    writeFileSync(path, before);
    const warnings: string[] = [];
    expect(() => reopen(path, warnings)).toThrow(AuditLogError);
    expect(() => reopen(path, warnings)).toThrow(
      /last line \(seq 15, a checkpoint without its newline\) is complete but does not continue the chain.*check it with verifyAuditLog, then move the log and its head file aside/,
    );
    // Nothing was cut off, recorded or signed.
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(warnings).toEqual([]);
    // Even with the head file gone, a complete checkpoint is not a torn write.
    rmSync(`${path}.head`);
    expect(() => reopen(path)).toThrow(/is complete but does not continue the chain/);
  });

  it("refuses when the last checkpoint line was deleted and the head file still names it", async () => {
    const path = join(dir, "deleted-cp.jsonl");
    const log = await signedLog(path);
    const head = readFileSync(`${path}.head`, "utf8");
    writeFileSync(path, `${forgeD12(log).slice(0, -1).join("\n")}\n`);
    expect(() => reopen(path)).toThrow(
      /head file .* names checkpoint seq 15, the next line, but the records after the log's last chain point do not match it/,
    );
    expect(readFileSync(`${path}.head`, "utf8")).toBe(head);
    expect(lines(path)).toHaveLength(15);
    // Without the edit it is the crash the head file is there for: the checkpoint is restored, nothing is unsigned.
    writeFileSync(path, `${log.slice(0, -1).join("\n")}\n`);
    const sink = reopen(path);
    expect(sink.opened).toMatchObject({ restoredCheckpoint: 15, nextSeq: 16 });
    expect(sink.opened.unsigned).toBeUndefined();
    await sink.close();
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, unsigned: 0, decisions: 12 });
  });

  it("checks that the checkpoint a trailing head file names is still in the log, byte for byte", async () => {
    const path = join(dir, "trailing.jsonl");
    const log = await signedLog(path);
    // The head file trails the log after a crash: it names C10, the log goes on to C15.
    const c10 = log[10]!;
    expect(JSON.parse(c10)).toMatchObject({ seq: 10, type: "checkpoint" });
    writeFileSync(`${path}.head`, `${c10}\n`);
    const warnings: string[] = [];
    const genuine = reopen(path, warnings);
    expect(genuine.opened).toMatchObject({ resumed: true, nextSeq: 16 });
    await genuine.close();
    expect(warnings).toEqual([]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, unsigned: 0 });

    // A group deleted from the middle (C5 and d5..d8) under a head naming C5: the last two groups still chain on their own.
    const cut = join(dir, "cut.jsonl");
    writeFileSync(cut, `${[...log.slice(0, 5), ...log.slice(10)].join("\n")}\n`);
    writeFileSync(`${cut}.head`, `${log[5]}\n`);
    expect(() => reopen(cut)).toThrow(/names checkpoint seq 5, but line 6 of the log is not that checkpoint/);
    // C10's line replaced by another one (its time edited): the tail still chains from its hash.
    const swapped = [...log];
    swapped[10] = c10.replace(/"at":"[^"]+"/, '"at":"2000-01-01T00:00:00.000Z"');
    writeFileSync(cut, `${swapped.join("\n")}\n`);
    writeFileSync(`${cut}.head`, `${c10}\n`);
    expect(() => reopen(cut)).toThrow(/names checkpoint seq 10, but line 11 of the log is a different checkpoint/);
  });

  it("a group torn before its checkpoint (head naming the previous one) still reopens as a crash", async () => {
    const path = join(dir, "crash.jsonl");
    const log = await signedLog(path);
    // The last group reached the disk without its checkpoint, and the head file was not yet updated.
    writeFileSync(path, `${log.slice(0, -1).join("\n")}\n`);
    writeFileSync(`${path}.head`, `${log[10]}\n`);
    const warnings: string[] = [];
    const sink = reopen(path, warnings);
    expect(sink.opened.unsigned).toEqual({ from: 11, to: 14 });
    await sink.close();
    expect(warnings.join()).toMatch(/records seq 11\.\.14 after the last signed checkpoint are not covered/);
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({ ok: true, unsigned: 4 });
  });
});

describe("reopening never vouches for an edit of the last group (property)", () => {
  it("whatever the tail and head look like after the edit, reopen refuses or names the records unsigned", async () => {
    const path = join(dir, "prop.jsonl");
    const log = await signedLog(path);
    const latestHead = readFileSync(`${path}.head`, "utf8");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 11, max: 14 }),
        fc.constantFrom("type", "reason"),
        fc.constantFrom("keep", "strip-newline", "delete-checkpoint"),
        fc.constantFrom("latest", "previous", "none"),
        async (seq, field, tail, head) => {
          const forged = [...log];
          forged[seq] =
            field === "type"
              ? log[seq]!.replace(/"type":"(allow|deny)"/, (_, t) => `"type":"${t === "deny" ? "allow" : "deny"}"`)
              : log[seq]!.replace('"reason":"decision', '"reason":"Decision');
          expect(forged[seq]).not.toBe(log[seq]);
          const body = tail === "delete-checkpoint" ? forged.slice(0, -1) : forged;
          const text = `${body.join("\n")}${tail === "strip-newline" ? "" : "\n"}`;
          writeFileSync(path, text);
          rmSync(`${path}.head`, { force: true });
          if (head !== "none") writeFileSync(`${path}.head`, head === "latest" ? latestHead : `${log[10]}\n`);
          let sink: JsonlAuditSink;
          try {
            sink = reopen(path);
          } catch (error) {
            expect(AuditLogError.isInstance(error)).toBe(true);
            expect(readFileSync(path, "utf8")).toBe(text);
            return;
          }
          // Only a deleted checkpoint with no head naming it looks like a crash: then the edited record is declared unsigned.
          const opened = sink.opened;
          await sink.close();
          expect(tail).toBe("delete-checkpoint");
          expect(head).not.toBe("latest");
          expect(opened.unsigned).toEqual({ from: 11, to: 14 });
          expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, firstBadLine: 12 });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("verifyAuditLog and a last line without its newline", () => {
  it("reports an edited group whose checkpoint lost its newline as modified, not torn", async () => {
    const path = join(dir, "verify.jsonl");
    const log = await signedLog(path);
    writeFileSync(path, forgeD12(log).join("\n"));
    for (const options of [{ publicKey, head: false as const, allowUnsignedTail: true }, {}]) {
      const v = await verifyAuditLog(path, options);
      expect(v).toMatchObject({
        ok: false,
        firstBadLine: 12,
        problem: expect.stringMatching(/lines 12\.\.16 was modified/),
      });
      expect(v.tornTail).toBeUndefined();
    }
    // A last line that is not a record is still a torn write.
    writeFileSync(path, `${log.join("\n")}\n${log[1]!.slice(0, 40)}`);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, tornTail: { line: 17, bytes: 40 } });
  });
});

describe("reopen reads a bounded tail", () => {
  it("refuses a log whose records after the last chain point are longer than the limit, with a clear error", async () => {
    const path = join(dir, "long.jsonl");
    const log = await signedLog(path);
    // 200 records of a group that never got its checkpoint (~60 KB).
    const record = (seq: number) =>
      `{"decision":${JSON.stringify(decision(seq))},"seq":${seq},"type":"decision","v":2}\n`;
    for (let seq = 16; seq < 216; seq++) appendFileSync(path, record(seq));
    const ctx = {
      path,
      headPath: `${path}.head`,
      key: publicKey,
      fsync: false,
      warn: () => {},
      readLimit: 32 * 1024,
    };
    const fd = openSync(path, "a+");
    try {
      expect(() => resumeAuditLog(fd, ctx)).toThrow(
        /its last group and the records after it are longer than the 32768 bytes a reopen reads .*refusing to append/,
      );
      expect(lines(path)).toHaveLength(log.length + 200);
      expect(resumeAuditLog(fd, { ...ctx, readLimit: 1024 * 1024 }).state.unsigned).toEqual({ from: 16, to: 215 });
      // One line (here a torn one) longer than the limit is not read into memory either.
      appendFileSync(path, `{"decision":${"x".repeat(200 * 1024)}`);
      expect(() => resumeAuditLog(fd, ctx)).toThrow(/its last line is longer than the 32768 bytes a reopen reads/);
    } finally {
      closeSync(fd);
    }
  });
});
