import type { ConsumeRequest } from "@agentgate/core";
import { retentionPx, type KeySpace } from "./keys.js";

/**
 * A rate-only check (a `maxPerMinute` rule without a call id, threshold or forced
 * escalation), the commonest: it runs `RATE_LUA` with 1 key and 4 arguments.
 */
export function isRateOnly(req: ConsumeRequest): boolean {
  return (
    req.call === undefined &&
    req.maxPerMinute !== undefined &&
    req.denyAfter === undefined &&
    req.escalateAfter === undefined &&
    !req.escalate &&
    req.windowMs < 1e13 // the script computes the window's PX: Lua prints numbers below 1e14 as integers
  );
}

/**
 * `CONSUME_LUA`'s key count, KEYS and ARGV (see its layout in scripts.ts): a check
 * without a call id sends 2 keys and 9 arguments, one with a call 3 and 16.
 */
export function consumeArgs(k: KeySpace, req: ConsumeRequest, usagePx: number): (string | number)[] {
  const call = req.call;
  const args: (string | number)[] = call
    ? [3, k.used(req.scope), k.window(req.scope), k.call(req.scope, call.key)]
    : [2, k.used(req.scope), k.window(req.scope)];
  args.push(
    req.now,
    req.windowMs,
    req.maxPerMinute ?? -1,
    req.denyAfter ?? -1,
    req.escalateAfter ?? -1,
    req.escalate ? 1 : 0,
    req.decisionId,
    usagePx,
    Math.max(1, Math.ceil(req.windowMs * 2)),
  );
  if (call) {
    const runTtl = call.runTtlMs ?? call.ttlMs;
    args.push(
      req.escalationId,
      call.fingerprint,
      req.now + call.ttlMs,
      retentionPx(call.ttlMs),
      call.execute ? 1 : 0,
      req.now + runTtl,
      retentionPx(runTtl),
    );
  }
  return args;
}
