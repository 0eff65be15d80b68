import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO } from '../helpers/server.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** Wall-clock milliseconds of one run of `cmd args` from the repository, which must succeed. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, shell = false): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', shell });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
  return ms;
}

/**
 * `npm run bench -- cli [--reps N] [--no-sources] [--no-npx]`: start-up time of CLI commands, from the built CLI (out/cli,
 * as `npm install` leaves it) and from the TypeScript sources through tsx (a checkout whose build is stale), on a data
 * folder that already exists. One JSON line per command and mode: the median and every run, in milliseconds.
 */
export async function cliBench(args: string[]): Promise<void> {
  const i = args.indexOf('--reps');
  const reps = i >= 0 ? Number(args[i + 1]) : 5;
  const built = path.join(REPO, 'out', 'cli', 'cli.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-cli-'));
  const commands = [
    ['--version'],
    ['--help'],
    ['models', 'list', '--data-dir', dir],
    ['datasets', 'list', '--data-dir', dir],
    ['runs', 'list', '--data-dir', dir],
  ];
  const modes: [string, NodeJS.ProcessEnv][] = [['built', { ...process.env }]];
  if (!args.includes('--no-sources')) modes.push(['sources', { ...process.env, DISTILLERY_FROM_SOURCE: '1' }]);
  try {
    // The data folder is made once (migrations), so the figures are of a command on an existing library.
    timed(process.execPath, ['bin/distillery.js', 'models', 'list', '--data-dir', dir], process.env);
    for (const [mode, env] of modes) {
      if (mode === 'built' && !fs.existsSync(built)) {
        print({ bench: 'cli', mode, error: 'out/cli is not built: npm run build' });
        continue;
      }
      for (const command of commands) {
        const runs = Array.from({ length: reps }, () => timed(process.execPath, ['bin/distillery.js', ...command], env));
        const sorted = [...runs].sort((a, b) => a - b);
        const label = command.filter((a) => a !== '--data-dir' && a !== dir).join(' ');
        print({
          bench: 'cli',
          mode,
          command: label,
          median_ms: Math.round(sorted[Math.floor(reps / 2)]!),
          runs_ms: runs.map(Math.round),
          target: 'median_ms < 2000',
        });
      }
    }
    if (!args.includes('--no-npx')) {
      // npx adds npm's own start-up (it reads the installed tree) before the CLI's
      const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
      const runs = Array.from({ length: Math.min(reps, 3) }, () => timed(npx, ['distillery', '--version'], process.env, process.platform === 'win32'));
      print({
        bench: 'cli',
        mode: 'npx',
        command: '--version',
        median_ms: Math.round([...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!),
        runs_ms: runs.map(Math.round),
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
