import { StoreUnavailableError, type Decision, type EscalationQuery, type EscalationRecord } from "@agentgate/core";
import type { BoundedClient, RedisClient } from "./bounded.js";
import { expiryDigits, indexMember, type KeySpace } from "./keys.js";
import { PAGE } from "./scripts.js";

/** What the listings need from a store. */
export interface Ctx {
  client: RedisClient;
  redis: BoundedClient;
  keys: KeySpace;
}

export type Script = (...args: (string | number)[]) => Promise<unknown>;

/** A script registered with `defineCommand`, bound to its client. */
export function script(client: RedisClient, name: string): Script {
  const fn = (client as unknown as Record<string, Script>)[name]!;
  return fn.bind(client);
}

export function unexpected(what: string, reply: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `Redis gave an unexpected reply to ${what}: ${JSON.stringify(reply)?.slice(0, 200)}`,
  );
}

export function decision(json: string): Decision {
  return Object.freeze(JSON.parse(json) as Decision);
}

export function toRecord(status: string, json: string, settled: string | null): EscalationRecord {
  const record = JSON.parse(json) as EscalationRecord;
  record.status = status as EscalationRecord["status"];
  if (settled) record.settled = decision(settled);
  else delete record.settled;
  return record;
}

/** Every agent's pending escalations, from the store-wide index (O(n)). */
export async function listAll({ client, redis, keys }: Ctx, now: number): Promise<EscalationRecord[]> {
  const index = keys.pending();
  const members = await redis.run("list escalations", () => client.zrangebyscore(index, `(${now}`, "+inf"));
  if (members.length === 0) return [];
  const rows = await redis.run("list escalations", () =>
    Promise.all(members.map((key) => client.hmget(key, "status", "record", "settled"))),
  );
  const out: EscalationRecord[] = [];
  const gone: string[] = [];
  rows.forEach(([status, json, settled], i) => {
    if (!status || !json) gone.push(members[i]!);
    else if (status === "pending") {
      const r = toRecord(status, json, settled ?? null);
      if (r.expiresAt > now) out.push(r);
    }
  });
  // Records that expired from Redis leave the list.
  if (gone.length > 0) await redis.run("update the pending list", () => client.zrem(index, ...gone)).catch(() => {});
  return out;
}

/** One agent's pending escalations from its own index: O(1) by call, O(log n + page) for a page. */
export async function listScoped(
  { client, redis, keys: k }: Ctx,
  now: number,
  query: EscalationQuery,
  scope: NonNullable<EscalationQuery["scope"]>,
  maxPage: number,
): Promise<EscalationRecord[]> {
  if (query.callKey !== undefined) {
    const call = k.call(scope, query.callKey);
    const id = await redis.run("find the call's escalation", () => client.hget(call, "escalationId"));
    if (!id) return [];
    const [status, json] = await redis.run("read the escalation", () =>
      client.hmget(`${k.recordPrefix(scope)}${encodeURIComponent(id)}`, "status", "record"),
    );
    if (status !== "pending" || !json) return [];
    const r = toRecord(status, json, null);
    return r.expiresAt > now && r.callKey === query.callKey ? [r] : [];
  }
  const first = expiryDigits(now + 1);
  const after = query.after;
  const start =
    after && indexMember(after.expiresAt, after.escalationId) >= first
      ? `(${indexMember(after.expiresAt, after.escalationId)}`
      : `[${first}`;
  const limit = Math.min(query.limit ?? maxPage, maxPage);
  const rows = await redis.run("list escalations", () =>
    script(client, PAGE)(k.agentPending(scope), start, limit, k.recordPrefix(scope), first),
  );
  if (!Array.isArray(rows)) throw unexpected("list escalations", rows);
  return (rows as string[]).map((json) => toRecord("pending", json, null));
}
