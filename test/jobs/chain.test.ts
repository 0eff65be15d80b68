import { afterEach, describe, expect, it } from 'vitest';
import type { JobKindName } from '../../src-shared/contract/index.js';
import type { LineageLink } from '../../src-shared/domain/runs.js';
import type { RunChain } from '../../src-shared/domain/chain.js';
import { DatasetsService } from '../../src-main/core/datasets/service.js';
import { runChain } from '../../src-main/core/runs/chain.js';
import { nowIso } from '../../src-main/core/store/db.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';
import { runCli } from '../helpers/cli.js';

// The chain is read from what runs record (their lineage rows) and from the dataset versions: runs are written through
// the runs store as a job's context writes them, versions through the datasets service (made by a run, curated by hand).

const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close();
});

function setup({ runJobs = false } = {}) {
  const ws = makeWorkspace({ runJobs });
  open.push(ws);
  const runs = ws.app.runner.store;
  const datasets = new DatasetsService(ws.app.db, ws.app.runner, ws.dir);
  /** A finished run of `kind` with its lineage rows. Kinds the contract does not have yet (training.export…) are stored by name: the chain reads any kind. */
  const run = (kind: string, title: string, links: [LineageLink['direction'], LineageLink['kind'], string, string][]) => {
    const id = runs.insert(kind as JobKindName, title, {}, nowIso());
    for (const [direction, k, ref, label] of links) runs.addLineage(id, { direction, kind: k, ref, label });
    runs.finish(id, 'succeeded', null, nowIso());
    return id;
  };
  const examples = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      messages: [
        { role: 'user' as const, content: `question ${i}` },
        { role: 'assistant' as const, content: `answer ${i}` },
      ],
      reference: `answer ${i}`,
    }));
  return { ws, runs, datasets, run, examples };
}

/** The whole loop: prompts → teacher → answers → curation → export → adapter → merged → quantized → evaluation. */
function loop() {
  const t = setup();
  const { run, datasets, examples } = t;
  const sample = run('system.sample', 'Sample workspace', [['output', 'model', '1', 'teacher-demo']]);
  const imp = run('datasets.import', 'Import prompts.jsonl', [
    ['input', 'file', '/data/prompts.jsonl', 'prompts.jsonl'],
    ['output', 'dataset', 'prompts', 'prompts@1'],
  ]);
  datasets.createFromRun('prompts', 'import', imp, examples(4), () => undefined);
  const distill = run('distill.generate', 'Distill prompts → answers', [
    ['input', 'dataset', 'prompts', 'prompts@1'],
    ['input', 'model', '1', 'teacher-demo'],
    ['input', 'model', '9', 'judge-model (judge)'],
    ['output', 'dataset', 'answers', 'answers@1'],
  ]);
  datasets.createFromRun('answers', `distilled by run ${distill}`, distill, examples(4), () => undefined);
  datasets.curate('answers', { positions: [1] }, { kind: 'delete' });
  expect(datasets.commit('answers', 'drop a bad answer').number).toBe(2);
  // a sibling: another distillation of the same prompts is not on the first one's chain
  const sibling = run('distill.generate', 'Distill prompts → other', [
    ['input', 'dataset', 'prompts', 'prompts@1'],
    ['input', 'model', '1', 'teacher-demo'],
    ['output', 'dataset', 'other', 'other@1'],
  ]);
  const exp = run('training.export', 'Export answers@2 for axolotl', [
    ['input', 'dataset', 'answers', 'answers@2'],
    ['output', 'file', '/out/train', 'train'],
  ]);
  const watch = run('adapters.watch', 'Watch /out/train/adapter', [
    ['input', 'file', '/out/train/adapter', 'adapter'],
    ['input', 'run', String(exp), `run ${exp}`],
    ['input', 'dataset', 'answers', 'answers@2'],
    ['input', 'model', '2', 'student-f16'],
    ['output', 'adapter', '7', 'answers-lora'],
  ]);
  const merge = run('adapters.merge', 'Merge answers-lora into student-f16', [
    ['input', 'model', '2', 'student-f16'],
    ['input', 'adapter', '7', 'answers-lora ×1'],
    ['output', 'model', '3', 'student-merged'],
  ]);
  const quant = run('quantize.ladder', 'Quantize student-merged', [
    ['input', 'model', '3', 'student-merged'],
    ['output', 'file', '/models/student-merged-Q8_0.gguf', 'student-merged-Q8_0.gguf'],
    ['output', 'model', '4', 'student-merged-Q8_0.gguf'],
  ]);
  const evaluate = run('evaluate.run', 'Evaluate on answers@2', [
    ['input', 'dataset', 'answers', 'answers@2'],
    ['input', 'model', '4', 'student-merged-Q8_0.gguf'],
    ['input', 'model', '1', 'teacher-demo'],
  ]);
  return { ...t, ids: { sample, imp, distill, sibling, exp, watch, merge, quant, evaluate } };
}

