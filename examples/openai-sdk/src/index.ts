import { runDemo } from "./demo.ts";

try {
  await runDemo();
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
