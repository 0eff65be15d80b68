import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureBadFiles, fixtureModel } from '../fixtures/models.js';
import { tempDir } from '../helpers/workspace.js';
import { REPO } from '../helpers/server.js';
import { defaultDataDir } from '../../src-main/core/paths.js';
import { runCli as distillery, runCliWith, spawnCli } from '../helpers/cli.js';

// The commands run in this process (test/helpers/cli.ts); the real process is spawned where it is what is tested: its
// standard input (secrets set) and its exit status and stderr (the failing command below). Start-up: start.test.ts.

let teacher: string;
let dataDir: string;
beforeAll(async () => {
  teacher = await fixtureModel('teacher');
  dataDir = tempDir();
});

describe('distillery CLI', () => {
  it('models add --json prints the metadata, and list/show read it back', async () => {
    const add = await distillery('models', 'add', teacher, '--role', 'teacher', '--json', '--data-dir', dataDir);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const entry = JSON.parse(add.stdout) as { id: number; roles: string[]; summary: Record<string, unknown> };
    expect(entry.roles).toEqual(['teacher']);
    expect(entry.summary).toMatchObject({ architecture: 'llama', embeddingLength: 512, blockCount: 4, hasChatTemplate: true });

    const list = await distillery('models', 'list', '--json', '--data-dir', dataDir);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: entry.id, path: teacher })]);
    const text = await distillery('models', 'list', '--data-dir', dataDir);
    expect(text.stdout).toMatch(/ID\s+NAME\s+ARCH/);
    expect(text.stdout).toContain('llama');
    const show = await distillery('models', 'show', String(entry.id), '--data-dir', dataDir);
    expect(show.stdout).toMatch(/chat template\s+yes/);
  });

  it('secrets set reads the key from standard input, never prints it, and list/delete manage it', async () => {
    const dir = tempDir();
    const key = 'sk-cli-secret-abcdef0123456789';
    const env = { ...process.env, DISTILLERY_NO_KEYRING: '1' };
    // the real process: the key comes through its standard input (a pipe), and neither stream shows it
    const set = spawnCli(['secrets', 'set', 'openai', '--data-dir', dir], { env, input: `${key}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).toMatch(/saved openai \(encrypted: key file /);
    expect(set.stdout + set.stderr).not.toContain(key);
    const run = async (input: string | undefined, ...args: string[]) => {
      const r = await runCliWith({ env, input }, ...args, '--data-dir', dir);
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const list = await run(undefined, 'secrets', 'list', '--json');
    expect(JSON.parse(list.out).secrets).toEqual([expect.objectContaining({ name: 'openai' })]);
    expect(list.out).not.toContain(key);
    for (const f of fs.readdirSync(dir).filter((f) => /\.db/.test(f))) expect(fs.readFileSync(path.join(dir, f)).includes(key)).toBe(false);
    expect(await run('', 'secrets', 'set', 'empty')).toMatchObject({ code: 2, out: expect.stringContaining('no API key on standard input') });
    expect((await run(undefined, 'secrets', 'delete', 'openai')).code).toBe(0);
    expect(await run(undefined, 'secrets', 'delete', 'openai')).toMatchObject({ code: 1, out: expect.stringContaining('no saved API key named openai') });
  });

  it('reads the environment it is given: the default data folder', async () => {
    const config = tempDir();
    const env = { ...process.env, XDG_CONFIG_HOME: config, APPDATA: config };
    // (on Linux and Windows the default follows these variables; checked first, so no other folder is touched)
    expect(defaultDataDir(env).startsWith(config)).toBe(true);
    expect(await runCliWith({ env }, 'runs', 'list', '--json')).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    expect(fs.existsSync(path.join(config, 'Distillery', 'distillery.db'))).toBe(true);
  });

  it('keeps the output of two commands run at once in one process apart', async () => {
    const [runs, help, missing] = await Promise.all([
      distillery('runs', 'list', '--json', '--data-dir', tempDir()),
      distillery('models', '--help'),
      distillery('runs', 'show', '7', '--data-dir', tempDir()),
    ]);
    expect(runs).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    expect(help.stdout).toMatch(/^Usage: distillery models/);
    expect(help.stderr).toBe('');
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'distillery: there is no run 7\n' });
  });

  it('runs list and show', async () => {
    const list = await distillery('runs', 'list', '--json', '--data-dir', dataDir);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const missing = await distillery('runs', 'show', '42', '--data-dir', dataDir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('distillery: there is no run 42\n');
  });

  it('fails with a one-line error and a non-zero code', async () => {
    const bad = await fixtureBadFiles(tempDir());
    // the real process's exit status and stderr, once; the same command in this process says the same
    const r = spawnCli(['models', 'add', bad.text, '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^distillery: .*notes\.txt is not a GGUF file: it starts with bytes 'hell'\n$/);
    expect(await distillery('models', 'add', bad.text, '--data-dir', dataDir)).toEqual({ code: 1, stdout: '', stderr: r.stderr });
    const badId = await distillery('runs', 'show', 'abc', '--data-dir', dataDir);
    expect(badId.code).not.toBe(0);
    expect(badId.stderr).toContain('"abc" is not a valid id');
    const unknown = await distillery('frobnicate');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command/);
    const role = await distillery('models', 'add', teacher, '--role', 'judge', '--data-dir', dataDir);
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/judge/);
  });

  it('has --help everywhere', async () => {
    for (const args of [[], ['serve'], ['models'], ['models', 'add'], ['models', 'list'], ['runs'], ['runs', 'list'], ['runs', 'show']]) {
      const r = await distillery(...args, '--help');
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: distillery/);
      if (args.length > 0 && args[0] !== 'models' && args[0] !== 'runs') expect(r.stdout).toContain('--data-dir');
    }
    expect((await distillery('models', 'add', '--help')).stdout).toContain('--data-dir');
  });
});

describe('distillery CLI runs', () => {
  it('models scan and models benchmark run to the end here and print the run', async () => {
    const dir = tempDir();
    const folder = tempDir();
    const student = await fixtureModel('student');
    fs.copyFileSync(student, path.join(folder, 's.gguf'));
    const scan = await distillery('models', 'scan', folder, '--json', '--data-dir', dir);
    expect(scan.code).toBe(0);
    const run = JSON.parse(scan.stdout) as { status: string; kind: string; metrics: { name: string; value: number }[] };
    expect(run).toMatchObject({ status: 'succeeded', kind: 'models.scan' });
    expect(run.metrics).toContainEqual(expect.objectContaining({ name: 'models_added', value: 1 }));

    const bench = await distillery('models', 'benchmark', '1', '--repetitions', '1', '--generate-tokens', '16', '--json', '--data-dir', dir);
    expect(bench.code).toBe(0);
    const b = JSON.parse(bench.stdout) as { status: string; metrics: { name: string; value: number }[] };
    expect(b.status).toBe('succeeded');
    expect(b.metrics.find((m) => m.name === 'generate_tps_mean')!.value).toBeGreaterThan(0);
    // each command closed the library and released the data lock before it returned, as a process exit would: no lock
    // file, and no WAL or shared-memory file (SQLite removes them when the last connection closes)
    expect(fs.readdirSync(dir).filter((f) => /\.lock$|-wal$|-shm$/.test(f))).toEqual([]);

    const missing = await distillery('models', 'scan', path.join(folder, 'nope'), '--data-dir', dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/distillery: run \d+ failed: .*nope does not exist\n$/);
  });
});

describe('distillery datasets', () => {
  it('imports a JSONL file, lists it and shows NAME@VERSION', async () => {
    const dir = tempDir();
    const sample = path.join(REPO, 'test', 'datasets', 'samples', 'openai-chat.jsonl');
    const imp = await distillery('datasets', 'import', sample, '--name', 'marv', '--json', '--data-dir', dir);
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ kind: 'datasets.import', status: 'succeeded' });
    const list = JSON.parse((await distillery('datasets', 'list', '--json', '--data-dir', dir)).stdout) as { name: string; latest: { exampleCount: number } }[];
    expect(list).toEqual([expect.objectContaining({ name: 'marv', latest: expect.objectContaining({ exampleCount: 3 }) })]);
    const show = await distillery('datasets', 'show', 'marv@1', '--limit', '1', '--data-dir', dir);
    expect(show.stdout).toMatch(/^marv@1 {2}3 examples/);
    expect(show.stdout).toContain("assistant Paris, as if everyone doesn't know that already.");
    const again = await distillery('datasets', 'import', sample, '--name', 'marv', '--data-dir', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('distillery: a dataset named marv already exists (to add a file to it, import with append)\n');
  });

  it('refuses a file with no valid record in one line, with a non-zero code', async () => {
    const dir = tempDir();
    // a file with no valid record: refused in one line, exit 1, nothing imported
    const bad = path.join(dir, 'answers-only.jsonl');
    fs.writeFileSync(bad, [1, 2, 3].map((i) => JSON.stringify({ messages: [{ role: 'assistant', content: `answer ${i}` }] })).join('\n'));
    const none = await distillery('datasets', 'import', bad, '--name', 'none', '--format', 'openai', '--data-dir', dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^distillery: answers-only\.jsonl has no valid record \(3 rejected; line 1: [^\n]+\): nothing to import\n$/);
    expect(JSON.parse((await distillery('datasets', 'list', '--json', '--data-dir', dir)).stdout)).toEqual([]);
  }, 120_000);

  it('export replaces an existing file only with --force, and never writes over the library', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const sample = path.join(REPO, 'test', 'datasets', 'samples', 'openai-chat.jsonl');
    expect((await distillery('datasets', 'import', sample, '--name', 'marv', '--data-dir', dir)).code).toBe(0);
    const out = path.join(tempDir(), 'marv.jsonl');
    fs.writeFileSync(out, 'mine\n');
    const refused = await distillery('datasets', 'export', 'marv', '--format', 'openai', '--out', out, '--data-dir', dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`distillery: ${out} already exists; choose another name or ask to replace it (--force)`);
    expect(fs.readFileSync(out, 'utf8')).toBe('mine\n');
    const db = path.join(dir, 'distillery.db');
    const own = await distillery('datasets', 'export', 'marv', '--format', 'openai', '--out', db, '--force', '--data-dir', dir);
    expect(own.stderr).toContain(`${db} is one of Distillery's own files`);
    expect((await distillery('datasets', 'export', 'marv', '--format', 'openai', '--out', out, '--force', '--data-dir', dir)).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('dedupes (exact and near), splits with a seed, diffs and exports per split as Parquet', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'faq.jsonl');
    const lines: string[] = [];
    const syllables = 'ka lo mi ne ru ta vi zo pe su da fi go hu ja be co du ex ro'.split(' ');
    let seed = 12345;
    const pick = () => syllables[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % syllables.length]!;
    const word = () => pick() + pick() + pick(); // 8000 made-up words: unrelated lines share few shingles
    const sentence = (n: number) => Array.from({ length: n }, word).join(' ');
    for (let i = 1; i <= 40; i++) lines.push(JSON.stringify({ prompt: `${sentence(14)}?`, completion: `${sentence(18)} ten seconds.` }));
    lines.push(lines[0]!.replace('How do', 'how  do')); // exact duplicate after normalization (line 41)
    lines.push(lines[1]!.replace('ten seconds', 'ten secs')); // near duplicate of line 2 (line 42)
    fs.writeFileSync(file, lines.join('\n') + '\n');
    expect((await distillery('datasets', 'import', file, '--name', 'faq', '--data-dir', dir)).code).toBe(0);

    const exact = await distillery('datasets', 'dedupe', 'faq', '--json', '--data-dir', dir);
    expect(exact.code).toBe(0);
    expect(JSON.parse(exact.stdout)).toMatchObject({ kind: 'datasets.dedupe', status: 'succeeded' });
    const near = await distillery('datasets', 'dedupe', 'faq', '--near', '0.7', '--data-dir', dir);
    expect(near.code).toBe(0);
    const versions = (
      JSON.parse((await distillery('datasets', 'show', 'faq', '--json', '--data-dir', dir)).stdout) as { versions: { number: number; exampleCount: number }[] }
    ).versions;
    expect(versions.map((v) => [v.number, v.exampleCount])).toEqual([
      [1, 42],
      [2, 41],
      [3, 40],
    ]);

    const split = await distillery(
      'datasets',
      'split',
      'faq',
      '--train',
      '0.5',
      '--val',
      '0.25',
      '--test',
      '0.25',
      '--seed',
      '3',
      '--freeze-test',
      '--data-dir',
      dir,
    );
    expect(split.stderr).toBe('');
    expect(split.stdout.trim()).toBe('faq@4: train 20, validation 10, test 10 (test frozen)');
    const diff = await distillery('datasets', 'diff', 'faq', '--from', '1', '--to', '3', '--data-dir', dir);
    expect(diff.stdout).toMatch(/^faq@1 → @3: 0 added, 2 removed, 0 changed, 0 relabeled/);
    expect(diff.stdout).toMatch(/#41 removed/);

    const out = path.join(dir, 'out', 'faq.parquet');
    fs.mkdirSync(path.dirname(out)); // an export never creates folders
    const exp = await distillery('datasets', 'export', 'faq@4', '--format', 'parquet', '--split', 'each', '--out', out, '--data-dir', dir);
    expect(exp.stderr.split('\n').filter((l) => l && !l.startsWith('\r') && !/\[run \d+\]/.test(l))).toEqual([]);
    expect(exp.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as { splits: Record<string, number>; files: { file: string }[] };
    expect(manifest.splits).toEqual({ train: 20, validation: 10, test: 10 });
    expect(manifest.files.map((f) => f.file)).toEqual(['faq.train.parquet', 'faq.validation.parquet', 'faq.test.parquet']);
    const back = await distillery('datasets', 'import', path.join(dir, 'out', 'faq.test.parquet'), '--name', 'faq-test', '--json', '--data-dir', dir);
    expect(back.code).toBe(0);
    const shown = JSON.parse((await distillery('datasets', 'show', 'faq-test', '--json', '--data-dir', dir)).stdout) as { version: { exampleCount: number } };
    expect(shown.version.exampleCount).toBe(10);

    const bad = await distillery('datasets', 'split', 'faq', '--train', '0.9', '--val', '0.2', '--test', '0', '--data-dir', dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/sum to 1|ratios/);
  });
});
