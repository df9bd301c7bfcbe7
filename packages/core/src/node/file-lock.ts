import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

/** Paths of audit logs open for writing in this process. */
const openHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One writer per audit log: two writers would fork the hash chain. A lock file
 * holds the writer's pid; a lock left by a process that died (a crash, a
 * SIGKILL) is taken over. Returns the release function.
 */
export function lockFile(path: string, lockPath: string): () => void {
  if (openHere.has(path)) {
    throw new Error(`audit log ${path} is already open for writing in this process; share one JsonlAuditSink between gates`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, "wx");
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    } catch {
      // Unreadable or vanished: treat as stale.
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new Error(
        `audit log ${path} is being written by process ${owner} (lock file ${lockPath}); one writer per file. ` +
          "Delete the lock file only if that process is not an AgentGate writer.",
      );
    }
    try {
      unlinkSync(lockPath);
    } catch {
      // Someone else removed it: retry the exclusive create.
    }
  }
  openHere.add(path);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    openHere.delete(path);
    try {
      if (Number.parseInt(readFileSync(lockPath, "utf8"), 10) === process.pid) unlinkSync(lockPath);
    } catch {
      // Already gone.
    }
  };
}
