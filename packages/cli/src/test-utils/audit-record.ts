import { createHash } from "node:crypto";
import { canonicalJson } from "@agentgate/core/internal";

// What an attacker with write access (and no key) can compute: the record format is public.

/** A record's canonical body: everything but `hash` (and a checkpoint's `sig`). */
export function canonicalBody(record: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record;
  if (rest.type === "checkpoint") delete rest.sig;
  return canonicalJson(rest);
}

export function chainHash(prevHash: string, body: string): string {
  return createHash("sha256")
    .update(prevHash + body)
    .digest("hex");
}

export function recordLine(body: string, hash: string): string {
  return `${body.slice(0, -1)},"hash":"${hash}"}`;
}
