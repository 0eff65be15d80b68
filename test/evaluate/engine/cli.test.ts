import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureAdapter, fixtureModel } from '../../fixtures/models.js';
import { runCli } from '../../helpers/cli.js';
import { makeWorkspace, tempDir } from '../../helpers/workspace.js';
import type { ContaminationSummary, EvalReport } from '../../../src-shared/domain/evaluate.js';
import { intervalText } from '../../../src-main/cli/evaluate-text.js';

/**
 * `distillery evaluate` from a terminal (the commands run in this process, test/helpers/cli.ts): the fixture student
 * against the fixture teacher on a frozen test split, real inference on the native path, real SQLite. The data folder
 * is prepared through the contract (a dataset with a planted 13-gram overlap between one test example and the train
 * split, and a distillation run's answers), then released so each command can own it.
 */
const dir = tempDir();
let student: string;
let teacher: string;
let planted: number;
/** The test split's examples: position and reference answer. */
let testRows: { position: number; reference: string }[];
const TEST = 3;
// 16 words two examples share: one of them ends up in the test split, the other in train
const PHRASE = 'please restart the blue laser printer on the third floor before calling the help desk again';
const DEVICES = ['scanner', 'router', 'monitor', 'keyboard', 'laptop', 'projector', 'phone', 'camera', 'speaker', 'badge reader'];

beforeAll(async () => {
  student = await fixtureModel('student');
  teacher = await fixtureModel('teacher');
  const ws = makeWorkspace({ dataDir: dir });
  try {
    const c = ws.client;
    const studentId = (await c.call('models.add', { path: student })).id;
    const teacherId = (await c.call('models.add', { path: teacher })).id;
    await c.call('adapters.import', { path: await fixtureAdapter('student-lora'), baseModelId: studentId, name: 'student-lora' });
    const file = path.join(tempDir(), 'support.jsonl');
    const rows = DEVICES.map((d, i) => ({
      prompt: `Ticket ${i}: my ${d} in room ${100 + i} blinks${i < 2 ? `, and I was told to ${PHRASE}` : ''}. What now?`,
      completion: `Unplug the ${d} for ${i + 2} minutes.`,
    }));
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    await ws.app.runner.waitFor((await c.call('datasets.import', { path: file, name: 'support' })).runId);
    // a seed that puts exactly one of the two planted examples in the test split (bounded: the split is seeded)
    const withPhrase = async (split: 'test' | 'train') =>
      (await c.call('datasets.examples', { name: 'support', offset: 0, limit: 50, filter: { split } })).rows.filter((r) =>
        JSON.stringify(r.messages).includes(PHRASE),
      );
    let found = false;
    for (let seed = 1; seed <= 100 && !found; seed++) {
      await c.call('datasets.split', { name: 'support', counts: { test: TEST }, seed });
      const inTest = await withPhrase('test');
      found = inTest.length === 1 && (await withPhrase('train')).length === 1;
      if (found) planted = inTest[0]!.position;
    }
    expect(found).toBe(true);
    testRows = (await c.call('datasets.examples', { name: 'support', offset: 0, limit: 50, filter: { split: 'test' } })).rows.map((r) => ({
      position: r.position,
      reference: r.messages.at(-1)!.content,
    }));
    await c.call('datasets.commit', { name: 'support', message: 'split' });
    // the teacher's answers to the test split, kept as a dataset (answers:trial)
    const { runId } = await c.call('distill.start', {
      dataset: 'support',
      split: 'test',
      teacher: { modelId: teacherId },
      generation: { samples: 1, temperature: 0, maxTokens: 6, seed: 1 },
      filters: { truncated: false },
      parallel: 2,
      outName: 'trial',
    });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
  } finally {
    await ws.close();
  }
}, 300_000);

const common = ['--max-tokens', '6', '--parallel', '2', '--data-dir', dir];

