import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { AgentGateError } from "../errors.js";
import { AgentIdentity } from "./agent-identity.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("AgentIdentity", () => {
  it("creates an identity with a UUID v4, capabilities and metadata", async () => {
    const a = await AgentIdentity.create("research-bot", { capabilities: ["search"], metadata: { team: "r" } });
    expect(a.id).toMatch(UUID_V4);
    expect(a.name).toBe("research-bot");
    expect(a.capabilities).toEqual(["search"]);
    expect(a.metadata).toEqual({ team: "r" });
    expect(a.algorithm).toBe("HS256");
    expect(a.createdAt).toBeInstanceOf(Date);
    await expect(AgentIdentity.create("")).rejects.toThrow(TypeError);
    await expect(AgentIdentity.create("x", { algorithm: "RS256" as never })).rejects.toThrow(
      /Unknown signing algorithm/,
    );
  });

  it("HS256 signs as lowercase hex HMAC-SHA256 and verifies", async () => {
    const a = await AgentIdentity.create("a");
    const sig = await a.sign("hello");
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(await a.verify("hello", sig)).toBe(true);
    expect(await a.verify(new TextEncoder().encode("hello"), sig)).toBe(true);
    expect(await a.verify("hello!", sig)).toBe(false);
    // Matches an independent HMAC computation with the exported secret.
    const { createHmac } = await import("node:crypto");
    const secret = Buffer.from(a.export().secret!, "hex");
    expect(createHmac("sha256", secret).update("hello").digest("hex")).toBe(sig);
  });

  it("verify returns false, never throws, for malformed or foreign signatures", async () => {
    const a = await AgentIdentity.create("a");
    const b = await AgentIdentity.create("b");
    const sig = await b.sign("m");
    for (const bad of [sig, "", "zz", "0".repeat(63), "g".repeat(64), null, 42, sig.toUpperCase().slice(1)]) {
      expect(await a.verify("m", bad as string)).toBe(false);
    }
  });

  it("Ed25519 signatures verify with the public JWK alone", async () => {
    const a = await AgentIdentity.create("ed", { algorithm: "Ed25519" });
    const sig = await a.sign("payload");
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
    const jwk = a.publicKeyJwk()!;
    expect(jwk).toEqual({ kty: "OKP", crv: "Ed25519", x: expect.any(String) });
    expect(jwk).not.toHaveProperty("d");
    // A third party with Web Crypto only:
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["verify"]);
    expect(
      await crypto.subtle.verify(
        { name: "Ed25519" },
        key,
        Buffer.from(sig, "hex"),
        new TextEncoder().encode("payload"),
      ),
    ).toBe(true);
    expect(await AgentIdentity.verifyWithPublicKey(jwk, "payload", sig)).toBe(true);
    expect(await AgentIdentity.verifyWithPublicKey(jwk, "other", sig)).toBe(false);
    expect(await AgentIdentity.verifyWithPublicKey({ kty: "nope" }, "payload", sig)).toBe(false);
    expect(await a.verify("payload", "00".repeat(64))).toBe(false);
  });

  it("export/import round-trips the identity and its key", async () => {
    for (const algorithm of ["HS256", "Ed25519"] as const) {
      const a = await AgentIdentity.create("x", { algorithm, capabilities: ["c"], metadata: { n: 1 } });
      const b = await AgentIdentity.import(JSON.parse(JSON.stringify(a.export())));
      expect(b.toJSON()).toEqual(a.toJSON());
      expect(await b.verify("m", await a.sign("m"))).toBe(true);
      expect(await a.verify("m", await b.sign("m"))).toBe(true);
    }
    await expect(AgentIdentity.import({} as never)).rejects.toSatisfy(AgentGateError.isInstance);
    await expect(
      AgentIdentity.import({ ...(await AgentIdentity.create("x")).export(), secret: "abc" }),
    ).rejects.toThrow(/secret/);
  });

  it("never shows the secret", async () => {
    for (const algorithm of ["HS256", "Ed25519"] as const) {
      const a = await AgentIdentity.create("x", { algorithm });
      const exported = a.export();
      const secret = exported.secret ?? (exported.privateKeyJwk!.d as string);
      expect(secret.length).toBeGreaterThan(20);
      for (const shown of [JSON.stringify(a), String(a), `${a}`, inspect(a, { depth: 10, showHidden: true })]) {
        expect(shown).not.toContain(secret);
      }
    }
  });
});
