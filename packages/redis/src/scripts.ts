// Lua scripts, registered once per client with `defineCommand` (EVALSHA, EVAL on
// NOSCRIPT). Each touches only keys of one hash slot, passed in KEYS, so they
// also run on Redis Cluster. Times are the gate's clock (ARGV), never Redis
// TIME: tests move time, and every worker then agrees on the same arithmetic
// as the in-memory store. Numbers that must stay exact travel as strings.

import type { RedisClient } from "./bounded.js";

/** Versioned names: another version of this package never runs our ARGV layout. */
export const CONSUME = "agentgateConsumeV6";
export const SETTLE = "agentgateSettleV2";
export const CREATE = "agentgateCreateV4";
export const PAGE = "agentgatePageV1";
export const INDEX = "agentgateIndexV1";
export const CLAIM = "agentgateClaimV1";
export const RATE = "agentgateRateV2";
export const ABANDON = "agentgateAbandonV2";

/**
 * Check-and-reserve, one round trip.
 * KEYS: 1 usage total (string), 2 sliding window (zset: member decisionId, score now), 3 call record (hash;
 *       only with a call: a check without one sends 2 keys and 9 arguments, the cost of a check being
 *       mostly per command and per argument; the third key is what says there is a call).
 * ARGV: 1 now, 2 windowMs, 3 maxPerMinute|-1, 4 denyAfter|-1, 5 escalateAfter|-1, 6 escalate 0|1,
 *       7 decisionId, 8 usage PX, 9 window PX; with a call: 10 escalationId, 11 fingerprint, 12 call
 *       expiresAt (gate clock), 13 call PX, 14 execute 0|1 (the caller runs the call on ALLOW: mark the
 *       call record executed when its effective outcome is allow; a repeat returns the old value),
 *       15 run expiresAt (gate clock), 16 run PX: an executed record lives until the later of its own and these.
 * The call record is read once (HGETALL): a new call costs no more reads, a repeat no HGET per field.
 * Returns `{ "repeat", field, value, ... }` for a known call, else `{ outcome, used, retryAfterMs|-1 }`.
 */
export const CONSUME_LUA = `
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local maxPm = tonumber(ARGV[3])
local denyAfter = tonumber(ARGV[4])
local escAfter = tonumber(ARGV[5])
local hasCall = #KEYS == 3
local known = false
if hasCall then
  local rec = redis.call('HGETALL', KEYS[3])
  known = #rec > 0
  local h = {}
  for i = 1, #rec, 2 do h[rec[i]] = rec[i + 1] end
  local exp = h['expiresAt']
  if exp and tonumber(exp) > now then
    if ARGV[14] == '1' and h['fingerprint'] == ARGV[11] and h['executed'] ~= '1' then
      local st = h['settledStatus']
      if st == 'approved' or ((not st) and h['outcome'] == 'allow') then
        redis.call('HSET', KEYS[3], 'executed', '1')
        if tonumber(ARGV[15]) > tonumber(exp) then redis.call('HSET', KEYS[3], 'expiresAt', ARGV[15]) end
        if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[16]) then redis.call('PEXPIRE', KEYS[3], ARGV[16]) end
      end
    end
    table.insert(rec, 1, 'repeat')
    return rec
  end
end
-- Uses are only counted for rules with a threshold (deny_after, escalate_after):
-- a rate-only rule needs just the window, three commands fewer per check.
local counts = denyAfter >= 0 or escAfter >= 0
local used = 0
if counts then used = tonumber(redis.call('GET', KEYS[1]) or '0') end
local outcome = 'allow'
local retry = -1
if denyAfter >= 0 and used >= denyAfter then
  outcome = 'deny_after'
elseif maxPm >= 0 then
  -- Entries that left the window are pruned only when they could matter: at the
  -- limit (then the count must be exact), and every 64th entry (bounds the set).
  -- Below the limit a count that still holds old entries admits exactly as the
  -- pruned one would, and the check saves a command.
  local n = redis.call('ZCARD', KEYS[2])
  if n >= maxPm or n % 64 == 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - windowMs)
    n = redis.call('ZCARD', KEYS[2])
  end
  if n >= maxPm then
    outcome = 'rate_limit'
    retry = windowMs
    local oldest = redis.call('ZRANGE', KEYS[2], n - maxPm, n - maxPm, 'WITHSCORES')
    if oldest[2] then retry = math.max(1, tonumber(oldest[2]) + windowMs - now) end
  end
end
if outcome == 'allow' and (ARGV[6] == '1' or (escAfter >= 0 and used >= escAfter)) then
  outcome = 'escalate'
end
if outcome == 'allow' or outcome == 'escalate' then
  if counts then
    redis.call('INCR', KEYS[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[8])
  end
  if maxPm >= 0 then
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[7])
    redis.call('PEXPIRE', KEYS[2], ARGV[9])
  end
end
if hasCall then
  -- A record past its gate-clock expiry that Redis still keeps: replaced whole.
  if known then redis.call('DEL', KEYS[3]) end
  local ran = ARGV[14] == '1' and outcome == 'allow'
  local exp = ARGV[12]
  local px = tonumber(ARGV[13])
  if ran then
    if tonumber(ARGV[15]) > tonumber(exp) then exp = ARGV[15] end
    px = math.max(px, tonumber(ARGV[16]))
  end
  local f = {'outcome', outcome, 'used', used, 'decisionId', ARGV[7], 'escalationId', ARGV[10],
    'at', ARGV[1], 'fingerprint', ARGV[11], 'expiresAt', exp}
  if retry >= 0 then
    table.insert(f, 'retryAfterMs')
    table.insert(f, retry)
  end
  if ran then
    table.insert(f, 'executed')
    table.insert(f, '1')
  end
  redis.call('HSET', KEYS[3], unpack(f))
  redis.call('PEXPIRE', KEYS[3], px)
end
return {outcome, used, retry}
`;

