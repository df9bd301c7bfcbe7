import { readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { AgentIdentity } from "@agentgate/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const mode = (file: string) => statSync(file).mode & 0o777;

describe("agentgate keygen", () => {
  it("writes an Ed25519 identity with mode 0600 and prints only the public part", async () => {
    const r = await runCli(["keygen", "--name", "research-bot", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    const out = json(r);
    const file = join(dir, "research-bot.identity.json");
    expect(out).toMatchObject({
      ok: true,
      file: "research-bot.identity.json",
      identity: { name: "research-bot", algorithm: "Ed25519" },
    });
    expect(mode(file)).toBe(0o600);
    expect(r.stdout).not.toContain('"d"');
    expect(r.stdout).not.toContain("privateKeyJwk");

    // The file round-trips through core, and a third party verifies with the printed public key alone.
    const identity = await AgentIdentity.import(readFileSync(file, "utf8"));
    expect(identity.id).toBe(out.identity.id);
    const signature = await identity.sign("hello");
    expect(await AgentIdentity.verifyWithPublicKey(out.identity.publicKeyJwk, "hello", signature)).toBe(true);
  });

  it("human output shows the public key and where the secret is, never the secret", async () => {
    const r = await runCli(["keygen", "--out", "me.json"], { cwd: dir });
    expect(r.code).toBe(0);
    const secret = JSON.parse(readFileSync(join(dir, "me.json"), "utf8"));
    expect(r.stdout).toMatch(/public key +\{"kty":"OKP","crv":"Ed25519","x":/);
    expect(r.stdout).toContain("me.json (mode 0600");
    expect(r.stdout).not.toContain(secret.privateKeyJwk.d);
  });

  it("HS256: the secret stays in the file", async () => {
    const r = await runCli(["keygen", "--algorithm", "HS256", "--out", "h.json", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    const secret = JSON.parse(readFileSync(join(dir, "h.json"), "utf8"));
    expect(secret.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).not.toContain(secret.secret);
    expect(json(r).identity.publicKeyJwk).toBeUndefined();
    expect(mode(join(dir, "h.json"))).toBe(0o600);
  });

  it("refuses to overwrite without --force; with --force the file is 0600 even if it was not", async () => {
    const file = join(dir, "id.json");
    writeFileSync(file, "old");
    chmodSync(file, 0o644);
    const r = await runCli(["keygen", "--out", file]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("old");
    const f = await runCli(["keygen", "--out", file, "--force"]);
    expect(f.code).toBe(0);
    expect(mode(file)).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(1);
  });

  it("an unknown algorithm or an unwritable path is one line, exit 2", async () => {
    const [alg, path] = await Promise.all([
      runCli(["keygen", "--algorithm", "RSA"], { cwd: dir }),
      runCli(["keygen", "--out", join(dir, "no", "such", "dir.json")]),
    ]);
    expect(alg.code).toBe(2);
    expect(isOneLineError(alg.stderr), alg.stderr).toBe(true);
    expect(alg.stderr).toContain("Allowed choices are Ed25519, HS256");
    expect(path.code).toBe(2);
    expect(isOneLineError(path.stderr), path.stderr).toBe(true);
    expect(path.stderr).toContain("its folder does not exist");
  });
});
