import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { REPO } from '../helpers/server.js';

/** Runs the real `distillery` bin in a child process. */
function distillery(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/distillery.js', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CHATS = [
  {
    messages: [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4' },
    ],
  },
  {
    messages: [
      { role: 'user', content: 'Name a colour.' },
      { role: 'assistant', content: 'Blue.' },
    ],
  },
  {
    messages: [
      { role: 'user', content: 'Say hi.' },
      { role: 'assistant', content: 'Hi!' },
    ],
  },
];

describe('how the CLI starts', () => {
  it('--help and --version answer without opening (or creating) the data folder', () => {
    const parent = tempDir();
    const dataDir = path.join(parent, 'library');
    // A data folder below a regular file cannot be created: any command that opened the library would fail.
    const blocked = path.join(parent, 'a-file', 'library');
    fs.writeFileSync(path.join(parent, 'a-file'), 'not a folder');
    const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;

    expect(distillery(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = distillery(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/Usage: distillery \[options\] \[command\][\s\S]*datasets/);
    for (const dir of [dataDir, blocked]) {
      for (const args of [
        ['models', 'list', '--help'],
        ['datasets', 'import', '--help'],
        ['serve', '--help'],
      ]) {
        const r = distillery([...args, '--data-dir', dir]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`Usage: distillery ${args.slice(0, -1).join(' ')}`);
      }
    }
    expect(fs.readdirSync(parent)).toEqual(['a-file']);
    // The same command without --help does open it, so the check above could fail.
    expect(distillery(['models', 'list', '--data-dir', dataDir]).code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'distillery.db'))).toBe(true);
    const refused = distillery(['models', 'list', '--data-dir', blocked]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^distillery: .+\n$/);
  });

  it('runs the built CLI (no notice), and the TypeScript sources when asked; datasets import works from both', () => {
    const built = path.join(REPO, 'out', 'cli');
    expect(fs.existsSync(path.join(built, 'cli.js'))).toBe(true);
    // datasets/jobs/import.ts starts its reading and indexing threads from import-worker.js beside its own (bundled) file
    expect(fs.existsSync(path.join(built, 'import-worker.js'))).toBe(true);
    // and the import's detection reads the file on the preview's thread (with its time limit), from preview-worker.js
    expect(fs.existsSync(path.join(built, 'preview-worker.js'))).toBe(true);
    // the native engine's and a quantization's child processes are forked from beside the bundle too
    expect(fs.existsSync(path.join(built, 'engine-host.js'))).toBe(true);
    expect(fs.existsSync(path.join(built, 'quantize-child.js'))).toBe(true);
    const file = path.join(tempDir(), 'chats.jsonl');
    fs.writeFileSync(file, CHATS.map((c) => JSON.stringify(c)).join('\n') + '\n');

    for (const [name, env, worker, preview] of [
      ['built', {}, path.join(built, 'import-worker.js'), path.join(built, 'preview-worker.js')],
      ['sources', { DISTILLERY_FROM_SOURCE: '1' }, 'import-worker.ts', 'preview-worker.ts'],
    ] as const) {
      const dataDir = tempDir();
      // NODE_DEBUG=worker makes Node name each worker thread's entry on stderr
      const imported = distillery(['datasets', 'import', file, '--name', name, '--json', '--data-dir', dataDir], { ...env, NODE_DEBUG: 'worker' });
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ status: 'succeeded' });
      expect(imported.stderr).toContain(worker);
      expect(imported.stderr).toContain(preview);
      const list = distillery(['datasets', 'list', '--json', '--data-dir', dataDir], env);
      expect(list.stderr).toBe('');
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name, latest: expect.objectContaining({ exampleCount: 3 }) })]);
    }
  });

  it('bin/distillery.js runs the build only while no source it was made from is newer, else the sources with a notice', () => {
    // A copy of the bin in a small tree of its own: a fake build and fake sources that say which one ran.
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'bin'));
    fs.copyFileSync(path.join(REPO, 'bin', 'distillery.js'), path.join(root, 'bin', 'distillery.js'));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    fs.writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
    fs.mkdirSync(path.join(root, 'src-main', 'cli'), { recursive: true });
    const source = path.join(root, 'src-main', 'cli', 'index.ts');
    fs.writeFileSync(source, "export async function main(argv: string[]): Promise<number> { console.log('sources', argv.join(' ')); return 0; }\n");
    fs.mkdirSync(path.join(root, 'out', 'cli'), { recursive: true });
    const built = path.join(root, 'out', 'cli', 'cli.js');
    fs.writeFileSync(built, "export async function main(argv) { console.log('built', argv.join(' ')); return 0; }\n");
    const inputs = path.join(root, 'out', 'cli', 'inputs.json');
    fs.writeFileSync(inputs, JSON.stringify(['src-main/cli/index.ts']));
    const run = () => {
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'distillery.js'), 'x'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      return { out: r.stdout, err: r.stderr, code: r.status };
    };
    const at = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);

    at(source, 1_000_000);
    at(built, 2_000_000);
    expect(run()).toEqual({ out: 'built x\n', err: '', code: 0 });
    at(source, 3_000_000);
    expect(run()).toMatchObject({
      out: 'sources x\n',
      code: 0,
      err: expect.stringMatching(/^distillery: running from the TypeScript sources \(src-main\/cli\/index\.ts changed after it; .*npm run build.*\)\n$/),
    });
    at(built, 4_000_000);
    fs.writeFileSync(inputs, JSON.stringify(['src-main/cli/index.ts', 'src-main/core/removed.ts']));
    expect(run()).toMatchObject({ out: 'sources x\n', err: expect.stringContaining('src-main/core/removed.ts is gone') });
    fs.rmSync(inputs);
    expect(run()).toMatchObject({ out: 'sources x\n', err: expect.stringContaining('out/cli is not built') });
  });

  it('npm start without an Electron binary says so in one line and serves the workbench instead', async () => {
    const dataDir = tempDir();
    // ELECTRON_OVERRIDE_DIST_PATH points node_modules/electron at a folder without the binary, as after a failed download
    const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0', '--data-dir', dataDir, '--no-sample'], {
      cwd: REPO,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(dataDir, 'no-electron'), BROWSER: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const m = /Distillery listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`start.mjs exited with ${code}:\n${out}`)));
    });
    try {
      expect(out.split('\n')[0]).toMatch(
        /^Electron cannot start \(its binary is missing .*\): serving the workbench to your browser instead \(distillery serve\)\.$/,
      );
      const res = await fetch(`${url}/api/call/runs.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(await res.json()).toEqual({ ok: true, value: [] });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'distillery.lock'))).toBe(false);
  });
});
