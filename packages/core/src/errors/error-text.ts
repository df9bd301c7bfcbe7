/**
 * A short, single-line description of anything thrown, for a decision's
 * reason. Never throws. Schema errors (zod, Standard Schema) list their
 * issues, since their `message` is a JSON dump.
 */
export function errorText(error: unknown): string {
  try {
    const issues = (error as { issues?: unknown } | null)?.issues;
    if (Array.isArray(issues) && issues.length > 0) {
      return issues
        .slice(0, 5)
        .map((issue: { path?: unknown; message?: unknown }) => {
          const path = Array.isArray(issue?.path) && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
          return `${path}${String(issue?.message ?? "invalid")}`;
        })
        .join("; ");
    }
    if (error instanceof Error) return String(error.message).split("\n")[0] || error.name;
    return String(error);
  } catch {
    return "unprintable error";
  }
}
