import { readFile } from "node:fs/promises";
import { AgentIdentity, type JsonWebKey } from "../identity/agent-identity.js";
import {
  checkpointMessage,
  GENESIS_HASH,
  parseRecordLine,
  toPublicJwk,
  type CheckpointRecord,
  type ParsedRecordLine,
} from "./audit-record.js";
import { parseHeadFile } from "./head-file.js";
import { ChainHash } from "./audit-chain.js";
import { readLineBatches } from "./line-reader.js";

const NEWLINE = Buffer.from("\n");

/** The reader's current buffer, as bytes (the lines of one read share it). */
let whole: Uint8Array = new Uint8Array(0);

/** The line's bytes and its `\n`: a view one byte longer when the reader's buffer holds it next (no copy). */
function withNewline(bytes: Buffer): Uint8Array {
  if (whole.buffer !== bytes.buffer) whole = new Uint8Array(bytes.buffer);
  const end = bytes.byteOffset + bytes.length;
  if (end < whole.length && whole[end] === 0x0a) return whole.subarray(bytes.byteOffset, end + 1);
  return Buffer.concat([bytes, NEWLINE]);
}

export interface VerifyAuditLogOptions {
  /**
   * The Ed25519 public key you trust for the log's checkpoints (a public JWK, its
   * JSON text, or a public identity `{ publicKeyJwk }`). Without it, signatures
   * are checked against the key written in the log itself, which proves
   * consistency but not who signed.
   */
  publicKey?: JsonWebKey | string | { publicKeyJwk: JsonWebKey };
  /** The head file to compare with (default `<path>.head`), or `false` to skip the truncation check. */
  head?: string | false;
  /**
   * Accept records no signature covers: the tail after the last checkpoint (a
   * log still being written, between group commits) and ranges a writer
   * declared unproven after a crash. Default false: with a trusted key, such
   * records fail verification, since anyone with write access can forge them.
   * Either way `unsigned` says how many there are.
   */
  allowUnsignedTail?: boolean;
}

/** The verdict on one audit log. */
export interface AuditLogVerification {
  /** True when nothing shows tampering. */
  ok: boolean;
  /** Records that verified, in order (decisions, checkpoints, seals, recoveries). */
  records: number;
  /** Decision records among them. */
  decisions: number;
  /** Signed checkpoints that verified. */
  checkpoints: number;
  /** 1-based line where the log first goes wrong (for truncation: the first missing line). */
  firstBadLine?: number;
  /** What is wrong, in words. */
  problem?: string;
  /** The last verified checkpoint. `line` is absent when it is only in the head file (the writer stopped before appending it). */
  lastCheckpoint?: { seq: number; at: string; line?: number };
  /** Which key the signatures were checked against: the one you passed, or the one in the log. */
  signatures: "trusted-key" | "embedded-key" | "none";
  /** True when a head file was compared with the log (truncation before the last checkpoint is then detected). */
  headChecked: boolean;
  /** Recovery records: torn lines from crashes that a reopen cut off and recorded. */
  recoveries: number;
  /** An incomplete last line that is not a record (a crash, or a writer still running). Not tampering by itself; a complete record without its newline is checked like any other. */
  tornTail?: { line: number; bytes: number };
  /**
   * Records that chain correctly but that no signature proves: after the last
   * signed checkpoint, or in a range a writer declared unproven after a crash.
   * With a trusted key they fail verification unless `allowUnsignedTail` is set.
   */
  unsigned: number;
  /** Decisions a writer could not record (its buffer was full) and said so in a recovery record. */
  dropped: number;
}

/**
 * Verifies an audit log written by `JsonlAuditSink`: an unbroken `seq`, every
 * chain point's hash over the lines it closes (format v2; in v1, every record's
 * hash and canonical form), every checkpoint's Ed25519 signature, and the head
 * file (the latest signed checkpoint) against the log's end. Catches modification, insertion, deletion, reordering,
 * re-chaining without the signing key, and truncation to before the last
 * checkpoint. With a trusted key, a record no signature covers (after the last
 * checkpoint, or declared unproven after a crash) fails verification unless
 * `allowUnsignedTail` accepts it; `unsigned` counts them. Reads the file as a
 * stream. Rejects only when the file cannot be read.
 */
