import { inject } from "vitest";

/** The shared test Redis (from global setup), or null: then Redis tests skip (never when required). */
export const redisUrl: string | null = inject("redisUrl");
export const redisServerBin: boolean = inject("redisServerBin");
export const builtEntry: string = inject("builtEntry");

/** A key prefix no other test run uses. */
export function testPrefix(name: string): string {
  return `agentgate-test:${name}:${globalThis.crypto.randomUUID().slice(0, 8)}:`;
}
