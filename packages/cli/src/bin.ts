#!/usr/bin/env node
import { processContext, run } from "./cli.js";

process.exitCode = await run(process.argv.slice(2), processContext());