export async function verifyAuditLog(path: string, options: VerifyAuditLogOptions = {}): Promise<AuditLogVerification> {
  const trusted = options.publicKey === undefined ? undefined : toPublicJwk(options.publicKey);
  const result: AuditLogVerification = {
    ok: true,
    records: 0,
    decisions: 0,
    checkpoints: 0,
    signatures: trusted ? "trusted-key" : "none",
    headChecked: false,
    recoveries: 0,
    unsigned: 0,
    dropped: 0,
  };
  const fail = (line: number | undefined, problem: string): AuditLogVerification => {
    result.ok = false;
    if (line !== undefined) result.firstBadLine = line;
    result.problem = problem;
    return result;
  };

  let logKey: JsonWebKey | undefined = trusted;
  const checkSignature = async (r: CheckpointRecord, where: string): Promise<string | undefined> => {
    if (trusted) {
      if (r.key.x !== trusted.x) return `${where} is signed by a different key than the trusted public key`;
    } else {
      logKey ??= r.key;
      if (r.key.x !== logKey.x)
        return `${where} names a different key than the log's first checkpoint (re-signed by someone else?)`;
      result.signatures = "embedded-key";
    }
    if (!(await AgentIdentity.verifyWithPublicKey(logKey!, checkpointMessage(r.hash), r.sig))) {
      return `${where}'s signature does not verify: records before it were changed and re-chained, or it was forged`;
    }
    return undefined;
  };

  let expectSeq = 0;
  let prevHash = GENESIS_HASH;
  let lines = 0;
  const checkpointHashes = new Map<number, string>();
  /** Seq of the last checkpoint whose signature verified (-1: none yet). */
  let covered = -1;
  /** The first range of records no signature proves, and where it was declared. */
  let firstUnsigned: { from: number; to: number; declaredAt?: number } | undefined;
  /** v2: the running hash over the records since the last chain point, and the line of the first of them. */
  let chain: ChainHash | undefined;
  let groupLine = 0;
  let sawV2 = false;
  read: for await (const batch of readLineBatches(path)) {
    for (const raw of batch) {
      lines = raw.line;
      const n = raw.line;
      const parsed = parseRecordLine(raw.bytes.toString("utf8"));
      const bad = lineProblem(parsed, n, expectSeq, prevHash, sawV2, chain, groupLine);
      if (bad !== undefined) {
        // Only a last line that is not a record can be a torn write: a complete one that does not chain was tampered with.
        if (!raw.terminated && parsed.problem !== undefined) {
          result.tornTail = { line: n, bytes: raw.bytes.length };
          break read;
        }
        return fail(bad[0], bad[1]);
      }
      const { record: r, version } = parsed as Extract<ParsedRecordLine, { version: number }>;
      if (version === 2) {
        sawV2 = true;
        if (r.hash !== undefined) chain = undefined;
        else {
          if (chain === undefined) {
            chain = new ChainHash(prevHash);
            groupLine = n;
          }
          chain.update(withNewline(raw.bytes));
        }
      }
      if (r.type === "checkpoint") {
        const bad = await checkSignature(r, `checkpoint at line ${n}`);
        if (bad) return fail(n, bad);
        result.checkpoints++;
        result.lastCheckpoint = { seq: r.seq, at: r.at, line: n };
        checkpointHashes.set(r.seq, r.hash);
        covered = r.seq;
      } else if (r.type === "decision") result.decisions++;
      else if (r.type === "recovery") {
        result.recoveries++;
        if (r.dropped !== undefined) result.dropped += r.dropped;
        if (r.unsigned !== undefined) {
          // A writer reopening after a crash found records after the last checkpoint: it declares them, it does not vouch for them.
          if (r.unsigned.from !== covered + 1 || r.unsigned.to !== r.seq - 1) {
            return fail(
              n,
              `line ${n} declares records seq ${r.unsigned.from}..${r.unsigned.to} unsigned, but seq ${covered + 1}..${r.seq - 1} follow the last signed checkpoint`,
            );
          }
          result.unsigned += r.unsigned.to - r.unsigned.from + 1;
          firstUnsigned ??= { from: r.unsigned.from, to: r.unsigned.to, declaredAt: n };
          covered = r.seq - 1;
        }
      }
      result.records++;
      if (r.hash !== undefined) prevHash = r.hash;
      expectSeq++;
    }
  }
  const lastSeq = expectSeq - 1;
  const endLine = lastSeq + 2;

  if (options.head !== false) {
    const headPath = options.head ?? `${path}.head`;
    let text: string | undefined;
    try {
      text = await readFile(headPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    // A head file may hold only its writer's setting (no checkpoint yet): as good as none for this check.
    const file = text === undefined ? undefined : parseHeadFile(text);
    const headLine = file === undefined ? undefined : "problem" in file ? text : file.line;
    if (headLine === undefined) {
      if (result.checkpoints > 0) {
        return fail(
          undefined,
          `the log has signed checkpoints but its head file ${headPath} ${text === undefined ? "is missing" : "names none"}: truncation cannot be ruled out (pass head: false to skip this check)`,
        );
      }
    } else {
      result.headChecked = true;
      const parsed = parseRecordLine(headLine);
      // A v1 head checks itself; a v2 head's hash covers records in the log, checked below.
      const valid =
        parsed.problem === undefined &&
        parsed.record.type === "checkpoint" &&
        (parsed.version === 1 ? parsed.hashOk && parsed.canonical : parsed.body !== undefined);
      if (!valid) {
        return fail(undefined, `head file ${headPath} is not a valid checkpoint (${parsed.problem ?? "modified"})`);
      }
      const head = parsed.record as CheckpointRecord;
      const body = parsed.version === 2 ? parsed.body! : undefined;
      const bad = await checkSignature(head, "the head file's checkpoint");
      if (bad) return fail(undefined, bad);
      if (head.seq <= lastSeq) {
        if (checkpointHashes.get(head.seq) !== head.hash) {
          return fail(
            head.seq + 1,
            `the head file names checkpoint seq ${head.seq}, which line ${head.seq + 1} is not: the log was rewritten`,
          );
        }
      } else if (
        head.seq === lastSeq + 1 &&
        head.prevHash === prevHash &&
        (body === undefined || (chain ?? new ChainHash(prevHash)).peek(body) === head.hash)
      ) {
        // The writer stopped after the head and before appending this checkpoint; nothing is missing.
        result.checkpoints++;
        result.lastCheckpoint = { seq: head.seq, at: head.at };
        covered = head.seq;
      } else {
        return fail(
          result.tornTail?.line ?? endLine,
          `the log was truncated: it ends at seq ${lastSeq} (line ${lines}) but its signed head names checkpoint seq ${head.seq}`,
        );
      }
    }
  }
  if (trusted && result.checkpoints === 0 && result.records > 0) {
    return fail(
      undefined,
      "no checkpoint signed by the trusted key: the log is unsigned, or was cut before its first checkpoint and its head removed",
    );
  }
  if (lastSeq > covered) {
    result.unsigned += lastSeq - covered;
    firstUnsigned ??= { from: covered + 1, to: lastSeq };
  }
  if (trusted && firstUnsigned !== undefined && !options.allowUnsignedTail) {
    const { from, to, declaredAt } = firstUnsigned;
    const range =
      from === to
        ? `record seq ${from} (line ${from + 1})`
        : `records seq ${from}..${to} (lines ${from + 1}..${to + 1})`;
    const why =
      declaredAt !== undefined
        ? `${range} were written before a crash and never signed (declared at line ${declaredAt}): ${from === to ? "it is" : "they are"} not covered by any signature and could have been altered`
        : `${range} after the last signed checkpoint${covered >= 0 ? ` (seq ${covered})` : ""} ${from === to ? "is" : "are"} not covered by any signature: anyone with write access could have forged ${from === to ? "it" : "them"}`;
    return fail(
      from + 1,
      `${why} (${result.unsigned} unsigned record${result.unsigned === 1 ? "" : "s"} in all; pass allowUnsignedTail to accept a live log's unsigned tail)`,
    );
  }
  return result;
}

/** Why line `n` breaks the chain, as `[firstBadLine, problem]`, or `undefined`. */
function lineProblem(
  parsed: ParsedRecordLine,
  n: number,
  expectSeq: number,
  prevHash: string,
  sawV2: boolean,
  chain: ChainHash | undefined,
  groupLine: number,
): [number, string] | undefined {
  if (parsed.problem !== undefined) return [n, `line ${n} ${parsed.problem}`];
  const r = parsed.record;
  if (r.seq !== expectSeq) {
    if (r.seq > expectSeq) {
      const missing =
        r.seq - expectSeq > 1 ? `records seq ${expectSeq}..${r.seq - 1} are` : `record seq ${expectSeq} is`;
      return [n, `${missing} missing before line ${n} (deleted or moved)`];
    }
    return [n, `line ${n} has seq ${r.seq} after seq ${expectSeq - 1}: a record was inserted, duplicated or moved`];
  }
  if (parsed.version === 1) {
    if (sawV2) return [n, `line ${n} is a v1 record after v2 records: the log was spliced`];
    if (r.prevHash !== prevHash)
      return [n, `line ${n} does not chain to the record before it: a record was inserted, modified or replaced`];
    if (!parsed.hashOk) return [n, `line ${n} was modified: its hash does not match its content`];
    if (!parsed.canonical)
      return [n, `line ${n} was edited: the content matches its hash but not the writer's exact form`];
    return undefined;
  }
  if (r.hash === undefined) return undefined;
  if (r.prevHash !== prevHash)
    return [n, `line ${n} does not chain to the ${r.type} before it: a line was inserted, modified or replaced`];
  if (parsed.body === undefined) return [n, `line ${n} was edited: its hash is not where the writer puts it`];
  if ((chain ?? new ChainHash(prevHash)).peek(parsed.body) !== r.hash) {
    return chain === undefined
      ? [n, `line ${n} was modified: its hash does not match its content`]
      : [
          groupLine,
          `a line among lines ${groupLine}..${n} was modified, inserted or moved: the hash of the ${r.type} at line ${n} does not match them`,
        ];
  }
  return undefined;
}
