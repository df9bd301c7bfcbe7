/**
 * Targets are chosen by a model, so they are normalised before matching:
 * file paths lose `.`/`..`/repeated slashes (so `/workspace/../etc/passwd`
 * is `/etc/passwd`), URLs are parsed (lower-case scheme and host, default port
 * dropped), and anything that cannot be normalised safely is refused: when two
 * reasonable readings of a target disagree (a backslash on Windows and on
 * POSIX, a URL in WHATWG and in curl), the gate refuses instead of guessing.
 *
 * Normalisation is lexical: it never touches the file system, so it cannot see
 * symlinks, hard links, bind mounts or `/proc/self/root`. See SECURITY.md.
 */

import { canonicalUrlPath } from "./url-path.js";

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

/**
 * True when a path might need work: a backslash, NUL, wildcard or "%", "//", "/." (dot
 * segments), a trailing slash, a leading "./" or "../" (or "." / ".." alone), a drive
 * letter ("C:"), non-ASCII. Exactly `/[\\\0*?%]|\/\/|\/\.|\/$|^\.{1,2}(?:\/|$)|^[A-Za-z]:|[^\x00-\x7f]/`
 * (a differential test holds it to that), written as one pass over the characters: the
 * unanchored alternation ran every branch at every position and was a third of `check`.
 */
export function pathNeedsWork(s: string): boolean {
  const n = s.length;
  const c0 = s.charCodeAt(0);
  if (c0 === DOT) {
    if (n === 1 || s.charCodeAt(1) === SLASH) return true;
    if (s.charCodeAt(1) === DOT && (n === 2 || s.charCodeAt(2) === SLASH)) return true;
  }
  const lower = c0 | 0x20; // ASCII letters only: A-Z and a-z are the only codes landing in a-z
  if (lower >= 0x61 && lower <= 0x7a && s.charCodeAt(1) === 0x3a) return true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === SLASH) {
      if (i + 1 === n) return true;
      const d = s.charCodeAt(i + 1);
      if (d === SLASH || d === DOT) return true;
    } else if (c > 0x7f || c === 0x5c || c === 0 || c === 0x2a || c === 0x3f || c === 0x25) return true;
  }
  return false;
}
const SLASH = 0x2f;
const DOT = 0x2e;
// A drive root, or a UNC root: "//server" is a network share on Windows, so it is read that way
// (on POSIX it would be "/server"; reading it as UNC keeps it away from "/server/**" patterns).
const WINDOWS_ROOT = /^(?:[A-Za-z]:[\\/]|[\\/]{2}(?=[^\\/]))/;

const refuse = (problem: string): NormalizedTarget => ({ ok: false, problem });

/**
 * Normalises a file path (POSIX semantics, `/` separators).
 * Refused, because a tool could read them as another file than the gate did:
 * NUL bytes; percent-escapes (`%2e%2e`: the OS never decodes them, tools might);
 * the wildcards `*` and `?` (a shell or glob-aware tool expands them);
 * names not in Unicode NFC (macOS treats NFC and NFD as one file);
 * backslashes, except in Windows paths (`C:\dir\file`, `\\server\share`), since
 * POSIX reads a backslash as part of a name and Windows as a separator;
 * drive-relative names (`C:x`); and,
 * in Windows paths, `.`/`..` segments, `:` streams and names ending in a dot or
 * space (Windows strips those).
 */
export function normalizePath(raw: string): NormalizedTarget {
  if (raw === "") return refuse("the file path is empty");
  if (!pathNeedsWork(raw)) return { ok: true, target: raw };
  if (raw.includes("\0")) return refuse("the file path contains a NUL byte");
  if (/%[0-9a-f]{2}/i.test(raw)) {
    return refuse("the file path contains a percent-escape (%XX); the file system never decodes it but a tool might");
  }
  if (/[*?]/.test(raw))
    return refuse("the file path contains a wildcard (* or ?) that a shell or tool could expand to other files");
  if (/[^\x00-\x7f]/.test(raw) && raw.normalize("NFC") !== raw) {
    return refuse("the file path is not in Unicode NFC form (macOS treats NFC and NFD spellings as the same file)");
  }
  const windows = WINDOWS_ROOT.exec(raw);
  if (windows) return normalizeWindowsPath(raw, windows[0]);
  if (raw.includes("\\")) {
    return refuse(
      "the file path contains a backslash: a separator on Windows but part of a file name on POSIX, so it is ambiguous",
    );
  }
  const absolute = raw.startsWith("/");
  const out: string[] = [];
  for (const seg of raw.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      // ".." above "/" stays at "/", as the kernel does.
    } else out.push(seg);
  }
  const joined = out.join("/");
  if (!absolute && /^[A-Za-z]:/.test(joined)) {
    return refuse("the relative path starts with a drive-like name (C:...), which Windows reads as a drive");
  }
  return { ok: true, target: absolute ? `/${joined}` : joined === "" ? "." : joined };
}