/**
 * `CONSUME_LUA` for the commonest check, a rate-only rule without a call id
 * (no threshold, no forced escalation): the same admission arithmetic on the
 * window alone, 1 key and 4 arguments instead of 2 and 9, no argument it does
 * not read, and an integer reply (Redis builds ARGV, Lua parses it, and both
 * ends encode and decode the reply for every check).
 * KEYS: 1 sliding window. ARGV: 1 now, 2 decisionId, 3 windowMs, 4 maxPerMinute.
 * Returns -1 when admitted, else the retry-after in ms (at least 1; Redis truncates it to an integer).
 */
export const RATE_LUA = `
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[3])
local maxPm = tonumber(ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
if n >= maxPm or n % 64 == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
  n = redis.call('ZCARD', KEYS[1])
end
if n >= maxPm then
  local retry = windowMs
  local oldest = redis.call('ZRANGE', KEYS[1], n - maxPm, n - maxPm, 'WITHSCORES')
  if oldest[2] then retry = math.max(1, tonumber(oldest[2]) + windowMs - now) end
  return retry
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(windowMs * 2)))
return -1
`;

/**
 * Claims the one run of a recorded call whose effective outcome is allow.
 * KEYS: 1 call record. ARGV: 1 now, 2 fingerprint, 3 run expiresAt (gate clock), 4 run PX.
 * Returns one of `claimed`, `replayed`, `mismatch`, `not_allowed`, `unknown`.
 */
export const CLAIM_LUA = `
local exp = redis.call('HGET', KEYS[1], 'expiresAt')
if not exp or tonumber(exp) <= tonumber(ARGV[1]) then return 'unknown' end
if redis.call('HGET', KEYS[1], 'fingerprint') ~= ARGV[2] then return 'mismatch' end
if redis.call('HGET', KEYS[1], 'executed') == '1' then return 'replayed' end
local st = redis.call('HGET', KEYS[1], 'settledStatus')
local allowed = (st == 'approved') or ((not st) and redis.call('HGET', KEYS[1], 'outcome') == 'allow')
if not allowed then return 'not_allowed' end
redis.call('HSET', KEYS[1], 'executed', '1')
if tonumber(ARGV[3]) > tonumber(exp) then redis.call('HSET', KEYS[1], 'expiresAt', ARGV[3]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 'claimed'
`;

/**
 * Stores a pending escalation record (hash) in its scope's slot and adds it to
 * the agent's pending index, unless the agent already has `cap` pending: then
 * it gives back the reservation, forgets the call record, leaves a `refused` marker in the
 * record's place and returns 0.
 * A record already there is never replaced: a pending one is this very write sent again (ioredis
 * re-sends unanswered commands after a reconnect) and returns 1 without counting against the cap;
 * a refused one is a refusal sent again and returns 0 without giving anything back twice (nor does
 * `ABANDON_LUA`, when the refusal's reply came too late); a settled one (or `ABANDON_LUA`'s
 * tombstone) returns 2, since its reservation may already be given back.
 * KEYS: 1 record, 2 agent pending index, 3 usage total, 4 window, 5 call record.
 * ARGV: 1 record JSON, 2 PX, 3 index member, 4 first unexpired member (expired ones are pruned),
 *       5 cap|-1, 6 has reservation 0|1, 7 reservation member, 8 has call 0|1.
 */
export const CREATE_LUA = `
local st = redis.call('HGET', KEYS[1], 'status')
if st == 'pending' then return 1 end
if st == 'refused' then return 0 end
if st then return 2 end
redis.call('ZREMRANGEBYLEX', KEYS[2], '-', '(' .. ARGV[4])
local cap = tonumber(ARGV[5])
if cap >= 0 and redis.call('ZCARD', KEYS[2]) >= cap then
  if ARGV[6] == '1' then
    local used = tonumber(redis.call('GET', KEYS[3]) or '0')
    if used > 0 then redis.call('DECR', KEYS[3]) end
    redis.call('ZREM', KEYS[4], ARGV[7])
  end
  if ARGV[8] == '1' then redis.call('DEL', KEYS[5]) end
  redis.call('HSET', KEYS[1], 'status', 'refused')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'record', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`;

