import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";
import { logDecision as decision, rechain, saveLog, toV1, writeGroupedLog } from "./test-utils/audit-logs.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
const root = mkdtempSync(join(tmpdir(), "agentgate-verify2-"));
let n = 0;
/** [C, d, d, d, d, C, d, d, d, d, C, d, d, d, d, C] as the sink writes it (format v2). */
let pristine: string[];
let pristineHead: string;
let path: string;

beforeAll(async () => {
  ({ lines: pristine, head: pristineHead } = await writeGroupedLog(join(root, "pristine.jsonl"), signer));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  path = join(root, `case-${++n}.jsonl`);
  save(pristine);
});

function save(lines: string[], head: string | null = pristineHead): void {
  saveLog(path, lines, head);
}

describe("format v2: one hash per group commit", () => {
  it("records carry no hash; each group's checkpoint hashes the records it closes; the log verifies", async () => {
    const records = pristine.map((l) => JSON.parse(l));
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
    const lines = [...pristine];
    lines[6] = lines[6]!.replace('"type":"allow"', '"type":"deny"');
    save(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      firstBadLine: 7,
      problem: expect.stringMatching(/a line among lines 7\.\.11 was modified, inserted or moved/),
    });
    save(pristine.map((l, i) => (i === 2 ? JSON.stringify(JSON.parse(l), null, 0).replace('"seq":', '"seq" :') : l)));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 2 });
  });

  it("re-chaining without the key: every group hash recomputed, the next checkpoint's signature fails", async () => {
    const lines = [...pristine];
    const r = JSON.parse(lines[6]!);
    r.decision.type = "deny";
    lines[6] = JSON.stringify(r);
    save(await rechain(lines, 6));
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 11,
      problem: expect.stringMatching(/checkpoint at line 11's signature does not verify/),
    });
  });

  it("deletion, insertion and reordering show as a seq gap or a wrong group hash", async () => {
    save([...pristine.slice(0, 7), ...pristine.slice(8)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 8,
      problem: expect.stringMatching(/record seq 7 is missing/),
    });
    const swapped = [...pristine];
    [swapped[8], swapped[9]] = [swapped[9]!, swapped[8]!];
    save(swapped);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 9 });
    // Renumbered to hide the swap: the group hash still shows it.
    const renumbered = swapped.map((l, i) => l.replace(/"seq":\d+/, `"seq":${i}`));
    save(renumbered);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, firstBadLine: 7 });
  });

  it("truncation: before the head's checkpoint fails; only the closing checkpoint gone is a crash the head covers", async () => {
    save(pristine.slice(0, 12));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/truncated/),
    });
    save(pristine.slice(0, 15));
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: true,
      decisions: 12,
      lastCheckpoint: { seq: 15 },
    });
    // ... but not if a record the head's checkpoint covers was changed.
    const lines = pristine.slice(0, 15);
    lines[13] = lines[13]!.replace('"type":"allow"', '"type":"deny"');
    save(lines);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/truncated/),
    });
  });

  it("records after the last checkpoint are unsigned: a forged tail fails with a trusted key unless allowUnsignedTail", async () => {
    const forged = JSON.parse(pristine[1]!);
    forged.seq = 16;
    forged.decision = { ...forged.decision, id: "forged", reason: "forged" };
    save([...pristine, JSON.stringify(forged)]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({
      ok: false,
      unsigned: 1,
      firstBadLine: 17,
      problem: expect.stringMatching(/record seq 16 \(line 17\) after the last signed checkpoint/),
    });
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({ ok: true, unsigned: 1 });
  });

  it("a v1 log reopened by the sink continues its chain in v2 and verifies; a v1 line after v2 lines does not", async () => {
    const v1 = await toV1(pristine, signer);
    save(v1, `${v1.at(-1)}\n`);
    const sink = new JsonlAuditSink(path, { signer, onWarning: () => {} });
    expect(sink.opened).toEqual({ resumed: true, nextSeq: 16 });
    sink.write(decision(13));
    await sink.close();
    const lines = readFileSync(path, "utf8").split("\n").slice(0, -1);
    expect(lines.slice(0, 16)).toEqual(v1);
    expect(lines.slice(16).map((l) => JSON.parse(l).v)).toEqual([2, 2, 2]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: true, decisions: 13, checkpoints: 6 });
    save([...pristine, ...(await toV1([...pristine, pristine[1]!.replace('"seq":1', '"seq":16')], signer)).slice(16)]);
    expect(await verifyAuditLog(path)).toMatchObject({
      ok: false,
      firstBadLine: 17,
      problem: expect.stringMatching(/v1 record after v2/),
    });
  });

  it("a seal closes each group of a log without a signer", async () => {
    const unsigned = join(root, "unsigned.jsonl");
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
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("byte" as const),
        line: fc.nat(15),
        at: fc.nat(10_000),
        byte: fc.integer({ min: 0x20, max: 0x7e }),
      }),
      fc.record({ kind: fc.constant("swap" as const), line: fc.nat(14) }),
      fc.record({ kind: fc.constant("dup" as const), line: fc.nat(15) }),
      fc.record({ kind: fc.constant("delete" as const), line: fc.nat(14) }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const lines = [...pristine];
        if (m.kind === "byte") {
          const text = lines[m.line]!;
          const at = m.at % text.length;
          const ch = String.fromCharCode(m.byte);
          if (text[at] === ch) return;
          lines[m.line] = text.slice(0, at) + ch + text.slice(at + 1);
        } else if (m.kind === "swap") [lines[m.line], lines[m.line + 1]] = [lines[m.line + 1]!, lines[m.line]!];
        else if (m.kind === "dup") lines.splice(m.line + 1, 0, lines[m.line]!);
        else lines.splice(m.line, 1);
        save(lines);
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
