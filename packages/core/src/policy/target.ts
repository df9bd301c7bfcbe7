/**
 * Targets are chosen by a model, so they are normalised before matching:
 * file paths lose `.`/`..`/repeated slashes (so `/workspace/../etc/passwd`
 * is `/etc/passwd`), URLs are parsed (lower-case scheme and host, default port
 * dropped), and anything that cannot be normalised safely is refused.
 */

/** Targets longer than this are refused: no glob runs over megabytes of model output. */
export const MAX_TARGET_LENGTH = 8192;

/** `{ ok: true, target }` or `{ ok: false, problem }` in plain words. */
export type NormalizedTarget = { ok: true; target: string } | { ok: false; problem: string };

/** How an action's targets are normalised. */
export type TargetKind = "path" | "url" | "plain";

export function targetKind(action: string): TargetKind {
  if (action === "file_read" || action === "file_write") return "path";
  if (action === "network") return "url";
  return "plain";
}

// Anything that might need work: backslash, NUL, "//", "/." (dot segments), a trailing slash, a leading "./".
const PATH_NEEDS_WORK = /\\|\0|\/\/|\/\.|\/$|^\.{1,2}(?:\/|$)|%/;

/** Normalises a file path. Percent-escapes are refused: the OS never decodes them, tools might. */
export function normalizePath(raw: string): NormalizedTarget {
  if (raw === "") return { ok: false, problem: "the file path is empty" };
  if (!PATH_NEEDS_WORK.test(raw)) return { ok: true, target: raw };
  if (raw.includes("\0")) return { ok: false, problem: "the file path contains a NUL byte" };
  if (/%(?:2e|2f|5c|00)/i.test(raw)) {
    return { ok: false, problem: "the file path contains percent-encoded dots, slashes or NUL" };
  }
  const path = raw.replace(/\\/g, "/");
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      // ".." above "/" stays at "/", as the kernel does.
    } else out.push(seg);
  }
  const joined = out.join("/");
  return { ok: true, target: absolute ? `/${joined}` : joined === "" ? "." : joined };
}

/** Normalises a URL. User info and unparsable URLs are refused. */
export function normalizeUrl(raw: string): NormalizedTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: "the network target is not a valid absolute URL" };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, problem: "the URL carries user info (user@host), a classic way to disguise the real host" };
  }
  url.hash = "";
  return { ok: true, target: url.href };
}

/** Normalises `raw` for `action`. */
export function normalizeTarget(kind: TargetKind, raw: string): NormalizedTarget {
  if (raw.length > MAX_TARGET_LENGTH) {
    return { ok: false, problem: `the target is longer than ${MAX_TARGET_LENGTH} characters` };
  }
  if (kind === "path") return normalizePath(raw);
  if (kind === "url") return normalizeUrl(raw);
  return { ok: true, target: raw };
}
