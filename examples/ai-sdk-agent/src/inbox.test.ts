import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addApprover, addApproverToken, createApprovalServer } from "@agentgate/approvals";
import { MemoryStore } from "@agentgate/core";
import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.ts";
import { scriptedModel } from "./scripted-model.ts";

describe("the demo with the approval inbox", () => {
  it("sends the deploy escalation to the inbox; an approver's answer there resumes the run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ai-sdk-agent-inbox-"));
    const store = new MemoryStore();
    await addApprover(join(dir, "approvers.yaml"), "alice", "alice-password-1");
    const token = addApproverToken(join(dir, "approvers.yaml"), "alice");
    const inbox = createApprovalServer({ store, approvers: join(dir, "approvers.yaml"), pollMs: 100 });
    const api = (path: string, method = "GET") =>
      inbox(new Request(`http://127.0.0.1:8787${path}`, { method, headers: { authorization: `Bearer ${token}` } }));
    // A human watching the inbox: approves the first escalation that shows up.
    let answered = "";
    const human = (async () => {
      for (let i = 0; i < 400 && !answered; i++) {
        const { escalations } = (await (await api("/api/escalations")).json()) as {
          escalations: { id: string; target: string }[];
        };
        if (escalations[0]) {
          answered = escalations[0].target;
          expect((await api(`/api/escalations/${escalations[0].id}/approve`, "POST")).status).toBe(200);
        } else await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const lines: string[] = [];
    try {
      const result = await runDemo({
        write: (t) => lines.push(t),
        color: false,
        model: scriptedModel(),
        inbox: { store },
      });
      await human;
      expect(answered).toBe("deploy");
      expect(lines.join("\n")).toMatch(/waiting for an answer in the inbox: http:\/\/127\.0\.0\.1:8787\/#esc-/);
      expect(lines.join("\n")).toContain("approved by alice in the inbox");
      expect(result.executed.filter((c) => c.startsWith("deploy"))).toEqual(["deploy(docs-site → production)"]);
    } finally {
      await inbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
