#!/usr/bin/env node
// The `distillery` command. Runs the TypeScript sources through tsx so the CLI needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/server/cli.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
