import { StoreUnavailableError, type Grant, type GrantMatch } from "@agentgate/core";
import type { BoundedClient, RedisClient } from "./bounded.js";

/**
 * Grants live in one hash, `<prefix>{grants}:all` (grant id -> JSON), so
 * spending a use is one atomic script and every process sees the same grants.
 * Expired grants are dropped as scripts meet them; the key expires after the
 * last grant does. Grants are few (a human makes each), so a scan is cheap.
 */
export const USE_GRANT = "agentgateUseGrant";
export const USE_GRANT_LUA = `
local all = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[1])
for i = 1, #all, 2 do
  local g = cjson.decode(all[i + 1])
  if tonumber(g.expiresAt) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif g.agentId == ARGV[2] and g.action == ARGV[3] and g.target == ARGV[4] and (g.tool == '' or g.tool == ARGV[5]) then
    if g.usesLeft ~= nil and g.usesLeft ~= cjson.null then
      local left = tonumber(g.usesLeft) - 1
      if left <= 0 then
        redis.call('HDEL', KEYS[1], all[i])
      else
        g.usesLeft = left
        redis.call('HSET', KEYS[1], all[i], cjson.encode(g))
      end
    end
    return all[i + 1]
  end
end
return false
`;

export const CREATE_GRANT = "agentgateCreateGrant";
export const CREATE_GRANT_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[3])
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1
`;

export const REVOKE_GRANT = "agentgateRevokeGrant";
export const REVOKE_GRANT_LUA = `
local g = redis.call('HGET', KEYS[1], ARGV[1])
if not g then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return g
`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** The grant half of `RedisStore` (see `GrantStore` in `@agentgate/core`). */
export class RedisGrants {
  readonly #client: RedisClient;
  readonly #redis: BoundedClient;
  readonly #key: string;

  constructor(client: RedisClient, redis: BoundedClient, prefix: string) {
    this.#client = client;
    this.#redis = redis;
    this.#key = `${prefix}{grants}:all`;
    const c = client as unknown as Record<string, unknown>;
    for (const [name, lua] of [
      [USE_GRANT, USE_GRANT_LUA],
      [CREATE_GRANT, CREATE_GRANT_LUA],
      [REVOKE_GRANT, REVOKE_GRANT_LUA],
    ] as const) {
      if (typeof c[name] !== "function") client.defineCommand(name, { lua, numberOfKeys: 1 });
    }
  }

  #script(name: string): Script {
    return (this.#client as unknown as Record<string, Script>)[name]!.bind(this.#client);
  }

  async createGrant(grant: Grant): Promise<void> {
    const ttl = Math.max(1, Math.ceil(grant.expiresAt - Date.now()) + 60_000);
    await this.#redis.run("record the grant", () =>
      this.#script(CREATE_GRANT)(this.#key, grant.id, JSON.stringify(grant), ttl),
    );
  }

  async useGrant(match: GrantMatch, now: number): Promise<Grant | undefined> {
    const reply = await this.#redis.run("check grants", () =>
      this.#script(USE_GRANT)(this.#key, now, match.agentId, match.action, match.target, match.tool),
    );
    return reply ? parse(reply) : undefined;
  }

  async listGrants(now: number): Promise<Grant[]> {
    const all = await this.#redis.run("list grants", () => this.#client.hgetall(this.#key));
    return Object.values(all)
      .map(parse)
      .filter((g) => g.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt);
  }

  async revokeGrant(id: string): Promise<Grant | undefined> {
    const reply = await this.#redis.run("revoke the grant", () => this.#script(REVOKE_GRANT)(this.#key, id));
    return reply ? parse(reply) : undefined;
  }
}

function parse(json: unknown): Grant {
  try {
    const g = JSON.parse(String(json)) as Grant;
    if (typeof g.id !== "string" || typeof g.expiresAt !== "number") throw new Error("not a grant");
    return g;
  } catch (error) {
    throw new StoreUnavailableError("Redis holds a malformed grant", { cause: error });
  }
}
