/**
 * Table 6: cost at scale (issue 19). Gates per process and their heap (each size in a fresh
 * child process with --expose-gc), checks against 10 and 10^4 patterns of each kind, the JSONL
 * sink under a producer that never yields, `verifyAuditLog` against its read+parse+hash floor,
 * and two processes sharing one Redis.
 */
import { spawn } from "node:child_process";
import { hash } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentIdentity, GateKeeper, PermissionPolicy, type Decision, type PolicyConfig } from "@agentgate/core";
import { JsonlAuditSink, verifyAuditLog } from "@agentgate/core/node";
import { limitedPolicy, REQUESTS } from "../fixture.ts";
import { fmtNs, fmtRatio, runAsync, runSync, summarize, table } from "../harness.ts";
import { load } from "../machine.ts";
import { emit, log, QUICK, roundOptions, type TargetCheck } from "../result.ts";
import { scaleRedis } from "./scale-redis.ts";

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const identity = await AgentIdentity.create("bench-agent");
const policy = new PermissionPolicy(limitedPolicy(1_000_000_000));

// ------------------------------------------------------------------------------ child: N gates
const LLM_TOOL = { llm: { action: "llm_call" } };
const gatesArg = process.argv.find((a) => a.startsWith("--gates="));
if (gatesArg) {
  const count = Number(gatesArg.split("=")[1]);
  const gc = (globalThis as { gc?: () => void }).gc!;
  const heap = () => (gc(), gc(), process.memoryUsage().heapUsed);
  const gates: GateKeeper[] = new Array(count);
  const base = heap();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) gates[i] = new GateKeeper({ identity, policy });
  const buildNs = Number(process.hrtime.bigint() - t0) / count;
  const built = heap() - base;
  // One limited check on each: what a gate holds once it has been used.
  for (const g of gates)
    if ((await g.check("llm_call")).type !== "allow") throw new Error("a fresh gate denied llm_call");
  const used = heap() - base;
  // Then one tool call with a call id, as every adapter makes: the per-call memory and call records start.
  for (const g of gates) {
    const d = await g.checkToolCall({ toolName: "llm", input: {}, callId: "call-1", mapping: LLM_TOOL });
    if (d.type !== "allow") throw new Error(`a fresh gate denied a tool call: ${d.reason}`);
  }
  const tooled = heap() - base;
  process.stdout.write(JSON.stringify({ count, buildNs, built, used, tooled }));
  process.exit(0);
}

const targets: TargetCheck[] = [];
const md: string[] = [`Load average at the start of this table: ${load()}.`, ""];

// ------------------------------------------------------------------------------ gates per process
interface GatesRun {
  count: number;
  buildNs: number;
  built: number;
  used: number;
  tooled: number;
}
function runGates(count: number): Promise<GatesRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=4096", fileURLToPath(import.meta.url), `--gates=${count}`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`gates child for ${count} exited with ${code}`)),
    );
  });
}
const BUDGET = 3 * 1024 ** 3;
const gateRows: string[][] = [];
let perGate = 0;
let at100k: GatesRun | undefined;
// 10^5 even in a quick run: it is the target, and takes a few seconds.
for (const count of [1_000, 10_000, 100_000]) {
  if (perGate * count > BUDGET) {
    gateRows.push([
      count.toLocaleString("en-US"),
      `not run: projected ${mb(perGate * count)} at ${(perGate / 1024).toFixed(0)} KB per gate`,
      "",
      "",
      "",
      "",
    ]);
    continue;
  }
  const r = await runGates(count);
  perGate = r.used / count;
  if (count === 100_000) at100k = r;
  log(`  scale: ${count} gates, ${mb(r.used)}, ${(r.buildNs / 1000).toFixed(1)} µs per gate`);
  gateRows.push([
    count.toLocaleString("en-US"),
    mb(r.built),
    mb(r.used),
    `${(r.used / count / 1024).toFixed(1)} KB`,
    mb(r.tooled),
    `${(r.buildNs / 1000).toFixed(1)} µs`,
  ]);
}
targets.push({
  name: "10^5 gates with their own `MemoryStore`, one process",
  target: "< 300 MB heap",
  measured: at100k
    ? `${mb(at100k.used)} (${mb(at100k.tooled)} after a tool call each)`
    : `not run (projected ${mb(perGate * 100_000)})`,
  met: at100k ? at100k.used < 300 * 1024 * 1024 : false,
});
md.push(
  "### Gates per process",
  "",
  "Each size in a fresh `node --expose-gc` process: N `GateKeeper`s sharing one identity and policy, each with its own default `MemoryStore`, then one `max_per_minute` check on each, then one `checkToolCall` with a call id on each (what adapters send: it starts the gate's per-call memory and the store's call records). Heap used above the process's baseline after two full collections. A gate allocates its maps on first use, so an idle gate costs about 1 KB.",
  "",
  table(
    [
      "gates",
      "heap after building",
      "heap after one check each",
      "per gate",
      "heap after one tool call each",
      "build time per gate",
    ],
    gateRows,
  ),
  "",
);

