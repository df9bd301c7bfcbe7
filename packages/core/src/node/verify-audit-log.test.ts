import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { canonicalBody, chainHash, recordLine } from "./audit-record.js";
import { logDecision as decision, rechain, saveLog, toV1, writeGroupedLog } from "./test-utils/audit-logs.js";
import { JsonlAuditSink, verifyAuditLog } from "./index.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
const root = mkdtempSync(join(tmpdir(), "agentgate-verify-"));
let n = 0;
/** The log as an older writer (format v1) wrote it. */
let pristine: string[];
let pristineHead: string;
let path: string;

beforeAll(async () => {
  const { lines } = await writeGroupedLog(join(root, "pristine.jsonl"), signer);
  pristine = await toV1(lines, signer);
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
        let expected: number;
        if (m.kind === "byte") {
          const text = lines[m.line]!;
          const at = m.at % text.length;
          const ch = String.fromCharCode(m.byte);
          if (text[at] === ch) return;
          lines[m.line] = text.slice(0, at) + ch + text.slice(at + 1);
          expected = m.line + 1;
        } else if (m.kind === "swap") {
          [lines[m.line], lines[m.line + 1]] = [lines[m.line + 1]!, lines[m.line]!];
          expected = m.line + 1;
        } else if (m.kind === "dup") {
          lines.splice(m.line + 1, 0, lines[m.line]!);
          expected = m.line + 2;
        } else {
          lines.splice(m.line, 1);
          expected = m.line + 1;
        }
        save(lines);
        const v = await verifyAuditLog(path, { publicKey });
        expect(v.ok).toBe(false);
        expect(v.firstBadLine).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});
