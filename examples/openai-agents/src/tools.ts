import { tool } from "@openai/agents";
import { z } from "zod";

/**
 * The example's tools. They only simulate their effects (nothing is deployed,
 * no command runs), and record what actually executed so the demo can show
 * that refused calls never reach a tool.
 */
export function makeTools(executed: string[]) {
  const search = tool({
    name: "search",
    description: "Search the product documentation.",
    parameters: z.object({ query: z.string() }),
    execute: async ({ query }) => {
      executed.push(`search(${query})`);
      return `Top result for "${query}": AgentGate checks every action against a deny-by-default policy.`;
    },
  });

  const getWeather = tool({
    name: "get_weather",
    description: "Current weather for a city.",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      executed.push(`get_weather(${city})`);
      return `${city}: 18°C, light rain`;
    },
  });

  const deploy = tool({
    name: "deploy",
    description: "Deploy a service to an environment.",
    parameters: z.object({ service: z.string(), env: z.enum(["staging", "production"]) }),
    execute: async ({ service, env }) => {
      executed.push(`deploy(${service}, ${env})`);
      return `Deployed ${service} to ${env}.`;
    },
  });

  const readFile = tool({
    name: "read_file",
    description: "Read a file from the workspace.",
    parameters: z.object({ path: z.string() }),
    execute: async ({ path }) => {
      executed.push(`read_file(${path})`);
      return `(contents of ${path})`;
    },
  });

  const runShell = tool({
    name: "run_shell",
    description: "Run a shell command.",
    parameters: z.object({ command: z.string() }),
    execute: async ({ command }) => {
      executed.push(`run_shell(${command})`);
      return `(simulated) $ ${command}`;
    },
  });

  return [search, getWeather, deploy, readFile, runShell];
}

/** How the shared policy sees these tools: files and shell have their own actions. */
export const toolMapping = {
  read_file: { action: "file_read", target: (input: { path?: unknown }) => input.path as string | undefined },
  run_shell: { action: "shell", target: (input: { command?: unknown }) => input.command as string | undefined },
};
