/** Exit codes CI can rely on. */
export const ExitCode = {
  /** Everything fine. */
  OK: 0,
  /** A finding: a failed test, an invalid policy, a broken audit log, a DENY from `check`. */
  FINDING: 1,
  /** A usage error: unknown command or option, a missing or unreadable file, malformed input. */
  USAGE: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports as one clear line on stderr (no stack trace),
 * optionally followed by detail lines, and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Extra lines printed after the message (e.g. every policy problem). */
  readonly details: readonly string[];
  /** Machine-readable kind, for `--json` output. */
  readonly kind: string;

  constructor(message: string, options: { exitCode?: ExitCode; details?: readonly string[]; kind?: string } = {}) {
    super(message);
    this.name = "CliError";
    this.exitCode = options.exitCode ?? ExitCode.USAGE;
    this.details = options.details ?? [];
    this.kind = options.kind ?? "usage";
  }
}

/** Usage error (exit 2). */
export function usageError(message: string, details?: readonly string[]): CliError {
  return new CliError(message, { exitCode: ExitCode.USAGE, kind: "usage", ...(details ? { details } : {}) });
}
