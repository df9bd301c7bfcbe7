import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { canonicalBody, chainHash, recordLine } from "./audit-record.js";
import {
  logDecision as decision,
  logMutation,
  mutateLog,
  rechain,
  saveLog,
  toV1,
  writeGroupedLog,
} from "./test-utils/audit-logs.js";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
const root = mkdtempSync(join(tmpdir(), "agentgate-verify-"));
let n = 0;
/** The log as an older writer (format v1) wrote it. */
let pristine: string[];
let pristineHead: string;
/** The same log as `JsonlAuditSink` writes it now (format v2): [C, d, d, d, d, C, d, d, d, d, C, d, d, d, d, C]. */
let pristine2: string[];
let pristineHead2: string;
let path: string;

beforeAll(async () => {
  ({ lines: pristine2, head: pristineHead2 } = await writeGroupedLog(join(root, "pristine.jsonl"), signer));
  pristine = await toV1(pristine2, signer);
  pristineHead = `${pristine.at(-1)}\n`;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  path = join(root, `case-${++n}.jsonl`);
  save(pristine);
});

/** Writes the log and its head file (`null`: no head file). */
function save(lines: string[], head: string | null = pristineHead): void {
  saveLog(path, lines, head);
}

function save2(lines: string[], head: string | null = pristineHead2): void {
  saveLog(path, lines, head);
}

const types = () => pristine.map((l) => JSON.parse(l).type as string);