// ------------------------------------------------------------------------------ patterns
const KINDS: {
  kind: string;
  pattern: (tag: string, i: number) => string;
  target: (tag: string, i: number) => string;
}[] = [
  { kind: "exact", pattern: (t, i) => `/data/${t}${i}/file.txt`, target: (t, i) => `/data/${t}${i}/file.txt` },
  { kind: "`dir/**`", pattern: (t, i) => `/data/${t}${i}/**`, target: (t, i) => `/data/${t}${i}/x/y.txt` },
  {
    kind: "regex-shaped (`dir/*.md`)",
    pattern: (t, i) => `/data/${t}${i}/*.md`,
    target: (t, i) => `/data/${t}${i}/notes.md`,
  },
  {
    kind: "automaton (`/data/**/name/*.md`)",
    pattern: (t, i) => `/data/**/${t}${i}/*.md`,
    target: (t, i) => `/data/x/${t}${i}/notes.md`,
  },
];
const SIZES = [10, QUICK ? 1_000 : 10_000];
const patternRows: string[][] = [];
let worstPattern = 0;
for (const k of KINDS) {
  const cells: Record<string, number> = {};
  const measure = async (size: number) => {
    const list = (tag: string) => Array.from({ length: size }, (_, i) => k.pattern(tag, i));
    const config: PolicyConfig = {
      name: "scale",
      rules: [{ action: "file_read", allowed: true, allowedTargets: list("a"), deniedTargets: list("d") }],
    };
    const p = new PermissionPolicy(config);
    // The last pattern of each list: the worst place for a linear scan.
    const allowT = k.target("a", size - 1);
    const denyT = k.target("d", size - 1);
    const missT = k.target("z", size - 1);
    if (
      p.check("file_read", allowT) !== "allow" ||
      p.check("file_read", denyT) !== "deny" ||
      p.check("file_read", missT) !== "deny"
    ) {
      throw new Error(`scale: ${k.kind} x${size} decides wrongly`);
    }
    const g = new GateKeeper({ identity, policy: p });
    const denied = await g.check("file_read", denyT);
    if (!denied.reason.includes(k.pattern("d", size - 1)))
      throw new Error(`scale: the deny reason does not name the pattern: ${denied.reason}`);
    const sync = runSync(
      [
        { name: "allow", check: (t: string) => p.check("file_read", t) === "allow", requests: [allowT] },
        { name: "deny", check: (t: string) => p.check("file_read", t) === "allow", requests: [denyT, missT] },
      ],
      roundOptions({ rounds: 11, warmupMs: 100, batchMs: 10 }),
    );
    const gateR = await runAsync(
      [
        { name: "allow", op: () => g.check("file_read", allowT) },
        { name: "deny", op: () => g.check("file_read", denyT) },
      ],
      roundOptions({ rounds: 11, warmupMs: 100, batchMs: 10 }),
    );
    cells[`p-allow-${size}`] = sync[0]!.nsPerOp.median;
    cells[`p-deny-${size}`] = sync[1]!.nsPerOp.median;
    cells[`g-allow-${size}`] = gateR[0]!.nsPerOp.median;
    cells[`g-deny-${size}`] = gateR[1]!.nsPerOp.median;
  };
  for (const size of SIZES) await measure(size);
  const [small, big] = SIZES as [number, number];
  for (const [what, key] of [
    ["`policy.check` allow", "p-allow"],
    ["`policy.check` deny (named pattern, no match)", "p-deny"],
    ["`gate.check` allowed", "g-allow"],
    ["`gate.check` denied (reason names the pattern)", "g-deny"],
  ] as const) {
    const ratio = cells[`${key}-${big}`]! / cells[`${key}-${small}`]!;
    worstPattern = Math.max(worstPattern, ratio);
    patternRows.push([k.kind, what, fmtNs(cells[`${key}-${small}`]!), fmtNs(cells[`${key}-${big}`]!), fmtRatio(ratio)]);
  }
  log(`  scale: patterns ${k.kind} done`);
}
targets.push({
  name: `check against ${SIZES[1]!.toLocaleString("en-US")} patterns of each kind vs 10`,
  target: "≤ 3×",
  measured: `worst ${fmtRatio(worstPattern)}`,
  met: worstPattern <= 3,
});
md.push(
  "### Big target lists",
  "",
  `One \`file_read\` rule with N \`allowedTargets\` and N \`deniedTargets\` of one kind; the targets match the last pattern of each list (the worst place for a scan). \`policy.check\` deny alternates a denied target and one that matches nothing. CPU per call, median of 11 rounds.`,
  "",
  table(["kind", "call", "10 patterns", `${SIZES[1]!.toLocaleString("en-US")} patterns`, "ratio"], patternRows),
  "",
);

