import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectHttp,
  connectStdio,
  EVERYTHING_SERVER,
  FILESYSTEM_SERVER,
  tempDir,
  text,
} from "./test-utils/proxy-harness.js";

const files = tempDir();
const conf = tempDir("agentgate-mcp-http-");
afterAll(() => {
  files.cleanup();
  conf.cleanup();
});

const fsPolicy = () =>
  conf.write(
    "fs-policy.yaml",
    `name: fs-http
rules:
  - action: file_read
    allowed: true
    allowed_targets: ["${files.dir}/**"]
  - action: file_write
    allowed: true
    allowed_targets: []
    escalate_targets: ["${files.dir}/**"]
`,
  );
const fsMapping = () =>
  conf.write(
    "fs-mapping.yaml",
    "tools:\n  read_text_file: { action: file_read, target: path }\n  write_file: { action: file_write, target: path }\n",
  );

describe("downstream Streamable HTTP (--listen), upstream server-filesystem", () => {
  let h: Awaited<ReturnType<typeof connectHttp>>;
  beforeAll(async () => {
    files.write("h.txt", "over http\n");
    h = await connectHttp(
      ["--policy", fsPolicy(), "--mapping", fsMapping(), "--", process.execPath, FILESYSTEM_SERVER, files.dir],
      { capabilities: { elicitation: {} } },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it("returns an allowed read, hides denied tools, refuses a write that nobody approved", async () => {
    expect(
      text(await h.client.callTool({ name: "read_text_file", arguments: { path: join(files.dir, "h.txt") } })),
    ).toBe("over http\n");
    expect((await h.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["read_text_file", "write_file"]);
    const outside = await h.client.callTool({
      name: "write_file",
      arguments: { path: "/tmp/agentgate-mcp-outside.txt", content: "x" },
    });
    expect(outside.isError).toBe(true);
    expect(text(outside)).toContain("not in allowed_targets");
  });

  it("asks over the session's stream with elicitation: decline leaves the file untouched, accept writes it once", async () => {
    const target = join(files.dir, "h.txt");
    let answer: "accept" | "decline" = "decline";
    let asked = 0;
    h.client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: answer };
    });
    const no = await h.client.callTool({ name: "write_file", arguments: { path: target, content: "changed" } });
    expect(no.isError).toBe(true);
    expect(readFileSync(target, "utf8")).toBe("over http\n");
    answer = "accept";
    const yes = await h.client.callTool({ name: "write_file", arguments: { path: target, content: "changed" } });
    expect(yes.isError).toBeFalsy();
    expect(readFileSync(target, "utf8")).toBe("changed");
    expect(asked).toBe(2);
  });

  it("serves a second client session with its own upstream", async () => {
    const other = new Client({ name: "second", version: "1.0.0" });
    await other.connect(new StreamableHTTPClientTransport(h.url));
    expect(text(await other.callTool({ name: "read_text_file", arguments: { path: join(files.dir, "h.txt") } }))).toBe(
      "changed",
    );
    await other.close();
  });

  it("bounds open sessions (--max-sessions): one more initialize gets 503 until a session closes", async () => {
    const capped = await connectHttp([
      "--max-sessions",
      "1",
      "--policy",
      fsPolicy(),
      "--mapping",
      fsMapping(),
      "--",
      process.execPath,
      FILESYSTEM_SERVER,
      files.dir,
    ]);
    try {
      const extra = new Client({ name: "third", version: "1.0.0" });
      const err = await extra.connect(new StreamableHTTPClientTransport(capped.url)).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(String((err as Error).message)).toMatch(/503|too many open sessions/);
      // A client that ends its session (DELETE) frees the slot.
      await (capped.client.transport as StreamableHTTPClientTransport).terminateSession();
      await capped.client.close();
      const again = new Client({ name: "fourth", version: "1.0.0" });
      await again.connect(new StreamableHTTPClientTransport(capped.url));
      expect((await again.listTools()).tools.length).toBeGreaterThan(0);
      await again.close();
    } finally {
      capped.proxy.kill();
      await capped.proxy.exited;
    }
  });

  it("refuses requests with a foreign Host header (DNS rebinding)", async () => {
    // fetch() cannot set Host: a raw request can, as a page behind a rebinding DNS name would.
    const status = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
      });
      const req = request(
        h.url,
        {
          method: "POST",
          headers: {
            host: "evil.example",
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.once("error", reject);
      req.end(body);
    });
    expect(status).toBe(403);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("upstream over Streamable HTTP (--upstream-url)", () => {
  it("gates a server-everything reached by URL", async () => {
    const port = await freePort();
    const server = spawn(process.execPath, [EVERYTHING_SERVER, "streamableHttp"], {
      env: { ...process.env, PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = "";
        server.stderr!.on("data", (d: Buffer) => {
          err += d.toString();
          if (err.includes("listening on port")) resolve();
        });
        server.once("exit", () => reject(new Error(`server-everything exited: ${err}`)));
      });
      const policy = conf.write(
        "url-policy.yaml",
        "name: url\nrules:\n  - action: tool_use\n    allowed: true\n    allowed_targets: [echo]\n",
      );
      const proxy = await connectStdio(["--policy", policy, "--upstream-url", `http://127.0.0.1:${port}/mcp`]);
      try {
        expect(text(await proxy.client.callTool({ name: "echo", arguments: { message: "via url" } }))).toBe(
          "Echo: via url",
        );
        const denied = await proxy.client.callTool({ name: "get-env", arguments: {} });
        expect(denied.isError).toBe(true);
        expect((await proxy.client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
      } finally {
        await proxy.close();
      }
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("answers with a clear error when the URL upstream is unreachable", async () => {
    const port = await freePort();
    const policy = conf.write("url-policy2.yaml", "name: url\nrules:\n  - action: tool_use\n    allowed: true\n");
    const err = await connectStdio(["--policy", policy, "--upstream-url", `http://127.0.0.1:${port}/mcp`]).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("the upstream MCP server could not be reached");
  });
});