/** `C:\a\b` becomes `C:/a/b`; `\\server\share\x` and `//server/share/x` become `//server/share/x`. */
function normalizeWindowsPath(raw: string, root: string): NormalizedTarget {
  const unc = root.length === 2;
  const rest = raw
    .slice(root.length)
    .split(/[\\/]+/)
    .filter((s) => s !== "");
  for (const seg of rest) {
    if (seg === "." || seg === "..") {
      return refuse("the Windows path contains . or .. segments, which Windows and POSIX resolve differently");
    }
    if (seg.includes(":")) return refuse("the Windows path contains ':' after the drive (an alternate data stream)");
    if (/[. ]$/.test(seg))
      return refuse("a Windows path segment ends with a dot or space, which Windows silently strips");
  }
  const head = unc ? "//" : `${root[0]}:/`;
  return { ok: true, target: head + rest.join("/") };
}

/** Schemes that are not network requests at all. */
const LOCAL_SCHEMES = new Set([
  "file:",
  "javascript:",
  "vbscript:",
  "data:",
  "blob:",
  "about:",
  "filesystem:",
  "view-source:",
]);
/** Schemes the WHATWG URL standard parses with full host rules. */
const SPECIAL_SCHEMES = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);
// Controls, whitespace and invisible format characters (soft hyphen, zero-width, bidi): parsers drop or keep them differently.
const URL_INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/u;
const IPV4_MAPPED = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/;

