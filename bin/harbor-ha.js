#!/usr/bin/env node
// The installed entry point. It runs the TypeScript sources through tsx so that a fresh clone
// works after `npm ci` alone, without a build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv);