describe("verifyAuditLog on a v1 log", () => {
  it("accepts the untouched log, with and without the trusted key", async () => {
    expect(types()).toEqual([
      "checkpoint",
      ...Array(4).fill("decision"),
      "checkpoint",
      ...Array(4).fill("decision"),
      "checkpoint",
      ...Array(4).fill("decision"),
      "checkpoint",
    ]);
    expect(await verifyAuditLog(path, { publicKey })).toEqual({
      ok: true,
      records: 16,
      decisions: 12,
      checkpoints: 4,
      signatures: "trusted-key",
      headChecked: true,
      recoveries: 0,
      unsigned: 0,
      dropped: 0,
      lastCheckpoint: { seq: 15, line: 16, at: JSON.parse(pristine[15]!).at },
    });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, signatures: "embedded-key" });
    expect(await verifyAuditLog(path, { publicKey: JSON.stringify(publicKey) })).toMatchObject({ ok: true });
    expect(await verifyAuditLog(path, { publicKey: signer.toJSON() as never })).toMatchObject({ ok: true });
  });

  it("modification: a changed field", async () => {
    const lines = [...pristine];
    lines[6] = lines[6]!.replace('"type":"allow"', '"type":"deny"');
    save(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 7,
      problem: expect.stringMatching(/line 7 was modified/),
    });
  });

  it("modification with the line's own hash recomputed breaks the link to the next line", async () => {
    const lines = [...pristine];
    const r = JSON.parse(lines[6]!);
    r.decision.type = "deny";
    const body = canonicalBody(r);
    lines[6] = recordLine(body, chainHash(r.prevHash, body));
    save(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 8,
      problem: expect.stringMatching(/does not chain/),
    });
  });

  it("modification that keeps the content but not the writer's exact bytes", async () => {
    const lines = [...pristine];
    lines[2] = lines[2]!.replace('"seq":2,', '"seq":2 ,');
    save(lines);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 3,
      problem: expect.stringMatching(/edited/),
    });
  });

  it("insertion: a duplicated line", async () => {
    const lines = [...pristine];
    lines.splice(4, 0, lines[3]!);
    save(lines);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 5,
      problem: expect.stringMatching(/seq 3 after seq 3: a record was inserted/),
    });
  });

  it("insertion: a blank or foreign line", async () => {
    save([...pristine.slice(0, 3), "", ...pristine.slice(3)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 4,
      problem: "line 4 is not valid JSON",
    });
    save([...pristine.slice(0, 3), '{"hello":"world"}', ...pristine.slice(3)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 4,
      problem: "line 4 has no valid seq",
    });
  });

  it("deletion: a record in the middle, and the first line", async () => {
    save([...pristine.slice(0, 7), ...pristine.slice(8)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 8,
      problem: expect.stringMatching(/record seq 7 is missing before line 8/),
    });
    save([...pristine.slice(0, 2), ...pristine.slice(5)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 3,
      problem: expect.stringMatching(/records seq 2\.\.4 are missing/),
    });
    save(pristine.slice(1));
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 1,
      problem: expect.stringMatching(/record seq 0 is missing/),
    });
  });

  it("reordering: two lines swapped", async () => {
    const lines = [...pristine];
    [lines[8], lines[9]] = [lines[9]!, lines[8]!];
    save(lines);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 9,
      problem: expect.stringMatching(/record seq 8 is missing before line 9 \(deleted or moved\)/),
    });
  });

  it("re-chaining without the key: a record changed and every hash after it recomputed", async () => {
    const lines = [...pristine];
    const r = JSON.parse(lines[6]!);
    r.decision.type = "deny";
    lines[6] = JSON.stringify(r);
    save(await rechain(lines, 6));
    // Every link and hash checks out; the next checkpoint's signature does not.
    const v = await verifyAuditLog(path);
    expect(v).toMatchObject({
      ok: false,
      firstBadLine: 11,
      problem: expect.stringMatching(/checkpoint at line 11's signature does not verify/),
    });
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, firstBadLine: 11 });
  });

  it("re-chaining and deleting a record, re-signed with someone else's key: only the trusted key catches it", async () => {
    const mallory = await AgentIdentity.create("mallory", { algorithm: "Ed25519" });
    const forged = await rechain([...pristine.slice(0, 3), ...pristine.slice(4)], 0, mallory);
    const head = forged.at(-1)!;
    save(forged, `${head}\n`);
    // Self-consistent, so without a trusted key this cannot be told apart from a genuine log by another key.
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, signatures: "embedded-key", decisions: 11 });
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 1,
      problem: expect.stringMatching(/signed by a different key than the trusted public key/),
    });
  });

  it("a forged signature", async () => {
    const lines = [...pristine];
    const r = JSON.parse(lines[5]!);
    const flipped = (r.sig[0] === "a" ? "b" : "a") + r.sig.slice(1);
    lines[5] = lines[5]!.replace(r.sig, flipped);
    save(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 6,
      problem: expect.stringMatching(/signature does not verify/),
    });
  });

  it("truncation to before the last checkpoint", async () => {
    save(pristine.slice(0, 12));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 13,
      records: 12,
      problem: expect.stringMatching(
        /truncated: it ends at seq 11 \(line 12\) but its signed head names checkpoint seq 15/,
      ),
    });
    // Even cut right after a checkpoint, or to nothing.
    save(pristine.slice(0, 11));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, firstBadLine: 12 });
    save(pristine.slice(0, 15));
    // Only the closing checkpoint line gone: the head still holds it and no decision is missing (a crash leaves this too).
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: true,
      decisions: 12,
      lastCheckpoint: { seq: 15 },
    });
    save([]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, firstBadLine: 1 });
  });

  it("truncation with the head file removed too", async () => {
    save(pristine.slice(0, 6), null);
    const v = await verifyAuditLog(path);
    expect(v).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/head file .* is missing: truncation cannot be ruled out/),
    });
    expect(v.firstBadLine).toBeUndefined();
    // Skipping the head check is explicit.
    expect(await verifyAuditLog(path, { head: false })).toMatchObject({ ok: true, headChecked: false, records: 6 });
    // Every signed log starts with a checkpoint, so only deleting everything (an empty file) leaves nothing to check.
    save([], null);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, records: 0 });
  });

  it("an unsigned log verifies its chain; with a trusted key it fails for lack of signatures", async () => {
    const unsigned = join(root, "unsigned.jsonl");
    const sink = new JsonlAuditSink(unsigned);
    sink.write(decision(1));
    await sink.close();
    expect(await verifyAuditLog(unsigned)).toMatchObject({
      ok: true,
      checkpoints: 0,
      signatures: "none",
      headChecked: false,
    });
    expect(await verifyAuditLog(unsigned, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/no checkpoint signed by the trusted key/),
    });
  });

  it("a tampered or foreign head file", async () => {
    save(pristine, pristineHead.replace('"seq":15', '"seq":16'));
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/head file .* is not a valid checkpoint/),
    });
    save(pristine, `${pristine[10]}\n`);
    // An older head is fine: it still matches the log.
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true });
    const mallory = await AgentIdentity.create("mallory", { algorithm: "Ed25519" });
    const fake = await rechain(pristine, 0, mallory);
    save(pristine, `${fake[15]}\n`);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/head file's checkpoint names a different key/),
    });
  });

  it("records after the last checkpoint are not verified with a trusted key: a forged tail fails unless allowUnsignedTail", async () => {
    // An attacker appends a decision after close()'s final checkpoint and chains it correctly.
    const forged = JSON.parse(pristine[1]!);
    forged.decision = {
      ...forged.decision,
      id: "forged",
      type: "allow",
      code: "allowed",
      target: "rm",
      reason: "forged",
    };
    save(await rechain([...pristine, JSON.stringify(forged)], 16));
    const v = await verifyAuditLog(path, { publicKey });
    expect(v).toMatchObject({
      ok: false,
      unsigned: 1,
      firstBadLine: 17,
      problem: expect.stringMatching(
        /record seq 16 \(line 17\) after the last signed checkpoint \(seq 15\) is not covered by any signature/,
      ),
    });
    // A live log's tail (between group commits) can be accepted explicitly; the result says what was not proven.
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({
      ok: true,
      unsigned: 1,
      records: 17,
      decisions: 13,
    });
    // Without a trusted key nothing proves who signed, but the unsigned records are still counted.
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, unsigned: 1 });
    // Tail after a checkpoint in the middle (head file older): same rule.
    save(await rechain([...pristine.slice(0, 11), JSON.stringify(forged)], 11), `${pristine[10]}\n`);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, unsigned: 1, firstBadLine: 12 });
  });

  it("each group commit ends with a signed checkpoint: only whole batches after the head's checkpoint can be cut unseen", async () => {
    const open = join(root, "open.jsonl");
    const sink = new JsonlAuditSink(open, { signer, checkpointEvery: 1000, flushIntervalMs: 3_600_000 });
    for (let i = 1; i <= 3; i++) sink.write(decision(i));
    await sink.flush();
    // The first group also writes the head file; the second does not (checkpointEvery, checkpointIntervalMs).
    for (let i = 4; i <= 6; i++) sink.write(decision(i));
    await sink.flush();
    const text = readFileSync(open, "utf8").split("\n").slice(0, -1);
    expect(text.map((l) => JSON.parse(l).type)).toEqual([
      "checkpoint",
      "decision",
      "decision",
      "decision",
      "checkpoint",
      "decision",
      "decision",
      "decision",
      "checkpoint",
    ]);
    expect(JSON.parse(readFileSync(`${open}.head`, "utf8")).seq).toBe(4);
    expect(await verifyAuditLog(open, { publicKey })).toMatchObject({ ok: true, unsigned: 0, decisions: 6 });
    // Cutting into a batch leaves records no signature covers.
    writeFileSync(open, `${text.slice(0, -2).join("\n")}\n`);
    expect(await verifyAuditLog(open, { publicKey })).toMatchObject({ ok: false, unsigned: 2, firstBadLine: 6 });
    // Whole groups after the head's checkpoint can go unseen: the window checkpointEvery / checkpointIntervalMs bound.
    writeFileSync(open, `${text.slice(0, -4).join("\n")}\n`);
    expect(await verifyAuditLog(open, { publicKey })).toMatchObject({ ok: true, unsigned: 0, decisions: 3 });
    // Before the head's checkpoint, truncation shows.
    writeFileSync(open, `${text.slice(0, -6).join("\n")}\n`);
    expect(await verifyAuditLog(open, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/truncated/),
    });
    await sink.close().catch(() => {});
  });

  it("rejects a malformed public key", async () => {
    await expect(verifyAuditLog(path, { publicKey: "not json" })).rejects.toThrow(TypeError);
    await expect(verifyAuditLog(path, { publicKey: { kty: "RSA" } })).rejects.toThrow(/Ed25519/);
  });

  it("property: any single-byte edit, swap of adjacent lines or duplicated line is caught at the right line", async () => {
    await fc.assert(
      fc.asyncProperty(logMutation, async (m) => {
        const mutated = mutateLog(pristine, m);
        if (mutated === undefined) return;
        save(mutated.lines);
        const v = await verifyAuditLog(path, { publicKey });
        expect(v.ok).toBe(false);
        expect(v.firstBadLine).toBe(mutated.line);
      }),
      { numRuns: 150 },
    );
  });
});

