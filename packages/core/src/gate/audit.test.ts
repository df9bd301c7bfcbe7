import { expect, test } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { AuditEvent, AuditSink } from "./audit.js";
import type { Decision } from "./decision.js";
import { GateKeeper } from "./gate-keeper.js";

test("every sink gets its own event object per decision, which it may annotate, with or without args", async () => {
  const seen: Array<{ decision: Decision; event: AuditEvent & { receivedAt?: number } }> = [];
  const errors: unknown[] = [];
  const annotating: AuditSink = {
    write(decision, event) {
      (event as { receivedAt?: number }).receivedAt = Date.now();
      seen.push({ decision, event });
    },
  };
  const gate = new GateKeeper({
    identity: await AgentIdentity.create("audit-bot"),
    policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
    auditSinks: [annotating],
    onAuditError: (error) => errors.push(error),
  });
  await gate.check("tool_use", "search");
  await gate.check("tool_use", { target: "search", args: { q: 1 } });
  await gate.check("tool_use", "search");
  expect(errors).toEqual([]);
  expect(seen).toHaveLength(3);
  expect(new Set(seen.map((s) => s.event)).size).toBe(3);
  expect(seen[1]!.event.args).toEqual({ q: 1 });
  expect(seen.every((s) => typeof s.event.receivedAt === "number")).toBe(true);
});

test("a repeat of a recorded call gets no ALLOW while a sink says it cannot record (the refusal is audited)", async () => {
  let down = "disk full";
  const written: string[] = [];
  const sink: AuditSink = {
    get unavailable() {
      return down;
    },
    write(decision) {
      written.push(`${decision.type}/${decision.code}`);
    },
  };
  const gate = new GateKeeper({
    identity: await AgentIdentity.create("audit-bot"),
    policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true, maxPerMinute: 10 }] }),
    auditSinks: [sink],
  });
  const call = { toolName: "deploy", input: { to: "prod" }, callId: "c1" };
  expect(await gate.checkToolCall(call)).toMatchObject({ type: "deny", code: "internal_error" });
  const repeat = await gate.checkToolCall({ ...call, execute: true });
  expect(repeat).toMatchObject({ type: "deny", code: "internal_error", reason: "audit unavailable: disk full" });
  expect(gate.decisions.map((d) => d.type)).toEqual(["deny", "deny"]);
  down = "";
  // Its one run was claimed by the refused repeat: the call id stays refused, never run unaudited.
  expect(await gate.checkToolCall({ ...call, execute: true })).toMatchObject({ type: "deny", code: "call_replayed" });
  expect(written).toEqual(["deny/internal_error", "deny/internal_error", "deny/call_replayed"]);
});
