/** What a command needs from the outside world; the CLI passes the real process, tests may pass buffers. */
export interface CommandContext {
  /** Writes one chunk to stdout (a newline is added). */
  out(text: string): void;
  /** Writes one chunk to stderr (a newline is added). */
  err(text: string): void;
  /** Colour stdout. */
  color: boolean;
  /** stdout is a terminal: align tables. */
  tty: boolean;
  env: NodeJS.ProcessEnv;
  /** Current time in epoch ms (for `--since`). */
  now(): number;
}

/** Prints a JSON result (pretty, one document). */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2));
}