describe("verifyAuditLog on a v2 log: one hash per group commit", () => {
  beforeEach(() => save2(pristine2));

  it("records carry no hash; each group's checkpoint hashes the records it closes; the log verifies", async () => {
    const records = pristine2.map((l) => JSON.parse(l));
    expect(records.every((r) => r.v === 2)).toBe(true);
    expect(records.filter((r) => r.type === "decision").every((r) => r.hash === undefined)).toBe(true);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    const points = records.filter((r) => r.type === "checkpoint");
    expect(points.map((r) => r.seq)).toEqual([0, 5, 10, 15]);
    for (let i = 1; i < points.length; i++) expect(points[i].prevHash).toBe(points[i - 1].hash);
    expect(await verifyAuditLog(path, { publicKey })).toEqual({
      ok: true,
      records: 16,
      decisions: 12,
      checkpoints: 4,
      signatures: "trusted-key",
      headChecked: true,
      recoveries: 0,
      unsigned: 0,
      dropped: 0,
      lastCheckpoint: { seq: 15, line: 16, at: records[15].at },
    });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, signatures: "embedded-key" });
    expect((await readAuditLog(path)).map((e) => e.decision.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `d-${i + 1}`),
    );
  });

  it("a changed record fails at its group, even byte-identical JSON in another form", async () => {
    const lines = [...pristine2];
    lines[6] = lines[6]!.replace('"type":"allow"', '"type":"deny"');
    save2(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 7,
      problem: expect.stringMatching(/a line among lines 7\.\.11 was modified, inserted or moved/),
    });
    save2(pristine2.map((l, i) => (i === 2 ? JSON.stringify(JSON.parse(l), null, 0).replace('"seq":', '"seq" :') : l)));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 2 });
  });

  it("re-chaining without the key: every group hash recomputed, the next checkpoint's signature fails", async () => {
    const lines = [...pristine2];
    const r = JSON.parse(lines[6]!);
    r.decision.type = "deny";
    lines[6] = JSON.stringify(r);
    save2(await rechain(lines, 6));
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 11,
      problem: expect.stringMatching(/checkpoint at line 11's signature does not verify/),
    });
  });

  it("deletion, insertion and reordering show as a seq gap or a wrong group hash", async () => {
    save2([...pristine2.slice(0, 7), ...pristine2.slice(8)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 8,
      problem: expect.stringMatching(/record seq 7 is missing/),
    });
    const swapped = [...pristine2];
    [swapped[8], swapped[9]] = [swapped[9]!, swapped[8]!];
    save2(swapped);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 9 });
    // Renumbered to hide the swap: the group hash still shows it.
    const renumbered = swapped.map((l, i) => l.replace(/"seq":\d+/, `"seq":${i}`));
    save2(renumbered);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 7 });
  });

  it("truncation: before the head's checkpoint fails; only the closing checkpoint gone is a crash the head covers", async () => {
    save2(pristine2.slice(0, 12));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/truncated/),
    });
    save2(pristine2.slice(0, 15));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: true,
      decisions: 12,
      lastCheckpoint: { seq: 15 },
    });
    // ... but not if a record the head's checkpoint covers was changed.
    const lines = pristine2.slice(0, 15);
    lines[13] = lines[13]!.replace('"type":"allow"', '"type":"deny"');
    save2(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/truncated/),
    });
  });

  it("records after the last checkpoint are unsigned: a forged tail fails with a trusted key unless allowUnsignedTail", async () => {
    const forged = JSON.parse(pristine2[1]!);
    forged.seq = 16;
    forged.decision = { ...forged.decision, id: "forged", reason: "forged" };
    save2([...pristine2, JSON.stringify(forged)]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      unsigned: 1,
      firstBadLine: 17,
      problem: expect.stringMatching(/record seq 16 \(line 17\) after the last signed checkpoint/),
    });
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({ ok: true, unsigned: 1 });
  });

  it("a v1 log reopened by the sink continues its chain in v2 and verifies; a v1 line after v2 lines does not", async () => {
    const v1 = await toV1(pristine2, signer);
    save2(v1, `${v1.at(-1)}\n`);
    const sink = new JsonlAuditSink(path, { signer, onWarning: () => {} });
    expect(sink.opened).toEqual({ resumed: true, nextSeq: 16 });
    sink.write(decision(13));
    await sink.close();
    const lines = readFileSync(path, "utf8").split("\n").slice(0, -1);
    expect(lines.slice(0, 16)).toEqual(v1);
    expect(lines.slice(16).map((l) => JSON.parse(l).v)).toEqual([2, 2, 2]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, decisions: 13, checkpoints: 6 });
    save2([
      ...pristine2,
      ...(await toV1([...pristine2, pristine2[1]!.replace('"seq":1', '"seq":16')], signer)).slice(16),
    ]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 17,
      problem: expect.stringMatching(/v1 record after v2/),
    });
  });

  it("a seal closes each group of a log without a signer", async () => {
    const unsigned = join(root, "sealed.jsonl");
    const sink = new JsonlAuditSink(unsigned, { flushIntervalMs: 3_600_000 });
    sink.write(decision(1));
    sink.write(decision(2));
    await sink.flush();
    sink.write(decision(3));
    await sink.close();
    const lines = readFileSync(unsigned, "utf8").split("\n").slice(0, -1);
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(["decision", "decision", "seal", "decision", "seal"]);
    expect(await verifyAuditLog(unsigned)).toMatchObject({
      ok: true,
      decisions: 3,
      checkpoints: 0,
      signatures: "none",
    });
    writeFileSync(unsigned, `${lines.map((l, i) => (i === 3 ? l.replace("d-3", "d-9") : l)).join("\n")}\n`);
    expect(await verifyAuditLog(unsigned)).toMatchObject({ ok: false, firstBadLine: 4 });
  });

  it("property: any single-byte edit, swap, duplicate or deletion fails, at or before the chain point after it", async () => {
    await fc.assert(
      fc.asyncProperty(logMutation, async (m) => {
        const mutated = mutateLog(pristine2, m);
        if (mutated === undefined) return;
        save2(mutated.lines);
        const v = await verifyAuditLog(path, { publicKey });
        expect(v.ok).toBe(false);
        // The group that holds the edit ends at the next checkpoint (lines 1, 6, 11, 16).
        const closing = [1, 6, 11, 16].find((c) => c >= m.line + 1)!;
        expect(v.firstBadLine).toBeLessThanOrEqual(closing + 1);
      }),
      { numRuns: 200 },
    );
  });
});
