/**
 * Table 4: memory. Heap after every 100 000 of 10^6 checks with the default audit limit (run
 * with --expose-gc; each sample after two full collections), and the bytes one kept decision costs.
 */
import { AgentIdentity, GateKeeper, PermissionPolicy, type ToolMapping } from "@agentgate/core";
import { limitedPolicy, REQUESTS } from "../fixture.ts";
import { table } from "../harness.ts";
import { emit, log, QUICK, type TargetCheck } from "../result.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc (run.ts does)");
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const signedMb = (bytes: number) => `${bytes >= 0 ? "+" : "−"}${mb(Math.abs(bytes))}`;

const TOTAL = QUICK ? 200_000 : 1_000_000;
const STEP = TOTAL / 10;
const identity = await AgentIdentity.create("bench-agent");
// A realistic limit: after 60 model calls a minute the rest are rate-limit denials, as in production.
const policy = new PermissionPolicy(limitedPolicy(60));
const n = REQUESTS.length;

/** Tool calls for the same mix: the adapters' path, a new call id on every call. */
const toolNames = ["search", "delete_repository", "chat", "read_file"];
const mapping: ToolMapping = {
  chat: { action: "llm_call" },
  read_file: { action: "file_read", target: (input: { path: string }) => input.path },
};
const toolInputs = [{ query: "q" }, { query: "q" }, { prompt: "hi" }, { path: "/workspace/src/index.ts" }];

interface Series {
  name: string;
  samples: number[];
  /** CPU ns per check in each tenth of the run (heap sampling excluded). */
  stepNs: number[];
}

async function series(name: string, run: (gate: GateKeeper, i: number) => Promise<unknown>): Promise<Series> {
  const base = heap();
  const gate = new GateKeeper({ identity, policy });
  const samples = [heap() - base];
  const stepNs: number[] = [];
  for (let step = 0; step < 10; step++) {
    const c0 = process.cpuUsage();
    for (let i = step * STEP; i < (step + 1) * STEP; i++) await run(gate, i);
    const c = process.cpuUsage(c0);
    stepNs.push(((c.user + c.system) * 1000) / STEP);
    samples.push(heap() - base);
    log(
      `  ${name}: ${(step + 1) * STEP} checks, heap ${mb(samples.at(-1)!)}, ${stepNs.at(-1)!.toFixed(0)} ns CPU per check`,
    );
  }
  if (gate.decisions.length !== 10_000)
    throw new Error(`expected the audit to hold 10 000 decisions, it holds ${gate.decisions.length}`);
  return { name, samples, stepNs };
}

const checks = await series("`gate.check`, request mix", (g, i) =>
  g.check(REQUESTS[i % n]!.action, REQUESTS[i % n]!.target),
);
const toolCalls = await series("`checkToolCall`, new call id each", (g, i) =>
  g.checkToolCall({ toolName: toolNames[i % 4]!, input: toolInputs[i % 4], callId: `call-${i}`, mapping }),
);

/** Bytes one kept decision costs: a full audit (10 000) against none, after the same checks. */
async function retained(auditLimit: number): Promise<number> {
  const base = heap();
  const gate = new GateKeeper({ identity, policy, auditLimit });
  for (let i = 0; i < 30_000; i++) await gate.check(REQUESTS[i % n]!.action, REQUESTS[i % n]!.target);
  const used = heap() - base;
  if (gate.decisions.length !== auditLimit) throw new Error("audit size off");
  return used;
}
const withAudit: number[] = [];
const withoutAudit: number[] = [];
for (let k = 0; k < 5; k++) {
  withoutAudit.push(await retained(0));
  withAudit.push(await retained(10_000));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perDecision = (med(withAudit) - med(withoutAudit)) / 10_000;
const sample = new GateKeeper({ identity, policy });
const jsonBytes =
  (await Promise.all(REQUESTS.map((r) => sample.check(r.action, r.target)))).reduce(
    (s, d) => s + JSON.stringify(d).length,
    0,
  ) / n;

const targets: TargetCheck[] = [];
const rows: string[][] = [];
for (const s of [checks, toolCalls]) {
  // Growth over the last 400 000 checks, once the audit ring and the per-call records are full.
  const growth = s.samples[10]! - s.samples[6]!;
  const flat = growth <= 1024 * 1024;
  targets.push({
    name: `Heap after ${TOTAL === 1_000_000 ? "10^6" : TOTAL.toLocaleString("en-US")} checks, ${s.name}`,
    target: "flat (≤ 1 MB growth over the last 40 %)",
    measured: `${mb(s.samples[10]!)} at the end, ${signedMb(growth)} over the last 40 %`,
    met: flat,
  });
  const ns = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} µs` : `${x.toFixed(0)} ns`);
  rows.push([
    s.name,
    ...s.samples.filter((_, i) => i % 2 === 0).map(mb),
    signedMb(growth),
    `${ns(s.stepNs[2]!)} / ${ns(s.stepNs[9]!)}`,
  ]);
}
targets.push({
  name: "Bytes per decision kept",
  target: "reported",
  measured: `${perDecision.toFixed(0)} B`,
  met: null,
});

const steps = [0, 2, 4, 6, 8, 10].map((i) => (i * STEP).toLocaleString("en-US"));
const markdown = [
  `Heap used (after two forced full collections) above the process's baseline, sampled every ${STEP.toLocaleString("en-US")} of ${TOTAL.toLocaleString("en-US")} awaited checks on one gate with the default \`auditLimit\` (10 000) and \`MemoryStore\`; \`llm_call\` is limited to 60 a minute, so most model calls after the first 60 are rate-limit denials, as they would be in production. The second series goes through \`checkToolCall\` with a new call id every time (tools mapped onto the same actions), which also fills the gate's per-call memory and the store's call records (bounded: 100 000 by default).`,
  "",
  table(
    ["series", ...steps.map((s) => `after ${s}`), "growth over the last 40 %", "CPU per check: 3rd / last tenth"],
    rows,
  ),
  "",
  `CPU per check is process CPU for that tenth of the run (garbage collection included, heap sampling excluded); the third tenth is past warm-up and, in the \`checkToolCall\` series, before the store is full. There the last tenth costs ${(toolCalls.stepNs[9]! / toolCalls.stepNs[2]!).toFixed(1)}× the third: by then \`MemoryStore\` holds its 100 000 call records (one for each \`chat\` call, a quarter of the calls) and every new one evicts the oldest.`,
  "",
  `**Bytes per decision kept: ${perDecision.toFixed(0)} B** (heap with a full 10 000-decision audit minus heap with \`auditLimit: 0\`, after the same 30 000 checks, median of 5 pairs). The same decision as JSON is ${jsonBytes.toFixed(0)} characters. At the default limit the audit holds about ${mb(perDecision * 10_000)}.`,
].join("\n");

emit({
  id: "memory",
  title: "4. Memory",
  markdown,
  targets,
  data: { checks, toolCalls, perDecision, jsonBytes, withAudit, withoutAudit },
});
process.exit(0);
