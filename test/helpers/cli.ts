// The `distillery` command in a test. runCli calls the CLI's main() in this process with its output captured: the same
// exit code, stdout and stderr as the real command, without a process start and the loading of SQLite and
// node-llama-cpp per command. spawnCli runs the real bin/distillery.js in a child process, for the tests where the
// process itself is what is tested (start-up, exit code, signals, standard input).
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { main } from '../../src-main/cli/index.js';
import { REPO } from './server.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The environment the command reads (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Standard input (default: empty). */
  input?: string;
}

/** `distillery ...args`, run in this process. */
export function runCli(...args: string[]): Promise<CliResult> {
  return runCliWith({}, ...args);
}

/** `distillery ...args`, run in this process with its own environment or standard input. */
export async function runCliWith(options: CliOptions, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    env: options.env ?? process.env,
    stdin: Readable.from(options.input === undefined ? [] : [options.input]),
  });
  return { code, stdout, stderr };
}

/** `distillery ...args` as a real child process (bin/distillery.js); `code` is the process's exit status. */
export function spawnCli(args: string[], options: CliOptions & { timeoutMs?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/distillery.js', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    ...(options.env ? { env: options.env } : {}),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
