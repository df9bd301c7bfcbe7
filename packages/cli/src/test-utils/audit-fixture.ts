import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { JsonlAuditSink } from "@agentgate/core/node";

/** The policy the recorded decisions were made under. */
export const RECORDED_POLICY = `name: ops-v1
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [search, deploy]
    escalate_targets: [deploy]
  - action: llm_call
    allowed: true
    max_per_minute: 2
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ["**/.env"]
  - action: shell
    allowed: false
`;

export interface AuditFixture {
  file: string;
  /** The signer's exported identity file (private key included), as keygen writes it. */
  signerFile: string;
  /** A public-only JWK file of the signer. */
  publicKeyFile: string;
  /** Another key's public JWK file. */
  otherKeyFile: string;
  agents: { bot: AgentIdentity; helper: AgentIdentity };
}

/**
 * Writes a real audit log with core's `JsonlAuditSink` (signed checkpoints,
 * head file): two agents, allows, denies, an escalation approved by a human,
 * a rate limit. The first decisions are two hours old, the rest are recent.
 */
export async function writeAuditFixture(dir: string): Promise<AuditFixture> {
  const file = join(dir, "audit.jsonl");
  const signer = await AgentIdentity.create("audit-signer", { algorithm: "Ed25519" });
  const other = await AgentIdentity.create("someone-else", { algorithm: "Ed25519" });
  const bot = await AgentIdentity.create("research-bot");
  const helper = await AgentIdentity.create("helper-bot");
  const policy = PermissionPolicy.parse(RECORDED_POLICY);
  const sink = new JsonlAuditSink(file, { signer, fsync: false, includeArgs: true });
  let now = Date.now() - 2 * 3_600_000;
  const clock = () => now;
  const gate = new GateKeeper({ identity: bot, policy, auditSinks: [sink], clock });
  const helperGate = new GateKeeper({ identity: helper, policy, auditSinks: [sink], clock });

  await gate.check("tool_use", "search"); // allow (old)
  await gate.check("shell", { target: "ls", args: { cmd: "ls", password: "hunter2" } }); // deny (old)
  now = Date.now() - 1000;
  const deploy = await gate.check("tool_use", { target: "deploy", callId: "c1" }); // escalate
  await gate.resolveEscalation(deploy.escalationId!, { approved: true, approvedBy: "alice" }); // allow (approved)
  await gate.check("tool_use", "delete_repo"); // deny
  await gate.check("llm_call"); // allow
  await gate.check("llm_call"); // allow
  await gate.check("llm_call"); // deny: rate_limit
  await helperGate.check("file_read", "/workspace/notes.md"); // allow
  await helperGate.check("file_read", "/workspace/app/.env"); // deny
  await gate.close();
  await helperGate.close();

  const signerFile = join(dir, "signer.identity.json");
  writeFileSync(signerFile, JSON.stringify(signer.export()), { mode: 0o600 });
  const publicKeyFile = join(dir, "signer.pub.json");
  writeFileSync(publicKeyFile, JSON.stringify(signer.publicKeyJwk()));
  const otherKeyFile = join(dir, "other.pub.json");
  writeFileSync(otherKeyFile, JSON.stringify(other.publicKeyJwk()));
  return { file, signerFile, publicKeyFile, otherKeyFile, agents: { bot, helper } };
}
