import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatVerifyResult, renderAuditTable, shouldColor } from "@agentgate/cli";
import { AgentIdentity } from "@agentgate/core";
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from "@agentgate/core/node";
import { openStore } from "@agentgate/approvals";
import { runDemo } from "./demo.ts";

// The demo also writes a durable, hash-chained audit file, signed with an Ed25519
// audit key, then prints it as a table and verifies it, as an auditor would.
const dir = fileURLToPath(new URL("../.agentgate/", import.meta.url));
const auditPath = `${dir}audit.jsonl`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

try {
  const auditKey = await AgentIdentity.create("demo-audit-key", { algorithm: "Ed25519" });
  const sink = new JsonlAuditSink(auditPath, { signer: auditKey, includeArgs: true });
  // AGENTGATE_INBOX=redis://127.0.0.1:6379: the deploy waits in the inbox of `agentgate serve --store` on that Redis.
  const inbox = process.env.AGENTGATE_INBOX ? await openStore(process.env.AGENTGATE_INBOX) : undefined;
  const { gate } = await runDemo({
    auditSinks: [sink],
    ...(inbox
      ? {
          inbox: {
            store: inbox.store,
            ...(process.env.AGENTGATE_INBOX_URL ? { url: process.env.AGENTGATE_INBOX_URL } : {}),
          },
        }
      : {}),
  });
  await gate.close();
  await inbox?.close();

  const color = shouldColor(process.env, process.stdout.isTTY);
  console.log(`\nAudit log ${auditPath}:\n`);
  console.log(renderAuditTable(await readAuditLog(auditPath), { color, align: true }));
  const verification = await verifyAuditLog(auditPath, { publicKey: auditKey.publicKeyJwk()! });
  console.log(`\n${formatVerifyResult(verification, { file: "audit.jsonl", color })}`);
  console.log(`\nTry: npm run agentgate -- audit show examples/ai-sdk-agent/.agentgate/audit.jsonl --type deny`);
  if (!verification.ok) process.exitCode = 1;
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
