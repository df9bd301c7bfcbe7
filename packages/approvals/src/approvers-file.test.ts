import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addApprover, addApproverToken, ApproversFile } from "./approvers-file.js";
import { hashPassword, verifyPassword } from "./passwords.js";

describe("passwords", () => {
  it("scrypt with a fresh salt per hash; verifies the right password only", async () => {
    const a = await hashPassword("hunter2hunter2");
    const b = await hashPassword("hunter2hunter2");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("hunter2hunter2", a)).toBe(true);
    expect(await verifyPassword("hunter2hunter3", a)).toBe(false);
    expect(await verifyPassword("x", undefined)).toBe(false);
    expect(await verifyPassword("x", "scrypt$99999999999$8$1$aa$bb")).toBe(false);
  });
});

describe("approvers.yaml", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("stores hashes only (mode 0600), is re-read on change, and removed approvers stop working", async () => {
    dir = mkdtempSync(join(tmpdir(), "agentgate-approvers-"));
    const file = join(dir, "approvers.yaml");
    await addApprover(file, "alice", "alice-password-1");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).not.toContain("alice-password-1");
    const approvers = new ApproversFile(file);
    expect(await approvers.verifyPassword("alice", "alice-password-1")).toEqual({ id: "alice", via: "password" });
    expect(await approvers.verifyPassword("alice", "wrong")).toBeUndefined();
    expect(await approvers.verifyPassword("nobody", "alice-password-1")).toBeUndefined();
    // Added by another process (the CLI) while the server runs: seen without a restart.
    await addApprover(file, "bob", "bob-password-22");
    expect(await approvers.verifyPassword("bob", "bob-password-22")).toEqual({ id: "bob", via: "password" });
    const token = addApproverToken(file, "bob");
    expect(readFileSync(file, "utf8")).not.toContain(token);
    expect(approvers.verifyToken(token)).toEqual({ id: "bob", via: "token" });
    expect(approvers.verifyToken(`${token}x`)).toBeUndefined();
    writeFileSync(file, "approvers:\n  alice: { password: 'x' }\n");
    expect(approvers.has("bob")).toBe(false);
    expect(approvers.verifyToken(token)).toBeUndefined();
    writeFileSync(file, "approvers: [not, a, mapping");
    expect(approvers.names()).toEqual([]);
  });

  it("rejects bad names and short passwords", async () => {
    dir = mkdtempSync(join(tmpdir(), "agentgate-approvers-"));
    const file = join(dir, "approvers.yaml");
    await expect(addApprover(file, "../../etc", "long-enough-pw")).rejects.toThrow(/invalid approver name/);
    await expect(addApprover(file, "alice", "short")).rejects.toThrow(/at least 8/);
    expect(() => addApproverToken(file, "ghost")).toThrow(/no approver/);
  });
});
