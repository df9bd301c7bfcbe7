/**
 * Timing primitives. Every case gets its own timed loop (built with `new Function`), so the
 * call site inside the loop stays monomorphic and one engine's shape never slows another's.
 * Cases are interleaved round by round (rotating order) and summarised by the median, which a
 * noisy, shared machine disturbs far less than the mean.
 *
 * Batches are timed twice: by the wall clock and by the process's CPU time (`process.cpuUsage`,
 * all threads, so garbage collection on helper threads counts). On a machine shared with other
 * busy processes the wall clock also counts the time this process sat preempted; CPU time does
 * not, so it is the headline number and the wall clock is shown beside it.
 */

/** Summary of a list of samples. */
export interface Stats {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  n: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    min: s[0]!,
    max: s[s.length - 1]!,
    n: s.length,
  };
}

/** A synchronous case: `check(request)` returns true for ALLOW. */
export interface SyncCase<R = any> {
  name: string;
  check: (request: R) => boolean;
  requests: readonly R[];
}

/** Wall-clock and CPU nanoseconds of one batch. */
type Timing = [wallNs: number, cpuNs: number];
type SyncLoop = (
  check: (r: unknown) => boolean,
  requests: readonly unknown[],
  iterations: number,
) => [wallNs: number, cpuNs: number, allows: number];
type AsyncLoop = (op: (i: number) => Promise<unknown>, iterations: number, start: number) => Promise<Timing>;

const SYNC_BODY = `
  const n = requests.length;
  let j = 0, allows = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (check(requests[j])) allows++;
    if (++j === n) j = 0;
  }
  const t1 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  return [Number(t1 - t0), (c.user + c.system) * 1000, allows];`;

const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => AsyncLoop;
const ASYNC_BODY = `
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(start + i);
  const t1 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  return [Number(t1 - t0), (c.user + c.system) * 1000];`;

/** A fresh copy of the timed loop: its own inline caches and feedback. */
export function makeSyncLoop(): SyncLoop {
  return new Function("check", "requests", "iterations", SYNC_BODY) as SyncLoop;
}

export function makeAsyncLoop(): AsyncLoop {
  return new AsyncFunction("op", "iterations", "start", ASYNC_BODY);
}

export interface RoundOptions {
  rounds: number;
  /** Untimed running per case before the first round. */
  warmupMs: number;
  /** Target duration of one timed batch. */
  batchMs: number;
  log?: (line: string) => void;
}

/** Per-case result: nanoseconds per operation (CPU time), one sample per round; wall clock beside it. */
export interface CaseResult {
  name: string;
  nsPerOp: Stats;
  samples: number[];
  wallNsPerOp: Stats;
  wallSamples: number[];
  iterations: number;
}

const nowMs = () => performance.now();

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Times synchronous cases side by side. Each batch's allow count is checked against what one
 * pass over the requests says, so an engine that drifts mid-run fails loudly instead of timing.
 */
export function runSync(cases: readonly SyncCase[], options: RoundOptions): CaseResult[] {
  const prepared = cases.map((c) => {
    const loop = makeSyncLoop();
    const allowsPerPass = c.requests.filter((r) => c.check(r)).length;
    const expectAllows = (iterations: number) => {
      const n = c.requests.length;
      const full = Math.floor(iterations / n) * allowsPerPass;
      let rest = 0;
      for (let i = 0; i < iterations % n; i++) if (c.check(c.requests[i])) rest++;
      return full + rest;
    };
    return { c, loop, expectAllows, iterations: 0, samples: [] as number[], wallSamples: [] as number[] };
  });
  for (const p of prepared) {
    const until = nowMs() + options.warmupMs;
    let it = 64;
    let ns = 0;
    while (nowMs() < until || ns === 0) {
      ns = p.loop(p.c.check, p.c.requests, it)[1];
      if (ns < (options.batchMs * 1e6) / 8) it *= 2;
    }
    for (let k = 0; k < 4; k++) ns = Math.min(ns, p.loop(p.c.check, p.c.requests, it)[1]);
    p.iterations = Math.max(p.c.requests.length, Math.round((it * options.batchMs * 1e6) / Math.max(ns, 1)));
    p.iterations -= p.iterations % p.c.requests.length;
    options.log?.(`  warmed ${p.c.name}: ${p.iterations} iterations per batch`);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const p of rotate(prepared, round)) {
      const [wall, cpu, allows] = p.loop(p.c.check, p.c.requests, p.iterations);
      const expected = p.expectAllows(p.iterations);
      if (allows !== expected) throw new Error(`${p.c.name}: ${allows} allows in a batch, expected ${expected}`);
      p.samples.push(cpu / p.iterations);
      p.wallSamples.push(wall / p.iterations);
    }
  }
  return prepared.map(finish);
}

/** An asynchronous case, awaited one call at a time (concurrency 1). `op(i)` gets a call index. */
export interface AsyncCase {
  name: string;
  op: (i: number) => Promise<unknown>;
}

/** Times async cases side by side, sequentially awaited, median of rounds. */
export async function runAsync(cases: readonly AsyncCase[], options: RoundOptions): Promise<CaseResult[]> {
  let counter = 0;
  const prepared = cases.map((c) => ({
    c,
    loop: makeAsyncLoop(),
    iterations: 0,
    samples: [] as number[],
    wallSamples: [] as number[],
  }));
  for (const p of prepared) {
    const until = nowMs() + options.warmupMs;
    let it = 32;
    let ns = 0;
    while (nowMs() < until || ns === 0) {
      ns = (await p.loop(p.c.op, it, counter))[1];
      counter += it;
      if (ns < (options.batchMs * 1e6) / 8) it *= 2;
    }
    for (let k = 0; k < 4; k++) {
      ns = Math.min(ns, (await p.loop(p.c.op, it, counter))[1]);
      counter += it;
    }
    p.iterations = Math.max(1, Math.round((it * options.batchMs * 1e6) / Math.max(ns, 1)));
    options.log?.(`  warmed ${p.c.name}: ${p.iterations} calls per batch`);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const p of rotate(prepared, round)) {
      const [wall, cpu] = await p.loop(p.c.op, p.iterations, counter);
      counter += p.iterations;
      p.samples.push(cpu / p.iterations);
      p.wallSamples.push(wall / p.iterations);
    }
  }
  return prepared.map(finish);
}

