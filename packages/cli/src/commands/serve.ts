import { startApprovalServer } from "@agentgate/approvals";
import { ExitCode, usageError } from "../errors.js";
import type { CommandContext } from "./context.js";

export interface ServeOptions {
  store: string;
  approvers: string;
  port?: string;
  host?: string;
  audit?: string;
  webhook?: string;
  webhookSecret?: string;
  webhookFormat?: string;
  publicUrl?: string;
}

/** `agentgate serve`: the approval inbox until Ctrl-C (or SIGTERM), then a clean stop. */
export async function runServe(opts: ServeOptions, ctx: CommandContext): Promise<number> {
  const port = opts.port === undefined ? 8787 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port must be 0-65535, not ${opts.port}`);
  if (opts.webhook && opts.webhookFormat !== "slack" && !opts.webhookSecret)
    throw usageError("--webhook needs --webhook-secret (or --webhook-format slack)");
  let running;
  try {
    running = await startApprovalServer({
      store: opts.store,
      approvers: opts.approvers,
      port,
      host: opts.host ?? "127.0.0.1",
      ...(opts.audit ? { auditFile: opts.audit } : {}),
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      ...(opts.webhook
        ? {
            webhook: {
              url: opts.webhook,
              ...(opts.webhookSecret ? { secret: opts.webhookSecret } : {}),
              format: opts.webhookFormat === "slack" ? ("slack" as const) : ("json" as const),
              onError: (e: unknown) =>
                ctx.err(`agentgate: webhook delivery failed: ${e instanceof Error ? e.message : String(e)}`),
            },
          }
        : {}),
    });
  } catch (error) {
    throw usageError(`cannot start the approval server: ${error instanceof Error ? error.message : String(error)}`);
  }
  ctx.out(
    `agentgate approvals listening on ${running.url} (store ${opts.store.replace(/\/\/[^@/]*@/, "//***@")}, approvers ${opts.approvers})`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  ctx.err("agentgate: stopping");
  await running.close();
  return ExitCode.OK;
}