// ------------------------------------------------------------------------------ sink: a producer that never yields
const dir = mkdtempSync(join(tmpdir(), "agentgate-scale-"));
try {
  const g = new GateKeeper({ identity, policy });
  const decisions: Decision[] = [];
  for (const r of REQUESTS) decisions.push(await g.check(r.action, r.target));
  const N = QUICK ? 200_000 : 1_000_000;
  const path = join(dir, "flood.jsonl");
  const sink = new JsonlAuditSink(path);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let peakBuffered = 0;
  let peakHeap = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    void sink.write(decisions[i & 7]!);
    if ((i & 4095) === 0) peakBuffered = Math.max(peakBuffered, sink.bufferedBytes);
    // Live heap (after a full collection), not garbage the producer left behind.
    if ((i & 65535) === 65535) {
      gc();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - heap0);
    }
  }
  const loopMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const heldAtEnd = sink.pending;
  const dropped = sink.dropped;
  await sink.close();
  const v = await verifyAuditLog(path);
  if (!v.ok) throw new Error(`the flooded log does not verify: ${v.problem}`);
  if (v.decisions !== N - dropped || v.dropped !== dropped)
    throw new Error(
      `flood: ${v.decisions} decisions and ${v.dropped} counted drops in the file, expected ${N - dropped} and ${dropped}`,
    );
  const bounded = peakBuffered <= 16 * 1024 * 1024 + 4096;
  targets.push({
    name: "JSONL sink, producer that never yields",
    target: "memory bounded",
    measured: `${mb(peakBuffered)} buffered at most, heap +${mb(peakHeap)}`,
    met: bounded,
  });
  md.push(
    "### JSONL sink under a producer that never yields",
    "",
    table(
      [
        "writes in one synchronous loop",
        "loop time",
        "CPU per write",
        "most bytes buffered (bound 16 MiB)",
        "live heap growth at most (sampled after a full GC every 65 536 writes)",
        "records held when the loop ends",
        "decisions in the file after `close()`",
        "dropped (counted in recovery records)",
      ],
      [
        [
          N.toLocaleString("en-US"),
          `${loopMs.toFixed(0)} ms`,
          fmtNs(((c.user + c.system) * 1000) / N),
          mb(peakBuffered),
          mb(peakHeap),
          heldAtEnd.toLocaleString("en-US"),
          v.decisions.toLocaleString("en-US"),
          dropped.toLocaleString("en-US"),
        ],
      ],
    ),
    "",
    '`sink.write` called in a loop that never awaits (the sink\'s defaults: fsync group commit, `maxBufferBytes` 16 MiB, `onBufferFull: "deny"`). Writes past the bound are refused and counted, and the file says how many (`verifyAuditLog` agrees on both counts).',
    "",
  );

  // ---------------------------------------------------------------------------- verify vs its floor
  const signer = await AgentIdentity.create("audit-key", { algorithm: "Ed25519" });
  const vPath = join(dir, "verify.jsonl");
  const vSink = new JsonlAuditSink(vPath, { signer, fsync: false });
  const R = QUICK ? 20_000 : 200_000;
  for (let i = 0; i < R; i++) {
    void vSink.write(decisions[i & 7]!);
    if ((i & 1023) === 1023) await vSink.flush();
  }
  await vSink.close();
  const publicKey = signer.publicKeyJwk()!;
  const floor = async (): Promise<number> => {
    let lines = 0;
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(vPath, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        const text = buf.toString("utf8", start, nl);
        JSON.parse(text);
        hash("sha256", text, "hex");
        lines++;
        start = nl + 1;
      }
      rest = buf.subarray(start);
    }
    return lines;
  };
  const fl: number[] = [];
  const ve: number[] = [];
  const ratios: number[] = [];
  let records = 0;
  for (let round = 0; round < (QUICK ? 3 : 7); round++) {
    const t1 = performance.now();
    records = await floor();
    const f = performance.now() - t1;
    const t2 = performance.now();
    const res = await verifyAuditLog(vPath, { publicKey });
    const w = performance.now() - t2;
    if (!res.ok) throw new Error(`verify: ${res.problem}`);
    fl.push(f);
    ve.push(w);
    ratios.push(f / w);
  }
  const ratio = summarize(ratios).median;
  const rate = (ms: number) => `${Math.round(records / (ms / 1000)).toLocaleString("en-US")} records/s`;
  targets.push({
    name: "`verifyAuditLog` vs read+parse+hash floor",
    target: "≥ 0.8×",
    measured: `${fmtRatio(ratio)} (${rate(summarize(ve).median)} vs ${rate(summarize(fl).median)})`,
    met: ratio >= 0.8,
  });
  md.push(
    "### `verifyAuditLog` against its floor",
    "",
    table(
      ["", "median time", "records per second"],
      [
        [
          "floor: stream the file, split lines, `JSON.parse` + SHA-256 each",
          `${summarize(fl).median.toFixed(0)} ms`,
          rate(summarize(fl).median),
        ],
        ["`verifyAuditLog(path, { publicKey })`", `${summarize(ve).median.toFixed(0)} ms`, rate(summarize(ve).median)],
        ["**verify speed / floor speed** (median of paired rounds)", "", `**${fmtRatio(ratio)}**`],
      ],
    ),
    "",
    `${records.toLocaleString("en-US")} lines (decisions of the mix, a signed checkpoint every 1 024 records), ${mb(readFileSync(vPath).length)}; the two alternate, ${fl.length} rounds.`,
    "",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------ two processes on one Redis
md.push(...(await scaleRedis(targets)));
md.push(`Load average at the end of this table: ${load()}.`);

emit({ id: "scale", title: "6. Scale", markdown: md.join("\n"), targets, data: {} });
process.exit(0);