const keys = (c: RunChain) => c.steps.map((s) => s.key);
const before = (c: RunChain, a: string, b: string) => {
  const step = (k: string) => c.steps.find((s) => s.key === k) ?? expect.unreachable(`no step ${k} in ${keys(c).join(', ')}`);
  expect(step(a).depth, `${a} before ${b}`).toBeLessThan(step(b).depth);
  expect(keys(c).indexOf(a)).toBeLessThan(keys(c).indexOf(b));
};

describe('a run’s chain (runs.chain)', () => {
  it('follows a distillation upstream to its prompts and teacher and downstream through curation, export, adapter, quantization and evaluation', async () => {
    const { ws, ids } = loop();
    const chain = (await ws.client.call('runs.chain', { id: ids.distill })) as RunChain;
    const order = [
      `run:${ids.imp}`,
      'dataset:prompts@1',
      `run:${ids.distill}`,
      'dataset:answers@1',
      'curation:answers@2',
      'dataset:answers@2',
      `run:${ids.exp}`,
      `run:${ids.watch}`,
      'adapter:7',
      `run:${ids.merge}`,
      'model:3',
      `run:${ids.quant}`,
      'model:4',
      `run:${ids.evaluate}`,
    ];
    for (let i = 1; i < order.length; i++) before(chain, order[i - 1]!, order[i]!);
    before(chain, `run:${ids.exp}`, 'file:/out/train');
    before(chain, `run:${ids.sample}`, 'model:1');
    before(chain, 'model:1', `run:${ids.distill}`);
    // the judge is an input of the distillation; the sibling run and its output are not on this chain
    expect(keys(chain)).toContain('model:9');
    expect(keys(chain)).not.toContain(`run:${ids.sibling}`);
    expect(keys(chain)).not.toContain('dataset:other@1');
    // upstream stops at what led to the run: the student base is an input downstream, not a step
    expect(keys(chain)).not.toContain('model:2');
    expect(chain.truncated).toBe(false);

    const step = (k: string) => chain.steps.find((s) => s.key === k)!;
    expect(step('curation:answers@2')).toMatchObject({ kind: 'curation', label: 'curation: answers@1 → @2', href: '#/datasets/answers/diff/1..2' });
    expect(step('dataset:answers@2')).toMatchObject({ kind: 'dataset', label: 'answers@2', href: '#/datasets/answers@2' });
    expect(step('model:9')).toMatchObject({ label: 'judge-model', href: '#/models/9' });
    expect(step('adapter:7')).toMatchObject({ label: 'answers-lora', href: '#/adapters' });
    expect(step('file:/out/train')).toMatchObject({ kind: 'file', label: 'train', href: null });
    expect(step(`run:${ids.distill}`)).toMatchObject({
      label: 'Distill prompts → answers',
      href: `#/runs/${ids.distill}`,
      run: { id: ids.distill, kind: 'distill.generate', status: 'succeeded', runAgain: `#/distill/again/${ids.distill}` },
    });
    expect(step(`run:${ids.quant}`).run?.runAgain).toBe(`#/quantize/again/${ids.quant}`);
    expect(step(`run:${ids.evaluate}`).run?.runAgain).toBe(`#/evaluate/again/${ids.evaluate}`);
    expect(step(`run:${ids.merge}`).run?.runAgain).toBeNull();
    expect(step(`run:${ids.exp}`).run?.runAgain).toBe(`#/train/again/${ids.exp}`);
    // the export links to the watch both through the run input and through nothing else (its folder differs)
    expect(chain.links).toContainEqual({ from: `run:${ids.exp}`, to: `run:${ids.watch}` });
    expect(chain.links).toContainEqual({ from: 'dataset:answers@1', to: 'curation:answers@2' });
    expect(chain.links).toContainEqual({ from: 'curation:answers@2', to: 'dataset:answers@2' });
    // every link joins two steps of the chain
    for (const l of chain.links) expect(keys(chain)).toEqual(expect.arrayContaining([l.from, l.to]));
  });

  it('reads the same chain from the evaluation at its end, upstream only', () => {
    const { runs, datasets, ids } = loop();
    const chain = runChain(ids.evaluate, { runs, datasets });
    for (const k of [`run:${ids.distill}`, 'curation:answers@2', `run:${ids.watch}`, `run:${ids.quant}`, 'dataset:prompts@1', 'model:1'])
      expect(keys(chain)).toContain(k);
    expect(chain.steps.at(-1)!.key).toBe(`run:${ids.evaluate}`);
    // the teacher is also an input of the evaluation: one step, linked to both
    expect(keys(chain).filter((k) => k === 'model:1')).toHaveLength(1);
    expect(chain.links).toContainEqual({ from: 'model:1', to: `run:${ids.evaluate}` });
    expect(keys(chain)).not.toContain(`run:${ids.sibling}`);
  });

  it('a version a run made from another (dedupe) links through that run, not a curation step', async () => {
    const { ws, run, runs, datasets, examples } = setup({ runJobs: true });
    const imp = run('datasets.import', 'Import', [['output', 'dataset', 'd', 'd@1']]);
    datasets.createFromRun('d', 'import', imp, [...examples(2), ...examples(2)], () => undefined);
    const { runId } = datasets.startDedupe('d', undefined, true, 'deduped');
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(datasets.resolve('d', 2).version.runId).toBe(runId);
    const chain = runChain(imp, { runs, datasets });
    expect(keys(chain)).toEqual([`run:${imp}`, 'dataset:d@1', `run:${runId}`, 'dataset:d@2']);
  });

  it('is bounded: a chain longer than its limits is cut and says so, without recursion', () => {
    const { run, runs, datasets } = setup();
    // 600 runs, each reading the previous one's version and writing the next
    const first = run('datasets.dedupe', 'step 0', [['output', 'dataset', 'long', 'long@1']]);
    for (let i = 1; i < 600; i++) {
      run('datasets.dedupe', `step ${i}`, [
        ['input', 'dataset', 'long', `long@${i}`],
        ['output', 'dataset', 'long', `long@${i + 1}`],
      ]);
    }
    // by default: 40 links downstream
    const chain = runChain(first, { runs, datasets });
    expect(chain.truncated).toBe(true);
    expect(chain.steps).toHaveLength(41);
    expect(chain.steps.map((s) => s.depth)).toEqual(chain.steps.map((_, i) => i));
    const few = runChain(first, { runs, datasets }, { steps: 10, hops: 1000 });
    expect(few.steps).toHaveLength(10);
    expect(few.truncated).toBe(true);
    const near = runChain(first, { runs, datasets }, { steps: 1000, hops: 3 });
    expect(keys(near)).toEqual([`run:${first}`, 'dataset:long@1', `run:${first + 1}`, 'dataset:long@2']);
    expect(near.truncated).toBe(true);
    // a run with no lineage at all is a chain of one
    const alone = run('models.benchmark', 'alone', []);
    expect(runChain(alone, { runs, datasets })).toEqual({
      runId: alone,
      steps: [
        { key: `run:${alone}`, kind: 'run', label: 'alone', href: `#/runs/${alone}`, depth: 0, run: expect.objectContaining({ id: alone, runAgain: null }) },
      ],
      links: [],
      truncated: false,
    });
  });

  it('distillery runs chain prints the steps column by column, the run marked', async () => {
    const { ws, ids } = loop();
    await ws.close();
    open.splice(0);
    const text = await runCli('runs', 'chain', String(ids.quant), '--data-dir', ws.dir);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines.find((l) => l.includes('◀ this run'))).toMatch(
      new RegExp(`^ +\\d+  quantize.ladder #${ids.quant} succeeded +Quantize student-merged  ◀ this run$`),
    );
    expect(lines.findIndex((l) => l.includes('curation: answers@1 → @2'))).toBeLessThan(lines.findIndex((l) => l.includes(`adapters.watch #${ids.watch}`)));
    const json = await runCli('runs', 'chain', String(ids.quant), '--json', '--data-dir', ws.dir);
    expect((JSON.parse(json.stdout) as RunChain).steps.map((s) => s.key)).toContain(`run:${ids.evaluate}`);
    const missing = await runCli('runs', 'chain', '4242', '--data-dir', ws.dir);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('there is no run 4242') as string });
  });

  it('refuses a run that does not exist', async () => {
    const { ws } = setup();
    await expect(ws.client.call('runs.chain', { id: 4242 })).rejects.toThrow(/there is no run 4242/);
  });
});