describe('distillery evaluate', () => {
  let runId: number;
  let printed: string;

  it('scores a student and a distillation run against the teacher and prints the leaderboard, differences and systems', async () => {
    const r = await runCli('evaluate', '--dataset', 'support', '--variant', student, '--variant', 'answers:trial', '--teacher', teacher, ...common);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[run \d+\] running/);
    runId = Number(/^Evaluation run (\d+) \(succeeded\): support@2 test split, 3 examples/.exec(r.stdout)![1]);
    // the printed figures are the report's
    const json = await runCli('evaluate', 'report', String(runId), '--format', 'json', '--data-dir', dir);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as EvalReport;
    expect(report.leaderboard.map((row) => [row.label, row.answered, row.isTeacher])).toEqual([
      ['student', TEST, false],
      ['trial@1', TEST, false],
      ['teacher', TEST, true],
    ]);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('METRIC (mean [95% CI])'))).toMatch(/1 student\s+2 trial@1\s+3 teacher \(teacher\)$/);
    const chrf = lines.find((l) => l.startsWith('chrF '))!;
    for (const row of report.leaderboard) expect(chrf).toContain(intervalText(row.metrics.chrf, 2));
    const diff = lines.slice(lines.findIndex((l) => l.startsWith('VARIANT − TEACHER'))).find((l) => l.startsWith('Token F1'))!;
    expect(diff).toContain(intervalText(report.leaderboard[0]!.vsTeacher.f1, 3, true));
    for (const s of report.sentences) expect(r.stdout).toContain(s);
    expect(report.sentences.some((s) => s.startsWith('student is ') && s.includes('teacher on chrF'))).toBe(true);
    printed = r.stdout;
    // systems measured for the two local models, n/a for stored answers
    const systems = lines.slice(lines.findIndex((l) => l.startsWith('SYSTEMS')));
    expect(systems.find((l) => l.startsWith('1 student'))).toMatch(/^1 student\s+\d+(\.\d)?[KM]\s+\d+\.\d MB\s+\d+\.\d\d/);
    expect(systems.find((l) => l.startsWith('2 trial@1'))).toMatch(/^2 trial@1\s+n\/a\s+n\/a/);
  }, 300_000);

  it('--json prints the report; a student with an adapter at a scale; report --format csv --out writes the file once', async () => {
    const r = await runCli(
      'evaluate',
      '--dataset',
      'support@2:test',
      '--variant',
      `${student}+student-lora:0.5`,
      '--teacher',
      teacher,
      '--metrics',
      'exact,chrf',
      '--no-divergence',
      '--no-systems',
      '--limit',
      '2',
      '--json',
      ...common,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as EvalReport;
    expect(report).toMatchObject({ status: 'succeeded', dataset: 'support@2', split: 'test', examples: 2, metrics: ['exact', 'chrf'], divergence: [] });
    expect(report.variants.map((v) => [v.label, v.kind, v.isTeacher])).toEqual([
      ['student + student-lora×0.5', 'model', false],
      ['teacher', 'model', true],
    ]);
    expect(report.leaderboard[0]!.metrics.chrf!.n).toBe(2);

    const out = path.join(tempDir(), 'board.csv');
    const wrote = await runCli('evaluate', 'report', String(report.runId), '--format', 'csv', '--table', 'leaderboard', '--out', out, '--data-dir', dir);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stderr).toBe(`wrote ${out}\n`);
    const printed = await runCli('evaluate', 'report', String(report.runId), '--format', 'csv', '--table', 'leaderboard', '--data-dir', dir);
    expect(fs.readFileSync(out, 'utf8')).toBe(printed.stdout);
    const csv = printed.stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^variant,answered,failed,Exact match \(95% CI\),chrF \(95% CI\)/);
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['student + student-lora×0.5', 'teacher (teacher)']);
    // not over an existing file without --force, never over the library's own files
    const again = await runCli('evaluate', 'report', String(report.runId), '--format', 'md', '--out', out, '--data-dir', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`distillery: ${out} already exists; choose another name or ask to replace it (--force)\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe(printed.stdout);
    const forced = await runCli('evaluate', 'report', String(report.runId), '--format', 'md', '--out', out, '--force', '--data-dir', dir);
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^# Evaluation \d+: support@2 \(test\), 2 examples/);
    const own = await runCli(
      'evaluate',
      'report',
      String(report.runId),
      '--format',
      'md',
      '--out',
      path.join(dir, 'distillery.db'),
      '--force',
      '--data-dir',
      dir,
    );
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/^distillery: .*distillery\.db is one of Distillery's own files/);
  }, 300_000);

  it('a predictions file is a variant; --regex and --schema add their metrics; bad lines are warnings; --contamination', async () => {
    const work = tempDir();
    const preds = path.join(work, 'preds.jsonl');
    const lines = testRows.map((t) => JSON.stringify({ id: t.position, prediction: t.reference }));
    fs.writeFileSync(preds, [...lines, JSON.stringify({ id: 999, prediction: 'nope' })].join('\n'));
    const schema = path.join(work, 'schema.json');
    fs.writeFileSync(schema, JSON.stringify({ type: 'object' }));
    const r = await runCli(
      'evaluate',
      '--dataset',
      'support',
      '--variant',
      `predictions:${preds}`,
      '--regex',
      'minutes\\.$',
      '--schema',
      schema,
      '--contamination',
      'support',
      '--data-dir',
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const row = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    expect(row('METRIC (mean [95% CI])')).toMatch(/1 preds\.jsonl$/);
    expect(row('answered (failed)')).toMatch(/ 3 \(0\)$/);
    expect(row('Exact match')).toMatch(/ 1\.000 \[1\.000, 1\.000\]$/);
    expect(row('Regex')).toMatch(/ 1\.000 \[1\.000, 1\.000\]$/);
    expect(row('Schema match')).toMatch(/ 0\.000 \[0\.000, 0\.000\]$/);
    expect(r.stdout).toContain(`  ${preds}: line ${lines.length + 1}: id 999 is not an example of the split`);
    // --contamination support: the evaluated dataset's train split; the board again without the flagged example
    expect(r.stdout).toContain(`Contamination (13-grams against support@2): 1 of 3 examples flagged; positions ${planted}\n`);
    const clean = r.stdout.split('\n').slice(r.stdout.split('\n').indexOf('Without the flagged examples:'));
    expect(clean.find((l) => l.startsWith('answered (failed) '))).toMatch(/ 2 \(0\)$/);
  });

  it('send-to-curation tags examples of the run in the working copy', async () => {
    const r = await runCli(
      'evaluate',
      'send-to-curation',
      String(runId),
      '--variant',
      '1',
      '--positions',
      String(planted),
      '--tag',
      'hard',
      '--json',
      '--data-dir',
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ affected: 1, skipped: 0, draft: { number: 3 } });
    const shown = JSON.parse((await runCli('datasets', 'show', 'support', '--json', '--data-dir', dir)).stdout) as {
      draft: { operations: { label: string }[] };
    };
    expect(shown.draft.operations.map((o) => o.label)).toEqual([expect.stringMatching(/hard/)]);
    // stored answers have no divergence to rank by
    const none = await runCli('evaluate', 'send-to-curation', String(runId), '--variant', '2', '--top', '2', '--data-dir', dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`distillery: run ${runId} has no divergence figures for variant 2\n`);
    const both = await runCli('evaluate', 'send-to-curation', String(runId), '--variant', '1', '--top', '2', '--positions', '1', '--data-dir', dir);
    expect(both.stderr).toBe('distillery: give either --top N or --positions 1,2,3\n');
  });

  // Teacher-forced divergence of the student (needs the fixture's chat template to end the assistant turn: see the
  // engine test test/evaluate/engine/run.test.ts, which asserts the same figures through the contract).
  it('prints the divergence of the student from the teacher and tags the most divergent examples', async () => {
    const report = JSON.parse((await runCli('evaluate', 'report', String(runId), '--format', 'json', '--data-dir', dir)).stdout) as EvalReport;
    expect(report.divergence.map((d) => [d.variant, d.examples])).toEqual([[0, TEST]]);
    const line = printed.split('\n').find((l) => l.startsWith('1 student') && l.includes('full distributions'));
    expect(line).toContain(intervalText(report.divergence[0]!.kldInterval, 4));
    const r = await runCli('evaluate', 'send-to-curation', String(runId), '--variant', '1', '--top', '2', '--tag', 'diverges', '--json', '--data-dir', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ affected: 2 });
  });

  it('contamination flags the test example whose 13-grams are in the train split, and no other', async () => {
    const r = await runCli('evaluate', 'contamination', '--eval', 'support:test', '--against', 'support', '--json', '--data-dir', dir);
    expect(r.code, r.stderr).toBe(0);
    const found = JSON.parse(r.stdout) as ContaminationSummary;
    expect(found).toEqual({ n: 13, against: ['support@2'], checked: TEST, flagged: 1, positions: [planted] });
    // the longest run of words the two planted examples share is 26 ("blinks, and I was told to <16 words>. What now?"
    // and the answer's "Unplug the"): flagged with 26-grams, not with 27-grams
    for (const [n, flagged] of [
      ['26', `1 of 3 examples flagged; positions ${planted}`],
      ['27', '0 of 3 examples flagged'],
    ]) {
      const text = await runCli('evaluate', 'contamination', '--eval', 'support@2:test', '--against', 'support@2:train', '--n', n!, '--data-dir', dir);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^run \\d+: Contamination \\(${n}-grams against support@2\\): ${flagged}\n$`));
    }
    const shown = await runCli('evaluate', 'contamination', '--eval', 'support:test', '--against', 'support:train', '--data-dir', dir);
    expect(shown.stdout).toContain(`1 of 3 examples flagged; positions ${planted}\n`);
  });

  it('a server SPEC asks the server at its URL for the model after #; a server that is not there fails the run, resumable', async () => {
    const r = await runCli('evaluate', '--dataset', 'support', '--variant', 'http://127.0.0.1:9/v1#some-model', '--limit', '1', '--data-dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^distillery: run \d+ failed: some-model at 127\.0\.0\.1:9 stopped answering \(http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions could not be reached after \d+ attempts.*resume the run when the server is back$/,
    );
  });

  it('refuses a bad SPEC in one line naming the argument', async () => {
    const nowhere = path.join(tempDir(), 'none.gguf');
    const cases: [string, string, RegExp][] = [
      ['--variant', 'http://127.0.0.1:9/v1', /name the server's model after #/],
      ['--variant', 'http://127.0.0.1:9/v1#qwen%zz', /the model name after # is not valid percent-encoding/],
      ['--variant', 'answers:', /name the dataset a distillation run made/],
      ['--variant', 'answers:support', /support@2 was (not made by a run|made by run \d+, a [\w.]+ run), .*not a distillation|no distillation answers/],
      ['--variant', 'answers:trial@x', /the version after @ must be a positive number/],
      ['--variant', 'answers:trial', /trial@1 holds the answers to support@2's prompts, not to other's/],
      ['--variant', `predictions:${nowhere}.jsonl`, /no such file/],
      ['--variant', nowhere, /no model file .*none\.gguf; give a model id or GGUF file/],
      ['--variant', `${student}+`, /an empty adapter after \+/],
      ['--variant', `${student}+student-lora:loud`, /the scale of adapter student-lora must be a number, not "loud"/],
      ['--variant', `${student}+nope`, /adapter nope: no adapter named nope in the library/],
      ['--teacher', 'predictions:', /name the file/],
    ];
    for (const [flag, spec, reason] of cases) {
      const other = flag === '--teacher' ? ['--variant', student] : [];
      const dataset = spec === 'answers:trial' ? 'other' : 'support';
      const r = await runCli('evaluate', '--dataset', dataset, ...other, flag, spec, '--data-dir', dir);
      expect(r.code, spec).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.startsWith(`distillery: ${flag} ${spec}: `), r.stderr).toBe(true);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
    }
    const judge = await runCli('evaluate', '--dataset', 'support', '--variant', student, '--judge', 'answers:trial', '--rubric', 'x', '--data-dir', dir);
    expect(judge.stderr).toBe('distillery: --judge answers:trial: the judge is a model id or GGUF file (without adapters), or http(s)://host/v1#model\n');
    const key = await runCli('evaluate', '--dataset', 'support', '--variant', student, '--api-key-env', 'KEY', '--data-dir', dir);
    expect(key.stderr).toMatch(/^distillery: --api-key-env and --api-key-secret are for http\(s\) variants; none was given/);
    const metric = await runCli('evaluate', '--dataset', 'support', '--variant', student, '--metrics', 'exact,bleu', '--data-dir', dir);
    expect(metric.stderr).toBe(
      'distillery: --metrics: "bleu" is not a metric; choose from exact, contains, regex, f1, rougeL, chrf, json, schema, judge, pairwise\n',
    );
  });
});
