import { tool } from "@langchain/core/tools";
import { z } from "zod";

/** The demo's tools. They only pretend, but they are real LangChain tools. */
export function makeTools(log: (line: string) => void = () => {}) {
  const search = tool(
    async ({ query }) => {
      log(`    ran search(${JSON.stringify(query)})`);
      return `Top result for "${query}": deploys need a green build and a changelog entry.`;
    },
    { name: "search", description: "Search the team's docs.", schema: z.object({ query: z.string() }) },
  );
  const getWeather = tool(
    async ({ city }) => {
      log(`    ran get_weather(${JSON.stringify(city)})`);
      return `${city}: 18°C, clear.`;
    },
    { name: "get_weather", description: "Current weather for a city.", schema: z.object({ city: z.string() }) },
  );
  const readFile = tool(
    async ({ path }) => {
      log(`    ran read_file(${JSON.stringify(path)})`);
      return `(contents of ${path})`;
    },
    { name: "read_file", description: "Read a file from the workspace.", schema: z.object({ path: z.string() }) },
  );
  const runShell = tool(
    async ({ cmd }) => {
      log(`    ran run_shell(${JSON.stringify(cmd)})`);
      return "(shell output)";
    },
    { name: "run_shell", description: "Run a shell command.", schema: z.object({ cmd: z.string() }) },
  );
  const deploy = tool(
    async ({ env }) => {
      log(`    ran deploy(${JSON.stringify(env)})`);
      return `Deployed build 1.4.2 to ${env}.`;
    },
    { name: "deploy", description: "Deploy the service to an environment.", schema: z.object({ env: z.string() }) },
  );
  return [search, getWeather, readFile, runShell, deploy];
}

/** Tools that are really file reads or shell commands are checked as those actions. */
export const mapping = {
  read_file: { action: "file_read", target: (input: { path: string }) => input.path },
  run_shell: { action: "shell", target: (input: { cmd: string }) => input.cmd },
};
