import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { normalizeUrl } from "../policy/target.js";

// Issue 12 item 1: the gate must read a URL path as a server does.
const admin = new PermissionPolicy({
  name: "admin-escalates",
  rules: [
    {
      action: "network",
      allowed: true,
      allowedTargets: ["http://host/**"],
      escalateTargets: ["http://host/admin/**"],
      deniedTargets: ["http://host/secret/**"],
    },
  ],
});
const decide = (t: string) => admin.explain("network", t);
const url = (u: string) => {
  const r = normalizeUrl(u);
  return r.ok ? r.target : `!${r.problem}`;
};

describe("URL paths are compared as RFC 3986 section 6 says, as servers read them", () => {
  it("percent-encoded unreserved characters are decoded, so an encoded name reaches the escalate list", () => {
    expect(decide("http://host/%61dmin/delete-all")).toMatchObject({
      decision: "escalate",
      target: "http://host/admin/delete-all",
    });
    expect(decide("http://host/%41%64%6D%69%6E/x").decision).toBe("allow"); // "ADMIN": another resource on a case-sensitive server
    expect(decide("http://host/%61%64%6d%69%6e").decision).toBe("escalate");
    expect(decide("http://host/s%65cret/k")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(url("http://host/a%7e%2D%5f%2e%30")).toBe("http://host/a~-_.0");
  });

  it("remaining escapes are upper-cased, and non-ASCII is written as upper-case UTF-8 escapes", () => {
    expect(url("http://host/caf%c3%a9?q=%c3%a9")).toBe("http://host/caf%C3%A9?q=%c3%a9");
    expect(url("http://host/café")).toBe("http://host/caf%C3%A9");
    expect(url("http://host/a%20b")).toBe("http://host/a%20b");
    expect(url("http://host/a%21b%40c")).toBe("http://host/a!b@c"); // servers that decode see the same name
    expect(url("http://host/a%3fb%23c")).toBe("http://host/a%3Fb%23c"); // decoding them would change the URL's structure
  });

  it("deny and escalate lists see the URL without its query (the server routes /admin?x to /admin)", () => {
    expect(decide("http://host/admin?x=1")).toMatchObject({ decision: "escalate", code: "escalate_target" });
    expect(decide("http://host/admin?")).toMatchObject({ decision: "escalate" });
    expect(decide("http://host/secret?k")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(admin.explain("network", "http://host/secret?k").pattern).toBe("http://host/secret/**");
    expect(decide("http://host/public?next=/admin/x").decision).toBe("allow");
  });

  it("literal dot segments are resolved; nothing else changes the path", () => {
    expect(decide("http://host/public/../admin/x")).toMatchObject({
      decision: "escalate",
      target: "http://host/admin/x",
    });
    expect(decide("http://host/./admin/x").decision).toBe("escalate");
    expect(decide("http://host/../../admin").decision).toBe("escalate");
    expect(url("http://host/a/b/")).toBe("http://host/a/b/");
  });

  it("refuses what two servers would route differently", () => {
    for (const [t, why] of [
      ["http://host/admin%2Fdelete-all", /encoded '\/'/],
      ["http://host/admin%2fdelete-all", /encoded '\/'/],
      ["http://host//admin/x", /empty path segment/],
      ["http://host/public//admin", /empty path segment/],
      ["http://host/public/%2e%2e/admin/x", /encoded '\.'/],
      ["http://host/public/.%2E/admin", /encoded '\.'/],
      ["http://host/%2e/admin", /encoded '\.'/],
      ["http://host/public%5c..%5cadmin", /encoded '\\'/],
      ["http://host/admin;x=1/delete", /';'/],
      ["http://host/admin%3B/delete", /';'/],
      ["http://host/%2561dmin/x", /double/],
      ["http://host/admin%252Fx", /double/],
      ["http://host/%u0061dmin/x", /malformed percent-escape/],
      ["http://host/a%zz", /malformed percent-escape/],
      ["http://host/a%0d%0aX-Injected:%201", /control character/],
      ["http://host/a%00.json", /control character/],
      ["http://host/a%7f", /control character/],
      ["http://host/%c0%ae%c0%ae/admin", /UTF-8/],
      ["http://host/%c0%afadmin", /UTF-8/],
      ["http://host/%e0%80%af", /UTF-8/],
      ["http://host/%c3", /UTF-8/],
    ] as const) {
      const e = decide(t);
      expect(e, t).toMatchObject({ decision: "deny", code: "invalid_target" });
      expect(e.reason, t).toMatch(why);
    }
  });

  it("a %25 that does not start an escape is a plain percent sign", () => {
    expect(url("http://host/100%25")).toBe("http://host/100%25");
    expect(url("http://host/100%25off")).toBe("http://host/100%25off");
    expect(url("http://host/100%25af")).toMatch(/^!.*double/); // "%25af" decodes to "%af", which a second decoder reads again
  });

  it("property: no spelling of a path under /admin/ or /secret/ is allowed", () => {
    // Pieces an attacker combines; every target is checked against a server-like reading.
    const piece = fc.constantFrom(
      "/",
      "//",
      "a",
      "d",
      "m",
      "i",
      "n",
      "admin",
      "secret",
      "%61",
      "%41",
      "%64",
      "%6d",
      "%6D",
      "%69",
      "%6e",
      "%2f",
      "%2F",
      "%5c",
      ".",
      "..",
      "%2e",
      "%2E",
      "%252f",
      "%25",
      ";",
      "%3b",
      "%00",
      "%c0%af",
      "%u002f",
      "?",
      "#",
      "x",
      "%7e",
      "~",
      "public",
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), (parts) => {
        const raw = `http://host/${parts.join("")}`;
        const e = decide(raw);
        if (e.decision !== "allow") return;
        // A decoding server: strip query/fragment, decode every escape (twice, as a proxy chain might),
        // turn "\" into "/", drop ";" parameters, merge slashes, resolve dot segments.
        let p = raw.slice("http://host".length).replace(/[?#].*$/s, "");
        for (let k = 0; k < 2; k++)
          p = p.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
        p = p
          .replace(/\\/g, "/")
          .replace(/;[^/]*/g, "")
          .replace(/\/+/g, "/");
        const out: string[] = [];
        for (const s of p.split("/")) {
          if (s === "..") out.pop();
          else if (s !== "." && s !== "") out.push(s);
        }
        expect(out[0], raw).not.toBe("admin");
        expect(out[0], raw).not.toBe("secret");
      }),
      { numRuns: 5000 },
    );
  });
});

describe("the fast path for already-canonical URLs", () => {
  it("property: gives what the full normalisation gives", () => {
    // A "#" fragment never takes the fast path; the full path drops it.
    const host = fc.constantFrom(
      "a",
      "a.b",
      "api.example.com",
      "A.b",
      "xn--a",
      "xn--pi-7kc.test",
      "0x1f",
      "a.0x1f",
      "127.1",
      "1.2.3.4",
      "a-",
      "a..b",
      "a.",
      "",
      "a.9",
      "a.b9",
    );
    const port = fc.constantFrom("", "", ":80", ":443", ":8080", ":65535", ":65536", ":0", ":", ":08");
    const piece = fc.constantFrom(
      "a",
      "Z",
      "0",
      "-",
      ".",
      "..",
      "/",
      "//",
      ":",
      "?",
      "%",
      "%41",
      "%2f",
      "x=1",
      "&",
      "'",
      ";",
      "@",
      "~",
      "_",
      "*",
      "é",
      "{",
    );
    const scheme = fc.constantFrom("http://", "https://", "ws://", "wss://", "HTTP://", "ftp://", "redis://");
    fc.assert(
      fc.property(scheme, host, port, fc.array(piece, { maxLength: 8 }), (s, h, p, parts) => {
        const raw = s + h + p + parts.join("");
        expect(normalizeUrl(raw), raw).toEqual(normalizeUrl(`${raw}#`));
      }),
      { numRuns: 20000 },
    );
  });
});

describe("a host pattern only ever matches the host, for every scheme (item 2)", () => {
  const db = new PermissionPolicy({
    name: "db",
    rules: [
      {
        action: "network",
        allowed: true,
        allowedTargets: ["postgres://*.internal.example/**", "redis://*.cache.internal:6390/**"],
      },
    ],
  });
  it("a query or fragment cannot complete a host wildcard", () => {
    expect(db.check("network", "postgres://attacker.test?.internal.example/app")).toBe("deny");
    expect(db.check("network", "postgres://attacker.test#.internal.example/app")).toBe("deny");
    expect(db.check("network", "redis://127.0.0.1:6390?.cache.internal:6390")).toBe("deny");
    expect(db.check("network", "redis://127.0.0.1:6390?.cache.internal:6390/")).toBe("deny");
    expect(db.check("network", "postgres://db.internal.example/app")).toBe("allow");
    expect(db.check("network", "postgres://db.internal.example")).toBe("allow");
    expect(db.check("network", "redis://a.cache.internal:6390")).toBe("allow");
  });

  it("non-special URLs always get a path, so the authority ends at the first '/'", () => {
    expect(url("postgres://attacker.test?.internal.example/app")).toBe(
      "postgres://attacker.test/?.internal.example/app",
    );
    expect(url("redis://127.0.0.1:6390?.cache.internal:6390")).toBe("redis://127.0.0.1:6390/?.cache.internal:6390");
    expect(url("redis://Cache.Internal:6379")).toBe("redis://cache.internal:6379/");
    expect(url("postgres://db.internal.example/app%2Fx")).toMatch(/^!.*encoded '\/'/);
  });

  it("property: whatever follows the host, an allowed target's host (as RFC 3986 reads it) is under the wildcard", () => {
    const host = fc.constantFrom("attacker.test", "127.0.0.1", "db.internal.example", "a.cache.internal", "x");
    const piece = fc.constantFrom(
      "?",
      "#",
      "/",
      ".internal.example",
      ".cache.internal",
      ":6390",
      "@",
      "%2f",
      ":",
      "/app",
    );
    fc.assert(
      fc.property(
        fc.constantFrom("postgres://", "redis://", "mysql://"),
        host,
        fc.array(piece, { minLength: 1, maxLength: 4 }),
        (scheme, h, parts) => {
          const raw = scheme + h + parts.join("");
          if (db.check("network", raw) !== "allow") return;
          const authority = /^[a-z]+:\/\/([^/?#]*)/.exec(raw)![1]!;
          expect(authority, raw).toMatch(/^[^@]*\.(internal\.example|cache\.internal)(:\d*)?$/);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