// Already-canonical web URLs (most targets) skip the WHATWG parser: a lower-case scheme, a
// lower-case ASCII domain whose last label is not a number (so no IPv4 forms) and has no
// punycode, a non-default port, a path of plain characters without dot or empty segments,
// and a query WHATWG keeps as written.
const CANONICAL_WEB =
  /^(https?|wss?):\/\/((?:[a-z0-9-]+\.)*([a-z0-9-]*[a-z-][a-z0-9-]*))(?::([1-9][0-9]{0,4}))?((?:\/[\w\-.~!$&'()*+,=:@]+)*\/?)(?:\?[\w\-.~!$&()*+,=:@/?%;]*)?$/;

function isCanonicalWebUrl(raw: string): boolean {
  const m = CANONICAL_WEB.exec(raw);
  if (m === null) return false;
  const [, scheme, host, last, port, path] = m;
  if (path === "" || DOT_SEGMENT.test(path!) || host!.includes("xn--") || /^0x[0-9a-f]*$/.test(last!)) return false;
  const defaultPort = scheme === "https" || scheme === "wss" ? "443" : "80";
  if (port !== undefined && (Number(port) > 65535 || port === defaultPort)) return false;
  return true;
}
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * Normalises a URL with the WHATWG parser (what `fetch` uses), then closes the
 * gaps where other clients (curl, older libraries) would reach another host:
 * user info, backslashes, whitespace and invisible characters, and URLs
 * without `//` are refused; hosts are lower-cased and canonicalised for every
 * scheme (IDN to punycode, `2130706433` to `127.0.0.1`, `[::ffff:7f00:1]` to
 * `127.0.0.1`, a trailing dot dropped); `file:`, `javascript:`, `data:` and
 * other local schemes are refused. The path is compared as servers read it
 * (see `canonicalUrlPath`: `%61dmin` is `admin`; `%2F`, `//`, `;`, `%2e%2e`
 * are refused), and every scheme gets at least `/` as its path, so the
 * authority always ends at the first `/`. The fragment is dropped: it never
 * leaves the client.
 */
export function normalizeUrl(raw: string): NormalizedTarget {
  if (isCanonicalWebUrl(raw)) return { ok: true, target: raw };
  if (URL_INVISIBLE.test(raw)) {
    return refuse("the URL contains whitespace, control or invisible characters, which URL parsers treat differently");
  }
  if (raw.includes("\\"))
    return refuse("the URL contains a backslash, which some URL parsers read as '/' and others as part of the host");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("the network target is not a valid absolute URL");
  }
  if (LOCAL_SCHEMES.has(url.protocol)) return refuse(`the URL scheme ${url.protocol} is not a network request`);
  // Exactly "//" then the authority: WHATWG skips extra slashes ("https:////host"), RFC 3986 readers see an empty host.
  if (!scheme || raw.slice(scheme[0].length, scheme[0].length + 2) !== "//" || raw[scheme[0].length + 2] === "/") {
    return refuse("the network target must be an absolute URL with a host (scheme://host/...)");
  }
  // Any "@" in the authority as written, even an empty "https://@host": some clients split it differently.
  const authority = /^[^:]*:\/\/([^/?#]*)/.exec(raw)?.[1] ?? "";
  if (url.username !== "" || url.password !== "" || authority.includes("@")) {
    return refuse("the URL carries user info (user@host), a classic way to disguise the real host");
  }
  let host = url.hostname;
  if (host === "") return refuse("the URL has no host");
  if (!SPECIAL_SCHEMES.has(url.protocol)) {
    // Non-special schemes (redis:, postgres:) keep the host as written; give it the same canonical form.
    if (host.includes("%")) return refuse("the URL host contains percent-escapes");
    try {
      host = new URL(`http://${host}/`).hostname;
    } catch {
      return refuse("the URL host is not a valid host name or IP address");
    }
  }
  const mapped = IPV4_MAPPED.exec(host);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    host = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  if (!host.startsWith("[")) {
    // "evil.test." is the same DNS name as "evil.test"; an empty label ("a..b", "x..") is no name at all.
    host = host.endsWith(".") ? host.slice(0, -1) : host;
    if (host === "" || host.startsWith(".") || host.includes("..") || host.endsWith(".")) {
      return refuse("the URL host has an empty label (a leading dot or two dots in a row)");
    }
  }
  if (host !== url.hostname) {
    url.hostname = host;
    if (url.hostname !== host) return refuse("the URL host cannot be normalised");
  }
  // The path as written (WHATWG has already resolved "%2e%2e" in url.pathname), read as servers read it.
  const rest = raw.slice(scheme[0].length + 2);
  const pathStart = rest.search(/[/?#]/);
  const afterAuthority = pathStart < 0 ? "" : rest.slice(pathStart);
  const pathEnd = afterAuthority.search(/[?#]/);
  const path = canonicalUrlPath(pathEnd < 0 ? afterAuthority : afterAuthority.slice(0, pathEnd));
  if (!path.ok) return refuse(path.problem);
  url.hash = "";
  const href = url.href;
  const query = href.indexOf("?");
  // Every scheme gets a path, so the authority always ends at the first "/" and a host wildcard cannot reach the query.
  return { ok: true, target: `${url.protocol}//${url.host}${path.path}${query < 0 ? "" : href.slice(query)}` };
}

/**
 * Normalises `raw` for `action`. A target longer than `MAX_TARGET_LENGTH` is refused, before
 * normalising and after: percent-encoding can make a URL six times longer (`é` is `%C3%A9`),
 * and no glob, policy memo or decision gets a target over the limit.
 */
export function normalizeTarget(kind: TargetKind, raw: string): NormalizedTarget {
  if (raw.length > MAX_TARGET_LENGTH) return tooLong("");
  if (kind === "plain") return { ok: true, target: raw };
  const n = kind === "path" ? normalizePath(raw) : normalizeUrl(raw);
  return n.ok && n.target.length > MAX_TARGET_LENGTH ? tooLong(" once normalised") : n;
}

function tooLong(when: string): NormalizedTarget {
  return { ok: false, problem: `the target is longer than ${MAX_TARGET_LENGTH} characters${when}` };
}