/**
 * One page of an agent's pending escalations, in expiry order: O(log n + page).
 * Members whose record is gone or settled leave the index on the way.
 * KEYS: 1 agent pending index. ARGV: 1 ZRANGEBYLEX start, 2 limit, 3 record key prefix,
 * 4 first unexpired member. Returns the records' JSON.
 */
export const PAGE_LUA = `
redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[4])
local limit = tonumber(ARGV[2])
local out = {}
local min = ARGV[1]
local scanned = 0
while #out < limit and scanned < limit + 1000 do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, '+', 'LIMIT', 0, limit - #out)
  if #batch == 0 then break end
  for _, m in ipairs(batch) do
    scanned = scanned + 1
    local bar = string.find(m, '|', 1, true)
    local key = ARGV[3] .. string.sub(m, bar + 1)
    local rec = redis.call('HMGET', key, 'status', 'record')
    if rec[1] == 'pending' and rec[2] then
      out[#out + 1] = rec[2]
    else
      redis.call('ZREM', KEYS[1], m)
    end
    min = '(' .. m
  end
end
return out
`;

/**
 * Indexes an escalation in the shared escalation slot: a pointer from its id
 * to its keys, and the pending set (member: record key, score: expiresAt).
 * KEYS: 1 pointer, 2 pending index. ARGV: 1 pointer JSON, 2 record key, 3 expiresAt, 4 PX.
 */
export const INDEX_LUA = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1
`;

/**
 * Settles a pending escalation exactly once and, when asked, releases its
 * reservation; writes the settled decision on the call record too.
 * KEYS: 1 record, 2 usage total, 3 window, 4 call record.
 * ARGV: 1 status, 2 settled JSON, 3 release 0|1, 4 reservation member, 5 has reservation 0|1, 6 has call 0|1.
 * Returns `{ "unknown" }`, `{ "settled", status, record, settled }` or `{ "ok", status, record }`.
 */
export const SETTLE_LUA = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'unknown'} end
if st ~= 'pending' then
  return {'settled', st, redis.call('HGET', KEYS[1], 'record'), redis.call('HGET', KEYS[1], 'settled') or ''}
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'settled', ARGV[2])
if ARGV[3] == '1' and ARGV[5] == '1' then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used > 0 then redis.call('DECR', KEYS[2]) end
  redis.call('ZREM', KEYS[3], ARGV[4])
end
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HSET', KEYS[4], 'settled', ARGV[2], 'settledStatus', ARGV[1])
end
return {'ok', ARGV[1], redis.call('HGET', KEYS[1], 'record')}
`;

/**
 * An escalation whose write failed (`GateStore.abandonEscalation`): settles it as denied where it
 * was written (a record still pending), stores the DENY on its call record, and gives back the
 * reservation, once. With no record it leaves a tombstone in the record's place (status denied, no
 * record JSON, so reads still find nothing), living as long as the escalation would have: a re-run
 * of this script (ioredis re-sends unanswered commands after a reconnect) then changes nothing, and
 * a `CREATE_LUA` that lands late is refused rather than opening an escalation whose use was given back.
 * Nothing else changes when the record is settled, or, with no record, when the call record is gone,
 * settled or another escalation's.
 * KEYS: 1 record, 2 usage total, 3 window, 4 call record, 5 agent pending index.
 * ARGV: 1 settled JSON, 2 reservation member, 3 has reservation 0|1, 4 has call 0|1, 5 escalationId,
 *       6 index member, 7 tombstone PX.
 * Returns 1 when it settled, else 0.
 */
export const ABANDON_LUA = `
local st = redis.call('HGET', KEYS[1], 'status')
if st and st ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'denied', 'settled', ARGV[1])
if st then
  redis.call('ZREM', KEYS[5], ARGV[6])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
end
local call = ARGV[4] == '1' and redis.call('HGET', KEYS[4], 'escalationId') == ARGV[5]
if (not st) and ARGV[4] == '1' and (not call or redis.call('HEXISTS', KEYS[4], 'settled') == 1) then return 0 end
if call then redis.call('HSET', KEYS[4], 'settled', ARGV[1], 'settledStatus', 'denied') end
if ARGV[3] == '1' then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used > 0 then redis.call('DECR', KEYS[2]) end
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return 1
`;

/** Registers the scripts once per client (ioredis then runs them with EVALSHA). */
export function defineScripts(client: RedisClient): void {
  const c = client as unknown as Record<string, unknown>;
  const scripts: [string, string, number | undefined][] = [
    [CONSUME, CONSUME_LUA, undefined], // key count passed first: 2 without a call, 3 with one
    [CREATE, CREATE_LUA, 5],
    [PAGE, PAGE_LUA, 1],
    [INDEX, INDEX_LUA, 2],
    [SETTLE, SETTLE_LUA, 4],
    [CLAIM, CLAIM_LUA, 1],
    [RATE, RATE_LUA, 1],
    [ABANDON, ABANDON_LUA, 5],
  ];
  for (const [name, lua, numberOfKeys] of scripts) {
    if (typeof c[name] !== "function")
      client.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  }
}
