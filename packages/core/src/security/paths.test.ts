import { mkdtemp, mkdir, realpath, rm, symlink, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { posix } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PolicyValidationError } from "../errors.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { normalizePath } from "../policy/target.js";

const policy = new PermissionPolicy({
  name: "files",
  rules: [
    {
      action: "file_read",
      allowed: true,
      allowedTargets: ["/workspace/**"],
      deniedTargets: ["**/.env", "/workspace/secrets/**"],
    },
    // A deny-list-only rule: everything is allowed except what the list names.
    { action: "file_write", allowed: true, deniedTargets: ["/etc/**", "**/.env", "/home/*/.ssh/**"] },
  ],
});
const read = (t: string) => policy.explain("file_read", t);
const write = (t: string) => policy.explain("file_write", t);

describe("path tricks against file_* rules", () => {
  it("dot segments, duplicate and trailing slashes resolve before matching", () => {
    expect(read("/workspace/../etc/passwd")).toMatchObject({
      decision: "deny",
      code: "target_not_allowed",
      target: "/etc/passwd",
    });
    expect(read("/workspace/a/b/../../../etc/passwd")).toMatchObject({ decision: "deny", target: "/etc/passwd" });
    expect(read("/../../../workspace/ok.txt")).toMatchObject({ decision: "allow", target: "/workspace/ok.txt" });
    expect(read("/workspace//secrets///key")).toMatchObject({
      decision: "deny",
      code: "denied_target",
      target: "/workspace/secrets/key",
    });
    expect(read("/workspace/secrets/")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(read("/workspace/./.env")).toMatchObject({
      decision: "deny",
      code: "denied_target",
      target: "/workspace/.env",
    });
    expect(read("/workspace/app/.env/")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(read("/workspace/app/.env/.")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(read("/workspace//x//")).toMatchObject({ decision: "allow", target: "/workspace/x" });
    // A leading "//" is a network share on Windows (\\workspace\x): read that way, it is outside /workspace.
    expect(read("//workspace/x")).toMatchObject({
      decision: "deny",
      code: "target_not_allowed",
      target: "//workspace/x",
    });
    expect(read("//workspace/../etc/x")).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(read("x/../C:/work")).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(write("/tmp/../etc/cron.d/job")).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(write("/home/alice/./.ssh//authorized_keys")).toMatchObject({ decision: "deny", code: "denied_target" });
  });

  it("relative paths and ~ never match absolute allow patterns", () => {
    for (const t of ["../../etc/passwd", "workspace/x", "./workspace/x", "~/.ssh/id_rsa", "~root/.ssh/id_rsa", "."]) {
      expect(read(t).decision).toBe("deny");
    }
    expect(read("a/../../etc/passwd").target).toBe("../etc/passwd");
  });

  it("percent-escapes are refused: the OS never decodes them, a tool might", () => {
    for (const t of [
      "/workspace/%2e%2e/etc/passwd",
      "/workspace/%2E%2E/%2E%2E/etc/passwd",
      "/workspace/..%2fetc",
      "/workspace/.%65nv",
      "/workspace/%2fetc",
      "/workspace/a%00.txt",
      "/workspace/%252e%252e/x",
    ]) {
      expect(read(t)).toMatchObject({ decision: "deny", code: "invalid_target" });
    }
    // A lone "%" is an ordinary character.
    expect(read("/workspace/100%.txt").decision).toBe("allow");
  });

  it("NUL bytes are refused (C APIs stop at them: /workspace/x\\0/../../etc reads /workspace/x)", () => {
    for (const t of ["/workspace/.env\0.txt", "/workspace/a\0/../../etc/passwd", "\0", "/workspace/ok\0"]) {
      expect(read(t)).toMatchObject({ decision: "deny", code: "invalid_target" });
    }
  });

  it("backslashes are refused in POSIX paths: a separator on Windows, a name character on Linux", () => {
    // The gap this closes: read with "\" as a separator the target is
    // /workspace/x/y/.ssh/id_rsa (allowed), but Node's path.posix (and the
    // kernel, once "ws\x\y" exists) reads one name "workspace\x\y" and goes up
    // twice: /.ssh/id_rsa. Same story for writes into the parent directory.
    const trick = "/workspace\\x\\y/../../.ssh/id_rsa";
    expect(posix.normalize(trick)).toBe("/.ssh/id_rsa");
    expect(read(trick)).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(write("/etc/profile.d\\evil.sh").decision).toBe("deny");
    for (const t of ["/workspace\\..\\etc\\passwd", "\\workspace\\ok.txt", "/workspace/a\\b", "workspace\\.env"]) {
      expect(read(t)).toMatchObject({ decision: "deny", code: "invalid_target" });
    }
  });

  it("Windows paths use either separator, and Windows-only aliases are refused", () => {
    const win = new PermissionPolicy({
      name: "win",
      rules: [
        {
          action: "file_read",
          allowed: true,
          allowedTargets: ["C:/work/**", "//server/share/**"],
          deniedTargets: ["**/.env"],
        },
      ],
    });
    const w = (t: string) => win.explain("file_read", t);
    expect(w("C:\\work\\notes.txt")).toMatchObject({ decision: "allow", target: "C:/work/notes.txt" });
    expect(w("C:/work\\\\sub//notes.txt")).toMatchObject({ decision: "allow", target: "C:/work/sub/notes.txt" });
    expect(w("\\\\server\\share\\doc.txt")).toMatchObject({ decision: "allow", target: "//server/share/doc.txt" });
    expect(w("C:\\work\\app\\.env")).toMatchObject({ decision: "deny", code: "denied_target" });
    // Windows strips a trailing dot or space and reads "file::$DATA" as the file: refused, not guessed.
    for (const t of [
      "C:\\work\\app\\.env.",
      "C:\\work\\app\\.env ",
      "C:\\work\\.env::$DATA",
      "C:\\work\\..\\secret",
      "C:\\work\\.\\x",
      "\\\\?\\C:\\work\\x",
      "\\\\.\\pipe\\x",
    ]) {
      expect(w(t)).toMatchObject({ decision: "deny", code: "invalid_target" });
    }
  });

  it("wildcards are refused; brackets and braces stay literal", () => {
    expect(read("/workspace/*")).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(read("/workspace/secret?.txt")).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(read("/workspace/app/[slug].tsx").decision).toBe("allow");
  });

  it("names not in Unicode NFC are refused (macOS resolves NFC and NFD to one file)", () => {
    const nfd = "/workspace/cafe\u0301/.env";
    expect(read(nfd)).toMatchObject({ decision: "deny", code: "invalid_target" });
    expect(read(nfd.normalize("NFC"))).toMatchObject({ decision: "deny", code: "denied_target" });
    expect(read("/workspace/café/notes.md").decision).toBe("allow");
  });

  it("symlink-looking names are just names; /proc/self/root is outside an allow list", () => {
    expect(read("/workspace/link -> /etc/passwd")).toMatchObject({
      decision: "allow",
      target: "/workspace/link -> /etc/passwd",
    });
    expect(read("/proc/self/root/etc/passwd").decision).toBe("deny");
    expect(read("/workspace/../proc/self/root/workspace/.env").decision).toBe("deny");
    expect(read("/dev/fd/3").decision).toBe("deny");
  });

  it("property: an allowed target is, for Node's own path resolution too, inside /workspace and not a denied file", () => {
    const seg = fc.constantFrom(
      "workspace",
      "a",
      "..",
      ".",
      "",
      ".env",
      "secrets",
      "etc",
      "passwd",
      "%2e%2e",
      "x\\..",
      "\\",
      "a\0",
      "*",
      "~",
      "C:",
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(seg, { minLength: 1, maxLength: 8 }), (abs, segs) => {
        const raw = (abs ? "/" : "") + segs.join("/");
        const e = read(raw);
        if (e.decision !== "allow") return;
        const resolved = posix.resolve("/", raw);
        expect(raw).not.toMatch(/[\\\0*?]|%[0-9a-f]{2}/i);
        expect(resolved === "/workspace" || resolved.startsWith("/workspace/")).toBe(true);
        expect(resolved.endsWith("/.env")).toBe(false);
        expect(resolved.startsWith("/workspace/secrets/") || resolved === "/workspace/secrets").toBe(false);
        expect(e.target).toBe(resolved);
      }),
      { numRuns: 3000 },
    );
  });

  it("property: no spelling of a denied file gets past the deny list", () => {
    const noise = fc.constantFrom("./", "x/../", "/", "a/b/../../", "%2e/", "\\", "", "\0", "./././");
    fc.assert(
      fc.property(
        fc.array(noise, { maxLength: 4 }),
        fc.array(noise, { maxLength: 4 }),
        fc.constantFrom("/etc/passwd", "/home/bob/.ssh/authorized_keys", "/srv/app/.env"),
        (pre, mid, file) => {
          const [dir, name] = [file.slice(0, file.lastIndexOf("/")), file.slice(file.lastIndexOf("/") + 1)];
          const raw = `${dir}/${pre.join("")}${mid.join("")}${name}`;
          expect(write(raw).decision).toBe("deny");
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("every normalised path is a fixed point (normalising twice changes nothing)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "..", ".", "", "b.c", "C:", "\\", "é"), { maxLength: 8 }),
        fc.boolean(),
        (segs, abs) => {
          const r = normalizePath((abs ? "/" : "") + segs.join("/"));
          if (!r.ok) return;
          expect(normalizePath(r.target)).toEqual(r);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("symlinks: what lexical normalisation cannot see (documented in SECURITY.md)", () => {
  let root = "";
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("a link inside an allowed tree reaches outside it; checking fs.realpath closes the gap", async () => {
    root = await realpath(await mkdtemp(`${tmpdir()}/agentgate-symlink-`));
    await mkdir(`${root}/workspace`);
    await mkdir(`${root}/outside`);
    await writeFile(`${root}/outside/secret.txt`, "top secret");
    await symlink(`${root}/outside`, `${root}/workspace/link`);
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("fs-bot"),
      policy: new PermissionPolicy({
        name: "fs",
        rules: [{ action: "file_read", allowed: true, allowedTargets: [`${root}/workspace/**`] }],
      }),
    });
    const requested = `${root}/workspace/link/secret.txt`;
    // The gate matches the path as written: it cannot know "link" is a symlink.
    expect((await gate.check("file_read", requested)).type).toBe("allow");
    expect(await readFile(requested, "utf8")).toBe("top secret");
    // The recipe from SECURITY.md: let the tool check the real path it will open.
    expect((await gate.check("file_read", await realpath(requested))).type).toBe("deny");
    // ".." after a link: the kernel goes up from the link's target, lexical resolution from the link.
    await symlink(`${root}/workspace`, `${root}/workspace/self`);
    const dotdot = `${root}/workspace/self/../outside/secret.txt`;
    expect((await gate.check("file_read", dotdot)).type).toBe("allow"); // lexically ${root}/workspace/outside/secret.txt
    expect((await gate.check("file_read", await realpath(dotdot))).type).toBe("deny");
  });
});

describe("file patterns that can never match a normalised target are refused at load", () => {
  const load = (deniedTargets: string[]) => () =>
    new PermissionPolicy({ name: "p", rules: [{ action: "file_read", allowed: true, deniedTargets }] });

  it("a trailing slash, //, . or .. in a pattern would silently deny nothing", () => {
    for (const p of ["/etc/", "/workspace//secrets/**", "/workspace/./x", "/workspace/../etc/**", "/../x"]) {
      const error = (() => {
        try {
          load([p])();
        } catch (e) {
          return e;
        }
      })();
      expect(PolicyValidationError.isInstance(error), p).toBe(true);
      expect((error as PolicyValidationError).issues[0]).toMatchObject({ path: "rules[0].deniedTargets[0]" });
      expect((error as PolicyValidationError).issues[0]!.message).toMatch(/never matches/);
    }
  });

  it("Windows backslashes in a pattern are escapes, not separators: refused with a hint", () => {
    expect(load(["C:\\work\\**"])).toThrow(/file patterns use "\/"/);
    expect(() =>
      PermissionPolicy.parse('name: p\nrules:\n  - action: file_write\n    denied_targets: ["/etc/"]\n'),
    ).toThrow(/line 4.*never matches/s);
  });

  it("normal patterns still load", () => {
    expect(
      load([
        "/etc/**",
        "**/.env",
        "../**",
        "C:/work/**",
        "//server/share/**",
        "/",
        "C:/",
        "*.pem",
        "/workspace/\\*literal",
      ]),
    ).not.toThrow();
  });
});
