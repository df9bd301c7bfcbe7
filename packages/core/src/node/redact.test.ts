import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgsRedactor, REDACTED } from "./redact.js";

const r = new ArgsRedactor();

describe("ArgsRedactor", () => {
  it.each([
    "password",
    "PASSWORD",
    "Password",
    "db_password",
    "passwordHash",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "accessToken",
    "access_token",
    "refresh-token",
    "id_token",
    "csrfToken",
    "sessionToken",
    "secret",
    "client_secret",
    "clientSecret",
    "SECRET_KEY",
    "api_key",
    "apiKey",
    "APIKEY",
    "ApiKey",
    "x-api-key",
    "X-API-Key",
    "authorization",
    "Authorization",
    "proxy-authorization",
    "auth",
    "cookie",
    "Set-Cookie",
    "cookies",
    "private_key",
    "privateKey",
    "PRIVATE_KEY_PEM",
    "ssh_key",
    "signing_key",
    "credentials",
    "aws_secret_access_key",
    "jwt",
    "session_id",
  ])("redacts key %s", (key) => {
    expect(r.isSecretKey(key)).toBe(true);
    expect(r.redact({ [key]: "v", keep: "k" })).toEqual({ [key]: REDACTED, keep: "k" });
  });

  it.each([
    "query",
    "max_tokens",
    "maxTokens",
    "author",
    "authorName",
    "path",
    "url",
    "id",
    "tokenizer_model",
    "keyword",
    "passage",
  ])("keeps key %s", (key) => {
    expect(r.isSecretKey(key)).toBe(false);
  });

  it("redacts at any depth, inside arrays, and whole subtrees under a secret key", () => {
    const input = {
      user: "ann",
      config: {
        db: { url: "postgres://ann:s3cret@db:5432/x", Password: "p1" },
        tokens: [{ access_token: "t1" }, { note: "fine" }],
      },
      credentials: { user: "ann", pass: "p2" },
    };
    expect(r.redact(input)).toEqual({
      user: "ann",
      config: {
        db: { url: `postgres://ann:${REDACTED}@db:5432/x`, Password: REDACTED },
        tokens: [{ access_token: REDACTED }, { note: "fine" }],
      },
      credentials: REDACTED,
    });
  });

  it("redacts secret-looking values whatever their key", () => {
    const out = r.redact({
      header: "Bearer abcdefghijklmnop",
      note: "use sk-proj-abcdefghijklmnopqrstuvwxyz1234 for the call",
      aws: "AKIAABCDEFGHIJKLMNOP",
      gh: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
      jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
      plain: "just text, key=value",
    }) as Record<string, string>;
    expect(out.header).toBe(REDACTED);
    expect(out.note).toBe(`use ${REDACTED} for the call`);
    expect(out.aws).toBe(REDACTED);
    expect(out.gh).toBe(REDACTED);
    expect(out.pem).toBe(REDACTED);
    expect(out.jwt).toBe(REDACTED);
    expect(out.plain).toBe("just text, key=value");
  });

  it("accepts extra keys as strings (whole key, case-insensitive) or RegExps", () => {
    const custom = new ArgsRedactor({ redactKeys: ["ssn", /^card/i] });
    expect(custom.redact({ SSN: "1", "s-s-n": "2", ssn_hint: "3", CardNumber: "4", discard: "5" })).toEqual({
      SSN: REDACTED,
      "s-s-n": REDACTED,
      ssn_hint: "3",
      CardNumber: REDACTED,
      discard: "5",
    });
    expect(() => new ArgsRedactor({ redactKeys: [1 as never] })).toThrow(TypeError);
  });

  it("property: no value under a secret key, at any depth, survives into the output", () => {
    const secretKey = fc.constantFrom(
      "password",
      "apiKey",
      "X-Api-Key",
      "client_secret",
      "Authorization",
      "refreshToken",
      "cookie",
      "PRIVATE_KEY",
    );
    const marker = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/).map((s) => `zz${s}zz`);
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom("a", "b", "data", "items", "max_tokens"), tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(
        tree,
        fc.array(fc.tuple(secretKey, marker, fc.nat(5)), { minLength: 1, maxLength: 4 }),
        (base, secrets) => {
          // Plant each secret somewhere in a copy of the tree.
          const root: Record<string, unknown> = { base: structuredClone(base) };
          for (const [key, value, depth] of secrets) {
            let at: Record<string, unknown> = root;
            for (let d = 0; d < depth; d++) at = (at[`n${d}`] ??= {}) as Record<string, unknown>;
            at[key] = depth % 2 ? { nested: value } : value;
          }
          const text = JSON.stringify(r.redact(root));
          for (const [, value] of secrets) expect(text).not.toContain(value);
        },
      ),
      { numRuns: 300 },
    );
  });
});
