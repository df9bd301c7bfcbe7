import { writeFileSync } from "node:fs";

/** One target from the issue, as measured. `met: null` means it could not be measured in this run. */
export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** What every table process hands back to `run.ts`. */
export interface TableResult {
  id: string;
  title: string;
  /** The section body (tables, notes) as Markdown. */
  markdown: string;
  targets: TargetCheck[];
  /** Raw numbers, kept for other tables' ratios and for the record. */
  data: Record<string, unknown>;
}

/** Progress goes to stderr; the result goes to the file `run.ts` named. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function emit(result: TableResult): void {
  const out = process.env.AGENTGATE_BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  else process.stdout.write(`${result.markdown}\n`);
}

/** `AGENTGATE_BENCH_QUICK=1` shrinks every table for a smoke run. */
export const QUICK = process.env.AGENTGATE_BENCH_QUICK === "1";

export function roundOptions(overrides: { rounds?: number; warmupMs?: number; batchMs?: number } = {}) {
  return {
    rounds: QUICK ? 3 : (overrides.rounds ?? 15),
    warmupMs: QUICK ? 100 : (overrides.warmupMs ?? 400),
    batchMs: QUICK ? 10 : (overrides.batchMs ?? 40),
    log,
  };
}
