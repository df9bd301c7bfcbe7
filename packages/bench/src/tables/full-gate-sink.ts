/** Table 2's JSONL audit sink rows: the sink's cost beside the same request mix without it. */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditSink, GateKeeper } from "@agentgate/core";
import { fmtNs, runLatency, summarize, table, type LatencyResult } from "../harness.ts";
import { QUICK, type TargetCheck } from "../result.ts";

export type Sink = AuditSink & { close(): Promise<void>; flush(): Promise<void> };

export interface SinkContext {
  gate: (options?: { auditSinks?: AuditSink[] }) => GateKeeper;
  mixOp: (g: GateKeeper) => (i: number) => Promise<unknown>;
  targets: TargetCheck[];
  sinkData: Record<string, unknown>;
  verifyAuditLog?: (
    path: string,
    options?: Record<string, unknown>,
  ) => Promise<{ ok: boolean; records: number; problem?: string }>;
}

/** The sink's cost two ways: latency added to each check, and all CPU it spends per decision, writes included. */
export async function jsonlSection(
  Ctor: new (path: string, options?: Record<string, unknown>) => Sink,
  { gate, mixOp, targets, sinkData, verifyAuditLog }: SinkContext,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-bench-"));
  const path = join(dir, "audit.jsonl");
  try {
    const sink = new Ctor(path);
    const gPlain = gate();
    const gSink = gate({ auditSinks: [sink] });
    const lat = await runLatency(
      [
        { name: "plain", op: mixOp(gPlain) },
        { name: "sink", op: mixOp(gSink), after: () => gSink.flush() },
      ],
      { rounds: QUICK ? 3 : 9, calls: QUICK ? 2_000 : 10_000 },
    );
    // CPU per decision including the group-commit writes: N checks, then flush, per round.
    const batch = QUICK ? 2_000 : 10_000;
    const cpu = { plain: [] as number[], sink: [] as number[] };
    for (let round = 0; round < (QUICK ? 3 : 9); round++) {
      for (const which of round % 2 === 0 ? (["plain", "sink"] as const) : (["sink", "plain"] as const)) {
        const g = which === "sink" ? gSink : gPlain;
        const op = mixOp(g);
        const c0 = process.cpuUsage();
        for (let i = 0; i < batch; i++) await op(i);
        await g.flush();
        const c = process.cpuUsage(c0);
        cpu[which].push(((c.user + c.system) * 1000) / batch);
      }
    }
    const t0 = performance.now();
    await gSink.close();
    const closeMs = performance.now() - t0;
    const bytes = statSync(path).size;
    let verified = "";
    let records: number;
    if (verifyAuditLog) {
      const v = await verifyAuditLog(path);
      if (!v.ok) throw new Error(`the benchmark's own audit log does not verify: ${v.problem}`);
      records = v.records;
      verified = ` \`verifyAuditLog\` accepts all ${v.records.toLocaleString("en-US")} records.`;
    } else {
      records = readFileSync(path, "utf8").split("\n").length - 1;
    }
    const [plainLat, sinkLat] = lat as [LatencyResult, LatencyResult];
    const addedLatency = sinkLat.p50Ns.median - plainLat.p50Ns.median;
    const deltas = cpu.sink.map((x, i) => x - cpu.plain[i]!);
    const cpuPerDecision = summarize(deltas).median;
    targets.push({
      name: "JSONL audit sink, per decision",
      target: "≤ 2 µs",
      measured: `${fmtNs(addedLatency)} added to a check's p50; ${fmtNs(cpuPerDecision)} CPU per decision with its writes`,
      // Both: the latency a check sees and all the CPU the sink spends per decision.
      met: addedLatency <= 2000 && cpuPerDecision <= 2000,
    });
    sinkData.jsonl = { addedLatencyNs: addedLatency, cpuPerDecisionNs: cpuPerDecision, bytes, closeMs };
    return [
      "### JSONL audit sink",
      "",
      `\`JsonlAuditSink\` from \`@agentgate/core/node\` with its defaults (format v2: one SHA-256 per group commit; fsync group commit), the request mix, beside the same mix without a sink.`,
      "",
      table(
        ["case", "p50 per check", "p99 per check", "CPU per decision, group-commit writes included"],
        [
          [
            "request mix, in-memory audit only",
            fmtNs(plainLat.p50Ns.median),
            fmtNs(plainLat.p99Ns.median),
            fmtNs(summarize(cpu.plain).median),
          ],
          [
            "request mix + JSONL sink",
            fmtNs(sinkLat.p50Ns.median),
            fmtNs(sinkLat.p99Ns.median),
            fmtNs(summarize(cpu.sink).median),
          ],
          ["**sink cost**", `**${fmtNs(addedLatency)}**`, "", `**${fmtNs(cpuPerDecision)}**`],
        ],
      ),
      "",
      `The run wrote ${(bytes / 1e6).toFixed(1)} MB (${records.toLocaleString("en-US")} lines, ${Math.round(bytes / Math.max(1, records))} B each); \`close()\` took ${closeMs.toFixed(0)} ms.${verified}`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
