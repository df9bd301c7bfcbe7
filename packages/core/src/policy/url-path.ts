/**
 * URL paths compared as servers read them (RFC 3986 section 6): escapes of
 * characters a server decodes to the same name are decoded, the rest are
 * upper-cased, non-ASCII is written as upper-case UTF-8 escapes, and literal
 * `.`/`..` segments are resolved. What two common servers route differently
 * is refused (the list follows Spring Security's StrictHttpFirewall): an
 * encoded `/` or `\`, an encoded `.` segment, empty segments (`//`), `;` path
 * parameters, `%25` before two hex digits (double encoding), malformed
 * escapes (`%u0061`), control characters and invalid or overlong UTF-8.
 */

/** `{ ok: true, path }` (canonical, starts with `/`) or `{ ok: false, problem }`. */
export type UrlPathResult = { ok: true; path: string } | { ok: false; problem: string };

const HEX = "0123456789ABCDEF";
const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const hexVal = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87);

// How each ASCII character is written in a canonical path, whether it came literal or escaped.
const LIT = 0; // written as itself
const ESC = 1; // written as %XX: decoding it would change the URL's structure, or WHATWG encodes it
const BAD = 2; // refused
const ASCII = new Uint8Array(128);
for (let c = 0; c < 32; c++) ASCII[c] = BAD;
ASCII[127] = BAD;
for (const c of ' "#<>?`{}%') ASCII[c.charCodeAt(0)] = ESC;
for (const c of ";\\/") ASCII[c.charCodeAt(0)] = BAD; // "/" here means an escaped one

// Already canonical: unreserved and sub-delims only, no empty, "." or ".." segments.
const SIMPLE = /^(?:\/[\w\-.~!$&'()*+,=:@]+)*\/?$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function whyBad(c: number, escaped: boolean): string {
  if (c === 0x2f) return "an encoded '/' (%2F), which some servers decode into a separator and others do not";
  if (c === 0x5c) return "an encoded '\\' (%5C), which Windows servers read as a separator";
  if (c === 0x3b) return "a ';' path parameter, which Tomcat, Jetty and Spring strip before routing and others keep";
  return `a control character${escaped ? " (encoded)" : ""}, which servers reject, strip or pass on differently`;
}

/**
 * Canonicalises `raw` (a path as written, from just after the authority to
 * `?` or `#`). In glob mode (`glob: true`) glob syntax (`*`, `?`, `{`, `}`,
 * `\x`) is copied as it stands and an escaped `\?` or `\#` ends the path.
 */
export function canonicalUrlPath(raw: string, glob = false): UrlPathResult {
  if (raw === "" || raw === "/") return { ok: true, path: "/" };
  if (!glob && SIMPLE.test(raw) && !DOT_SEGMENT.test(raw)) return { ok: true, path: raw };
  if (raw[0] !== "/") return { ok: false, problem: "the URL path does not start with '/'" };
  const segs: string[] = [];
  const encodedDot: boolean[] = [];
  let seg = "";
  let dot = false;
  let tail = "";
  const n = raw.length;
  for (let i = 1; i < n; ) {
    const c = raw.charCodeAt(i);
    if (c === 0x2f) {
      segs.push(seg);
      encodedDot.push(dot);
      seg = "";
      dot = false;
      i++;
    } else if (glob && (c === 0x2a || c === 0x3f || c === 0x7b || c === 0x7d || c === 0x2c)) {
      seg += raw[i];
      i++;
    } else if (glob && c === 0x5c) {
      if (raw[i + 1] === "?" || raw[i + 1] === "#") {
        tail = raw.slice(i);
        break;
      }
      seg += raw.slice(i, i + 2);
      i += 2;
    } else if (c === 0x25) {
      if (!isHex(raw.charCodeAt(i + 1)) || !isHex(raw.charCodeAt(i + 2))) {
        return {
          ok: false,
          problem:
            "the URL path has a malformed percent-escape ('%' not followed by two hex digits, such as IIS's %u0061)",
        };
      }
      const b = (hexVal(raw.charCodeAt(i + 1)) << 4) | hexVal(raw.charCodeAt(i + 2));
      if (b < 0x80) {
        if (b === 0x25 && i + 4 < n && isHex(raw.charCodeAt(i + 3)) && isHex(raw.charCodeAt(i + 4))) {
          return {
            ok: false,
            problem:
              "the URL path is double-encoded (%25 before two hex digits), which a second decoder reads as another character",
          };
        }
        const how = ASCII[b];
        if (how === BAD) return { ok: false, problem: `the URL path contains ${whyBad(b, true)}` };
        if (how === ESC) seg += `%${HEX[b >> 4]}${HEX[b & 15]}`;
        else {
          if (b === 0x2e) dot = true;
          // In a pattern, a decoded "*" or "," stays literal.
          seg += glob && (b === 0x2a || b === 0x2c) ? `\\${String.fromCharCode(b)}` : String.fromCharCode(b);
        }
        i += 3;
      } else {
        // A run of escaped bytes must be valid UTF-8 (no overlong "%C0%AF" for "/").
        const bytes: number[] = [];
        while (i + 2 < n && raw[i] === "%" && isHex(raw.charCodeAt(i + 1)) && isHex(raw.charCodeAt(i + 2))) {
          const v = (hexVal(raw.charCodeAt(i + 1)) << 4) | hexVal(raw.charCodeAt(i + 2));
          if (v < 0x80) break;
          bytes.push(v);
          i += 3;
        }
        let text: string;
        try {
          text = utf8.decode(Uint8Array.from(bytes));
        } catch {
          return {
            ok: false,
            problem:
              "the URL path has escaped bytes that are not valid UTF-8 (overlong forms such as %C0%AF decode to '/' on lax servers)",
          };
        }
        if (/\p{Cc}/u.test(text)) return { ok: false, problem: `the URL path contains ${whyBad(0x80, true)}` };
        for (const v of bytes) seg += `%${HEX[v >> 4]}${HEX[v & 15]}`;
      }
    } else if (c < 0x80) {
      const how = ASCII[c];
      if (how === BAD) return { ok: false, problem: `the URL path contains ${whyBad(c, false)}` };
      seg += how === ESC ? `%${HEX[c >> 4]}${HEX[c & 15]}` : raw[i];
      i++;
    } else {
      const cp = raw.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (/\p{Cc}/u.test(ch)) return { ok: false, problem: `the URL path contains ${whyBad(cp, false)}` };
      for (const v of encoder.encode(ch)) seg += `%${HEX[v >> 4]}${HEX[v & 15]}`;
      i += ch.length;
    }
  }
  segs.push(seg);
  encodedDot.push(dot);
  const out: string[] = [];
  const last = segs.length - 1;
  for (let k = 0; k <= last; k++) {
    const s = segs[k]!;
    if (s === "" && k < last) {
      return {
        ok: false,
        problem: "the URL path has an empty path segment ('//'), which some servers merge into one '/' and others keep",
      };
    }
    if (s === "." || s === "..") {
      if (encodedDot[k]) {
        return {
          ok: false,
          problem:
            "the URL path has a dot segment written with an encoded '.' (%2E), which some servers resolve and others do not",
        };
      }
      if (s === ".." && out.length > 0) out.pop();
      if (k === last) out.push("");
    } else out.push(s);
  }
  return { ok: true, path: `/${out.join("/")}${tail}` };
}
