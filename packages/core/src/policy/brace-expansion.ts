/** Most brace-free patterns a pattern with `**` and braces may expand to (`globError` refuses more). */
export const MAX_EXPANSIONS = 256;
/** Marks where a brace group began or ended after expansion: it never joins two star runs. (NUL never occurs in a valid pattern.) */
export const JOIN = "\0";

/**
 * The brace-free patterns `pattern` stands for, or `undefined` past
 * `MAX_EXPANSIONS`. Each group's text is wrapped in `JOIN`, so `{a*,b}*`
 * stays `a*` then `*`, never the globstar `a**`.
 */
export function expandBraces(pattern: string): string[] | undefined {
  let i = 0;
  const n = pattern.length;
  const group = (depth: number): string[] | undefined => {
    const done: string[] = [];
    let cur = [""];
    while (i < n) {
      const c = pattern[i]!;
      if (c === "\\") {
        const len = 1 + String.fromCodePoint(pattern.codePointAt(i + 1)!).length;
        const text = pattern.slice(i, i + len);
        cur = cur.map((s) => s + text);
        i += len;
      } else if (c === "{") {
        i++;
        const inner = group(depth + 1);
        if (inner === undefined || cur.length * inner.length > MAX_EXPANSIONS) return undefined;
        cur = cur.flatMap((s) => inner.map((x) => `${s}${JOIN}${x}${JOIN}`));
      } else if (c === "}" && depth > 0) {
        i++;
        done.push(...cur);
        return done.length > MAX_EXPANSIONS ? undefined : done;
      } else if (c === "," && depth > 0) {
        i++;
        done.push(...cur);
        cur = [""];
      } else {
        cur = cur.map((s) => s + c);
        i++;
      }
    }
    done.push(...cur);
    return done.length > MAX_EXPANSIONS ? undefined : done;
  };
  return group(0);
}