function finish(p: { c: { name: string }; samples: number[]; wallSamples: number[]; iterations: number }): CaseResult {
  return {
    name: p.c.name,
    nsPerOp: summarize(p.samples),
    samples: p.samples,
    wallNsPerOp: summarize(p.wallSamples),
    wallSamples: p.wallSamples,
    iterations: p.iterations,
  };
}

/**
 * The median over rounds of `a / b`, each round's pair timed back to back: robust against the
 * machine getting slower or faster during the run, which moves both sides of a pair together.
 */
export function pairedRatio(a: CaseResult, b: CaseResult): number {
  const n = Math.min(a.samples.length, b.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(a.samples[i]! / b.samples[i]!);
  return summarize(ratios).median;
}

/** The median over rounds of `a - b` (ns per op), each round's pair timed back to back. */
export function pairedDelta(a: CaseResult, b: CaseResult): number {
  const n = Math.min(a.samples.length, b.samples.length);
  const deltas: number[] = [];
  for (let i = 0; i < n; i++) deltas.push(a.samples[i]! - b.samples[i]!);
  return summarize(deltas).median;
}

/** Latency distribution and throughput of `count` calls spread over `concurrency` workers. */
export interface LoadResult {
  count: number;
  concurrency: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

export async function runLoad(
  op: (i: number) => Promise<unknown>,
  count: number,
  concurrency: number,
  start = 0,
): Promise<LoadResult> {
  const lat = new Float64Array(count);
  let next = 0;
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= count) return;
      const t0 = process.hrtime.bigint();
      await op(start + i);
      lat[i] = Number(process.hrtime.bigint() - t0);
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallNs = Number(process.hrtime.bigint() - t0);
  lat.sort();
  return {
    count,
    concurrency,
    opsPerSec: (count * 1e9) / wallNs,
    p50Us: quantile(lat as unknown as number[], 0.5) / 1000,
    p99Us: quantile(lat as unknown as number[], 0.99) / 1000,
  };
}

/** Per-call latency at concurrency 1, median over rounds of each round's p50 and p99. */
export interface LatencyResult {
  name: string;
  p50Ns: Stats;
  p99Ns: Stats;
}

/**
 * Times every call on its own (two `hrtime` reads around each), cases interleaved round by
 * round. A call's latency is hardly ever hit by preemption, so the per-call median stays
 * meaningful on a busy machine where batch wall-clock times do not. `after` runs untimed
 * after each of a case's rounds (e.g. to flush a sink).
 */
export async function runLatency(
  cases: readonly (AsyncCase & { after?: () => Promise<void> })[],
  options: { rounds: number; calls: number; log?: (line: string) => void },
): Promise<LatencyResult[]> {
  let counter = 2 ** 40; // call indexes never collide with other runs on the same gate
  const p50 = cases.map(() => [] as number[]);
  const p99 = cases.map(() => [] as number[]);
  const indexed = cases.map((c, i) => ({ c, i }));
  for (const { c } of indexed) {
    await runLoad(c.op, Math.min(options.calls, 5_000), 1, counter);
    counter += options.calls;
    await c.after?.();
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const { c, i } of rotate(indexed, round)) {
      const r = await runLoad(c.op, options.calls, 1, counter);
      counter += options.calls;
      await c.after?.();
      p50[i]!.push(r.p50Us * 1000);
      p99[i]!.push(r.p99Us * 1000);
    }
  }
  return cases.map((c, i) => ({ name: c.name, p50Ns: summarize(p50[i]!), p99Ns: summarize(p99[i]!) }));
}

/** Median of each metric over several load rounds. */
export function medianLoad(results: readonly LoadResult[]): LoadResult & { rounds: number } {
  const m = (f: (r: LoadResult) => number) => summarize(results.map(f)).median;
  return {
    count: results[0]!.count,
    concurrency: results[0]!.concurrency,
    opsPerSec: m((r) => r.opsPerSec),
    p50Us: m((r) => r.p50Us),
    p99Us: m((r) => r.p99Us),
    rounds: results.length,
  };
}

// ---------------------------------------------------------------------------- formatting

export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "n/a";
  if (ns < 0) return `−${fmtNs(-ns)}`;
  if (ns < 1000) return `${ns < 100 ? ns.toFixed(1) : ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return "n/a";
  return us < 10 ? `${us.toFixed(2)} µs` : us < 1000 ? `${us.toFixed(1)} µs` : `${(us / 1000).toFixed(2)} ms`;
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return x < 10 ? `${x.toFixed(2)}×` : `${x.toFixed(0)}×`;
}

export function fmtOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M/s`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k/s`;
  return `${ops.toFixed(0)} /s`;
}

/** `median (p25–p75)` in ns units, the spread showing how noisy the machine was. */
export function fmtSpread(s: Stats): string {
  return `${fmtNs(s.p25)} – ${fmtNs(s.p75)}`;
}

/** A Markdown table. Numbers align right; `textColumns` (indexes) align left, as does the first column. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns: readonly number[] = [],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const sep = `|${header.map((_, i) => (i === 0 || textColumns.includes(i) ? " --- " : " ---: ")).join("|")}|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}
