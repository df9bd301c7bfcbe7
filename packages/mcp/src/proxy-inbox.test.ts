import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { addApprover, addApproverToken, startApprovalServer, type RunningApprovalServer } from "@agentgate/approvals";
import type { ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  connectStdio,
  FILESYSTEM_SERVER,
  spawnProxy,
  tempDir,
  text,
  type StdioProxy,
} from "./test-utils/proxy-harness.js";

const redisUrl = inject("redisUrl");

interface Pending {
  id: string;
  agentName: string;
  action: string;
  target: string;
}

// The proxy (child process) in front of the real filesystem server, a client WITHOUT elicitation,
// and the approvals inbox (what `agentgate serve` runs) on the same Redis, answered through its JSON API.
describe.skipIf(redisUrl === null)(
  "agentgate-mcp --store: a client without elicitation waits for the approval inbox",
  () => {
    const files = tempDir();
    const conf = tempDir("agentgate-mcp-inbox-");
    let inbox: RunningApprovalServer;
    let token: string;
    let audits = 0;
    /** The audit log of the proxy started last (each proxy writes its own). */
    let audit = "";
    let policy: string;
    let mapping: string;
    const started: StdioProxy[] = [];

    beforeAll(async () => {
      files.write("report.txt", "quarterly numbers\n");
      files.write("notes.txt", "keep me\n");
      // A bearer token is enough for the JSON API (approvers.yaml keeps only its hash).
      const approvers = join(conf.dir, "approvers.yaml");
      await addApprover(approvers, "alice", "alice-password-1");
      token = addApproverToken(approvers, "alice");
      // A store spec, like `agentgate serve --store redis://...`: its own connection, default key prefix.
      inbox = await startApprovalServer({ store: redisUrl!, approvers, port: 0 });
      policy = conf.write(
        "policy.yaml",
        `name: inbox-${Date.now()}
rules:
  - action: file_read
    allowed: true
    allowed_targets: ["${files.dir}/**"]
    escalate_targets: ["${files.dir}/report.txt"]
  - action: file_write
    allowed: true
    allowed_targets: ["${files.dir}/**"]
    escalate_targets: ["${files.dir}/**"]
`,
      );
      mapping = conf.write(
        "mapping.yaml",
        "read_text_file: { action: file_read, target: path }\nwrite_file: { action: file_write, target: path }\n",
      );
    });

    afterAll(async () => {
      await Promise.allSettled(started.map((p) => p.close()));
      await inbox?.close();
      files.cleanup();
      conf.cleanup();
    });

    const proxy = async (extra: string[] = [], clientOptions: ClientOptions = {}) => {
      audit = join(conf.dir, `audit-${++audits}.jsonl`);
      const p = await connectStdio(
        [
          "--policy",
          policy,
          "--mapping",
          mapping,
          "--store",
          redisUrl!,
          "--audit",
          audit,
          ...extra,
          "--",
          process.execPath,
          FILESYSTEM_SERVER,
          files.dir,
        ],
        clientOptions,
      );
      started.push(p); // connectStdio's client declares no capabilities: no elicitation
      return p;
    };
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${inbox.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers },
      });
    const pending = async (): Promise<Pending[]> =>
      ((await (await api("/api/escalations")).json()) as { escalations: Pending[] }).escalations;
    /** Waits until the inbox lists an escalation for `target` (as a human watching `agentgate serve` would see it). */
    const escalationFor = async (target: string): Promise<Pending> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = (await pending()).find((e) => e.target === target);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no escalation for ${target} in the inbox`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const answer = async (id: string, what: "approve" | "deny", body: unknown = {}) => {
      const r = await api(`/api/escalations/${id}/${what}`, { method: "POST", body: JSON.stringify(body) });
      expect(r.status).toBe(200);
    };
    const auditLines = () =>
      readFileSync(audit, "utf8")
        .trim()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as { decision?: { code?: string; target?: string; escalationId?: string } } & Record<
              string,
              unknown
            >,
        );
    const decisions = () =>
      auditLines().map(
        (l) => (l.decision ?? l) as { type?: string; code?: string; target?: string; escalationId?: string },
      );

    it("blocks the call until an approver approves in the inbox, then returns the file", async () => {
      const p = await proxy();
      expect(p.stderr()).toContain("wait for an answer in the approval inbox");
      const target = join(files.dir, "report.txt");
      let settled = false;
      const call = p.client
        .callTool({ name: "read_text_file", arguments: { path: target } })
        .finally(() => (settled = true));
      const e = await escalationFor(target);
      expect(e).toMatchObject({ agentName: "agentgate-mcp", action: "file_read" });
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await answer(e.id, "approve");
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(text(result)).toBe("quarterly numbers\n");
      expect((await pending()).map((x) => x.id)).not.toContain(e.id);
    });

    it("approve runs the write once; deny returns isError with the reason and the file is untouched", async () => {
      const p = await proxy();
      const target = join(files.dir, "notes.txt");
      const write = p.client.callTool({ name: "write_file", arguments: { path: target, content: "approved text" } });
      const e = await escalationFor(target);
      expect(readFileSync(target, "utf8")).toBe("keep me\n");
      await answer(e.id, "approve");
      expect((await write).isError).toBeFalsy();
      expect(readFileSync(target, "utf8")).toBe("approved text");
      await p.close();
      // Audit closes with the proxy: exactly one approved ALLOW for that escalation.
      await new Promise((r) => setTimeout(r, 300));
      expect(decisions().filter((d) => d.escalationId === e.id && d.code === "approved")).toHaveLength(1);

      const q = await proxy();
      const denied = q.client.callTool({ name: "write_file", arguments: { path: target, content: "should not land" } });
      const e2 = await escalationFor(target);
      await answer(e2.id, "deny", { reason: "not in this folder" });
      const r = await denied;
      expect(r.isError).toBe(true);
      expect(text(r)).toBe("AgentGate denied this call: a human denied it (alice): not in this folder");
      expect(readFileSync(target, "utf8")).toBe("approved text");
    });

    it("no answer within --approval-timeout: DENY saying the approval timed out, and the inbox no longer lists it", async () => {
      const p = await proxy(["--approval-timeout", "1500ms"]);
      const target = join(files.dir, "late.txt");
      const write = p.client.callTool({ name: "write_file", arguments: { path: target, content: "x" } });
      const e = await escalationFor(target);
      const r = await write;
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(
        /^AgentGate denied this call: the approval handler failed: human approval required \(rule "file_write": .*\), but approval timed out \(no answer within 1500 ms\)$/,
      );
      expect(existsSync(target)).toBe(false);
      expect((await pending()).map((x) => x.id)).not.toContain(e.id);
      // Too late: the escalation is settled, an approval now changes nothing.
      const late = await api(`/api/escalations/${e.id}/approve`, { method: "POST", body: "{}" });
      expect(late.status).toBe(409);
      expect(existsSync(target)).toBe(false);
    });

    it('"approve for 1 hour" in the inbox lets the next identical call through without asking', async () => {
      const p = await proxy();
      const target = join(files.dir, "daily.txt");
      const first = p.client.callTool({ name: "write_file", arguments: { path: target, content: "day 1" } });
      const e = await escalationFor(target);
      await answer(e.id, "approve", { grant: { ttlMs: 3_600_000 } });
      expect((await first).isError).toBeFalsy();
      expect(readFileSync(target, "utf8")).toBe("day 1");
      const grants = ((await (await api("/api/grants")).json()) as { grants: { target: string }[] }).grants;
      expect(grants.map((g) => g.target)).toContain(target);
      // No approver acts now: the grant answers, and nothing waits in the inbox.
      const second = await p.client.callTool({ name: "write_file", arguments: { path: target, content: "day 2" } });
      expect(second.isError).toBeFalsy();
      expect(readFileSync(target, "utf8")).toBe("day 2");
      expect((await pending()).filter((x) => x.target === target)).toEqual([]);
      // Another target is not covered by the grant: it still waits for a human.
      const other = join(files.dir, "other.txt");
      const third = p.client.callTool({ name: "write_file", arguments: { path: other, content: "z" } });
      const e3 = await escalationFor(other);
      await answer(e3.id, "deny");
      expect((await third).isError).toBe(true);
      await p.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(decisions().filter((d) => d.target === target && d.code === "granted")).toHaveLength(1);
    });

    it("a client WITH elicitation is still asked by elicitation, not made to wait for the inbox", async () => {
      const p = await proxy([], { capabilities: { elicitation: {} } });
      const asked: string[] = [];
      p.client.setRequestHandler(ElicitRequestSchema, async (request) => {
        asked.push((request.params as { message: string }).message);
        return { action: "accept" };
      });
      const target = join(files.dir, "report.txt");
      const r = await p.client.callTool({ name: "read_text_file", arguments: { path: target } });
      expect(r.isError).toBeFalsy();
      expect(text(r)).toBe("quarterly numbers\n");
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain(target);
      expect((await pending()).filter((x) => x.target === target)).toEqual([]);
    });

    it("a proxy with --store that cannot start exits with a clear line instead of staying alive on its Redis connection", async () => {
      const failed = spawnProxy([
        "--policy",
        policy,
        "--store",
        redisUrl!,
        "--audit",
        join(conf.dir, "failed-audit.jsonl"),
        "--",
        "/nonexistent/mcp-server",
      ]);
      const code = await Promise.race([
        failed.exited,
        new Promise<"alive">((r) => setTimeout(() => r("alive"), 10_000)),
      ]);
      if (code === "alive") failed.kill();
      expect(code).not.toBe("alive");
      expect(code).not.toBe(0);
      expect(failed.stderr()).toMatch(/cannot start the upstream MCP server: .*ENOENT/);
      // An audit log held by a running proxy: the second refuses to start, and ends.
      const first = await proxy();
      const second = spawnProxy([
        "--policy",
        policy,
        "--store",
        redisUrl!,
        "--audit",
        audit,
        "--",
        process.execPath,
        FILESYSTEM_SERVER,
        files.dir,
      ]);
      const code2 = await Promise.race([
        second.exited,
        new Promise<"alive">((r) => setTimeout(() => r("alive"), 10_000)),
      ]);
      if (code2 === "alive") second.kill();
      expect(code2).not.toBe("alive");
      expect(second.stderr()).toMatch(/is being written by another process/);
      await first.close();
    });
  },
);
