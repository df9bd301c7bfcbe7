import { escapeControl } from "./escape.js";

/** Options for {@link renderTable}. */
export interface TableOptions {
  /** Pad columns to a common width (for terminals). Off: tab-separated, for `cut` and `awk`. */
  align?: boolean;
  /** Applied to each cell after padding (for colour), by column index. */
  paint?: (value: string, column: number, row: number) => string;
  /** Applied to the header cells after padding. */
  paintHeader?: (value: string) => string;
}

/** Visible width of a string (ignores ANSI colour codes). */
export function visibleWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

/** Cells hold model-written text: every control character (tabs and newlines too, which would break both layouts) is shown escaped. */
function clean(cell: string): string {
  return escapeControl(cell);
}

/**
 * Renders rows under a header: aligned columns separated by two spaces, or
 * tab-separated when `align` is false. The last column is never padded.
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const align = options.align ?? true;
  const paint = options.paint ?? ((v) => v);
  const paintHeader = options.paintHeader ?? ((v) => v);
  const all = [header.map(clean), ...rows.map((r) => r.map(clean))];
  if (!align) {
    return all
      .map((r, i) => (i === 0 ? r.map(paintHeader) : r.map((c, j) => paint(c, j, i - 1))).join("\t"))
      .join("\n");
  }
  const widths = header.map((_, j) => Math.max(...all.map((r) => visibleWidth(r[j] ?? ""))));
  return all
    .map((r, i) =>
      r
        .map((c, j) => {
          const padded = j === r.length - 1 ? c : c + " ".repeat(widths[j]! - visibleWidth(c));
          return i === 0 ? paintHeader(padded) : paint(padded, j, i - 1);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
