import type { ToolMapping } from "@agentgate/core";
import { tool } from "ai";
import { z } from "zod";

/** A pretend /workspace, so the demo never touches real files. */
const workspace: Record<string, string> = {
  "/workspace/notes/release.md": "Release 2.3: faster search, new audit export. Ship docs-site after review.",
  "/workspace/.env": "API_TOKEN=sk-live-do-not-leak",
};

/** The agent's tools. `executed` collects every call that really ran. */
export function makeTools(executed: string[]) {
  return {
    search: tool({
      description: "Search the internal docs",
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        executed.push(`search(${query})`);
        return { hits: [`Release checklist for "${query}": tests, changelog, deploy with approval`] };
      },
    }),
    read_file: tool({
      description: "Read a file from the workspace",
      inputSchema: z.object({ path: z.string() }),
      execute: async ({ path }) => {
        executed.push(`read_file(${path})`);
        return workspace[path] ?? `no such file: ${path}`;
      },
    }),
    shell: tool({
      description: "Run a shell command",
      inputSchema: z.object({ command: z.string() }),
      execute: async ({ command }) => {
        executed.push(`shell(${command})`);
        return "(the demo never runs shell commands)";
      },
    }),
    deploy: tool({
      description: "Deploy a service to an environment",
      inputSchema: z.object({ service: z.string(), environment: z.enum(["staging", "production"]) }),
      execute: async ({ service, environment }) => {
        executed.push(`deploy(${service} → ${environment})`);
        return { deployed: service, environment, version: "2.3.0" };
      },
    }),
    fetch_status: tool({
      description: "GET a status URL from the ops API",
      inputSchema: z.object({ url: z.string() }),
      execute: async ({ url }) => {
        executed.push(`fetch_status(${url})`);
        return { url, status: "ok" };
      },
    }),
  };
}

/** How tools map onto the policy's actions; unmapped tools are `tool_use` by name. */
export const toolMapping: ToolMapping = {
  read_file: { action: "file_read", target: (input: { path: string }) => input.path },
  shell: { action: "shell", target: (input: { command: string }) => input.command },
  fetch_status: { action: "network", target: (input: { url: string }) => input.url },
};
