import { statSync } from "node:fs";
import lockfile from "proper-lockfile";

/** Paths of audit logs open for writing in this process. */
const openHere = new Set<string>();

/** How the lock is held: a lock not refreshed for this long is stale (its writer died). */
export interface LockOptions {
  /** Default 10 000 ms (minimum 2 000); the heartbeat refreshes the lock every `staleMs / 2`. */
  staleMs?: number;
  /** Called if the lock is lost (another process took it over after this one stalled): stop writing. */
  onCompromised: (error: Error) => void;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * One writer per audit log, across processes and containers that share the
 * file system: two writers would fork the hash chain. The lock is a directory
 * created atomically (`mkdir`) by proper-lockfile, whose mtime a heartbeat
 * refreshes; a lock not refreshed within `staleMs` belongs to a writer that
 * died and is taken over. Nothing depends on process ids, which another
 * container cannot see. Taking over a stale lock is itself done under a second
 * lock, so two writers that find the same stale lock cannot both remove it and
 * both win. Returns the release function; throws when the log is locked.
 */
export function lockFile(path: string, lockPath: string, options: LockOptions): () => void {
  if (openHere.has(path)) {
    throw new Error(
      `audit log ${path} is already open for writing in this process; share one JsonlAuditSink between gates`,
    );
  }
  const stale = Math.max(options.staleMs ?? 10_000, 2_000);
  try {
    if (statSync(lockPath).isFile()) {
      throw new Error(
        `audit log ${path} has a lock file ${lockPath} from an older AgentGate (a pid file); delete it once no writer of that version runs`,
      );
    }
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
  // The takeover guard: held only while acquiring, so whoever holds it is the only one judging staleness.
  let releaseGuard: () => void;
  try {
    releaseGuard = lockfile.lockSync(lockPath, {
      lockfilePath: `${lockPath}.acquire`,
      realpath: false,
      stale,
      onCompromised: () => {},
    });
  } catch (error) {
    if (errorCode(error) === "ELOCKED")
      throw new Error(
        `audit log ${path} is being opened by another process right now (${lockPath}.acquire); one writer per file`,
      );
    throw error;
  }
  let release: () => void;
  try {
    release = lockfile.lockSync(path, {
      lockfilePath: lockPath,
      realpath: false,
      stale,
      onCompromised: options.onCompromised,
    });
  } catch (error) {
    if (errorCode(error) === "ELOCKED") {
      throw new Error(
        `audit log ${path} is being written by another process (lock ${lockPath}, refreshed within the last ${stale} ms); one writer per file. ` +
          "It is taken over only once its writer stops refreshing it.",
      );
    }
    throw error;
  } finally {
    try {
      releaseGuard();
    } catch {
      // Already gone: nothing to release.
    }
  }
  openHere.add(path);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    openHere.delete(path);
    try {
      release();
    } catch {
      // Compromised or already removed: nothing to release.
    }
  };
}
