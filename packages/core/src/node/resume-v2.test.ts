import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDecision } from "../gate/decision.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "./index.js";

const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
const publicKey = signer.publicKeyJwk()!;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentgate-resume2-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const decision = (i: number) =>
  makeDecision({
    id: `d-${i}`,
    type: "allow",
    code: "allowed",
    agentId: "a",
    agentName: "bot",
    action: "tool_use",
    target: "search",
    reason: `decision ${i}`,
    timestamp: new Date(1_700_000_000_000 + i).toISOString(),
    policy: "p",
  });

/** A v2 record line as the sink writes it: what a group torn before its chain point leaves on disk. */
const recordLine = (seq: number, i: number) =>
  `{"decision":${JSON.stringify(decision(i))},"seq":${seq},"type":"decision","v":2}`;

async function write(path: string, options: ConstructorParameters<typeof JsonlAuditSink>[1], ids: number[]) {
  const sink = new JsonlAuditSink(path, { onWarning: () => {}, ...options });
  for (const i of ids) sink.write(decision(i));
  await sink.close();
  return sink;
}

const types = (path: string) =>
  readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l).type);

describe("reopening a v2 log whose last group was torn before its chain point", () => {
  it("without a signer: the records are carried into the next group and sealed with it", async () => {
    const path = join(dir, "a.jsonl");
    await write(path, {}, [1, 2]);
    // [d0, d1, seal2] + two complete records of a group whose seal never reached the disk, the second without its newline.
    appendFileSync(path, `${recordLine(3, 3)}\n${recordLine(4, 4)}`);
    const sink = new JsonlAuditSink(path, { onWarning: () => {} });
    expect(sink.opened).toEqual({ resumed: true, nextSeq: 5 });
    expect(sink.pending).toBe(0);
    sink.write(decision(5));
    await sink.close();
    expect(types(path)).toEqual(["decision", "decision", "seal", "decision", "decision", "decision", "seal"]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, decisions: 5 });
    expect((await readAuditLog(path)).map((e) => e.decision.id)).toEqual(["d-1", "d-2", "d-3", "d-4", "d-5"]);
  });

  it("without new records, closing seals the carried records", async () => {
    const path = join(dir, "b.jsonl");
    await write(path, {}, [1]);
    appendFileSync(path, `${recordLine(2, 2)}\n`);
    await new JsonlAuditSink(path, { onWarning: () => {} }).close();
    expect(types(path)).toEqual(["decision", "seal", "decision", "seal"]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, decisions: 2 });
  });

  it("with a signer: the records are named unsigned in a recovery record, never signed over", async () => {
    const path = join(dir, "c.jsonl");
    await write(path, { signer }, [1, 2]);
    // [C0, d1, d2, C3] + a torn group.
    appendFileSync(path, `${recordLine(4, 3)}\n${recordLine(5, 4)}\n`);
    const warnings: string[] = [];
    const sink = new JsonlAuditSink(path, { signer, onWarning: (m) => warnings.push(m) });
    expect(sink.opened.unsigned).toEqual({ from: 4, to: 5 });
    expect(warnings.join()).toMatch(/records seq 4\.\.5 after the last signed checkpoint/);
    sink.write(decision(5));
    await sink.close();
    expect(types(path)).toEqual([
      "checkpoint",
      "decision",
      "decision",
      "checkpoint",
      "decision",
      "decision",
      "recovery",
      "checkpoint",
      "decision",
      "checkpoint",
    ]);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, unsigned: 2, firstBadLine: 5 });
    expect(await verifyAuditLog(path, { publicKey, allowUnsignedTail: true })).toMatchObject({
      ok: true,
      unsigned: 2,
      decisions: 5,
      recoveries: 1,
    });
  });

  it("refuses a log whose carried records do not follow their chain point", async () => {
    const path = join(dir, "d.jsonl");
    await write(path, {}, [1]);
    appendFileSync(path, `${recordLine(7, 2)}\n`);
    expect(() => new JsonlAuditSink(path)).toThrow(/seq 7 follows seq 1; refusing to append/);
    writeFileSync(path, `${recordLine(3, 2)}\n`);
    expect(() => new JsonlAuditSink(path)).toThrow(/follow no chain point; refusing to append/);
  });
});
