import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../helpers/server.js';
import { writeSafetensors } from '../../src-main/core/adapters/safetensors.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { mulberry32 } from '../../src-main/core/random.js';
import type { ModelEntry } from '../../src-shared/domain/models.js';
import type { TrainingManifest } from '../../src-shared/domain/training.js';
import type { RunChain } from '../../src-shared/domain/chain.js';
import { launchBrowser, openPage, screenshot, succeeded } from './browser.js';

// The Train room in Chromium against `distillery serve` on the sample workspace: the sample dataset exported as an
// Axolotl training folder from the form, the export's page (command, files), the same folder refused then replaced, and
// the way back: a watch on the trainer's output folder imports the PEFT adapter once a "trainer" has written it, and the
// watch run's page shows the chain dataset → export → adapter.
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let parent: string;

beforeAll(async () => {
  parent = tempDir();
  server = await startServer(tempDir());
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/models`, errors);
  await page.getByText('tiny-demo-llama').waitFor();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A PEFT LoRA of q_proj for the demo model, written as a trainer would: the config, then the weights in two pieces. */
async function writeAdapterLikeATrainer(dir: string, modelPath: string): Promise<void> {
  const h = readGgufHeader(modelPath);
  const embedding = Number(h.metadata.get('llama.embedding_length'));
  const layers = Number(h.metadata.get('llama.block_count'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], base_model_name_or_path: 'org/tiny-demo' }),
  );
  const next = mulberry32(11);
  const rand = (n: number) => Float32Array.from({ length: n }, () => (next() - 0.5) * 0.2);
  const whole = path.join(tempDir(), 'adapter_model.safetensors');
  writeSafetensors(
    whole,
    Array.from({ length: layers }, (_, l) => [
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, dtype: 'F32' as const, shape: [4, embedding], data: rand(4 * embedding) },
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, dtype: 'F32' as const, shape: [embedding, 4], data: rand(4 * embedding) },
    ]).flat(),
  );
  const bytes = fs.readFileSync(whole);
  const target = path.join(dir, 'adapter_model.safetensors');
  fs.writeFileSync(target, bytes.subarray(0, Math.floor(bytes.length / 2)));
  // the watch sees the half-written file and waits for the rest (it must not import it)
  await page
    .getByTestId('watch-run')
    .getByText(/adapter_model\.safetensors has .* of the .* its header declares/)
    .waitFor({ timeout: 30_000 });
  const adapters = await callValue<unknown[]>(server.url, 'adapters.list', {});
  expect(adapters.length).toBe(0);
  fs.appendFileSync(target, bytes.subarray(Math.floor(bytes.length / 2)));
}

describe('the Train room in Chromium', () => {
  let exportRun: number;
  let outDir: string;

  it('exports the sample dataset as an Axolotl training folder from the form, and shows the command and the files', async () => {
    await page.goto(`${server.url}/#/train`);
    const form = page.getByTestId('training-form');
    await form.getByLabel('Dataset').selectOption('sample-support');
    await form
      .getByTestId('training-plan')
      .getByText(/sample-support@1: \d+/)
      .waitFor();
    await form.getByLabel('Student Hugging Face id').fill('org/tiny-demo');
    await form.getByLabel('LoRA rank').fill('8');
    await form.getByLabel('Export into').fill(parent);
    outDir = (await form.getByTestId('training-folder').locator('code').innerText()).trim();
    expect(path.dirname(outDir)).toBe(parent);
    await screenshot(page, 'train-form');
    await form.getByRole('button', { name: 'Export for Axolotl' }).click();
    await page.waitForURL(/#\/train\/\d+$/);
    exportRun = Number(/#\/train\/(\d+)$/.exec(page.url())![1]);
    await succeeded(page.getByTestId('training-progress'), 60_000);
    const manifest = await callValue<TrainingManifest>(server.url, 'training.manifest', { runId: exportRun });
    expect(manifest.trainer).toBe('axolotl');
    expect(manifest.recipe.loraRank).toBe(8);
    await expect(page.getByTestId('training-command').innerText()).resolves.toContain(manifest.command);
    const rows = page.getByTestId('training-files').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(manifest.files.length);
    for (const f of manifest.files) expect(fs.statSync(path.join(outDir, f.path)).size).toBe(f.bytes);
    const recipe = manifest.files.find((f) => f.path.endsWith('.yaml'))!;
    const yaml = parseYaml(fs.readFileSync(path.join(outDir, recipe.path), 'utf8')) as { lora_r: number; base_model: string };
    expect(yaml).toMatchObject({ lora_r: 8, base_model: 'org/tiny-demo' });
    await screenshot(page, 'train-export');
  });

  it('refuses to write over the folder, and replaces it when asked', async () => {
    await page.goto(`${server.url}/#/train`);
    const form = page.getByTestId('training-form');
    await form.getByLabel('Dataset').selectOption('sample-support');
    await form.getByTestId('training-plan').waitFor();
    await form.getByLabel('Student Hugging Face id').fill('org/tiny-demo');
    await form.getByLabel('Export into').fill(parent);
    await form.getByRole('button', { name: 'Export for Axolotl' }).click();
    const confirm = form.getByTestId('replace-confirm');
    await confirm.getByText('is not empty — replace it as a whole?').waitFor();
    expect(page.url()).toMatch(/#\/train$/);
    await confirm.getByRole('button', { name: 'Replace' }).click();
    await page.waitForURL(/#\/train\/\d+$/);
    const again = Number(/#\/train\/(\d+)$/.exec(page.url())![1]);
    expect(again).not.toBe(exportRun);
    await succeeded(page.getByTestId('training-progress'), 60_000);
    exportRun = again;
    expect(JSON.parse(fs.readFileSync(path.join(outDir, 'distillery-export.json'), 'utf8')).runId).toBe(again);
  });

  it("watches the trainer's output folder, imports the adapter once it is whole, and shows the chain", async () => {
    const models = await callValue<ModelEntry[]>(server.url, 'models.list', {});
    const demo = models.find((m) => m.name === 'tiny-demo-llama')!;
    const watch = page.getByTestId('watch-form');
    await expect(watch.getByLabel('Trainer output folder').inputValue()).resolves.toBe(path.join(outDir, 'outputs', 'adapter'));
    await watch.getByLabel('Base model').selectOption(String(demo.id));
    await watch.getByRole('button', { name: 'Watch for the adapter' }).click();
    const started = watch.getByTestId('watch-run');
    await started.getByText(/waiting for the folder .*outputs\/adapter to appear/).waitFor({ timeout: 30_000 });
    await writeAdapterLikeATrainer(path.join(outDir, 'outputs', 'adapter'), demo.path);
    await succeeded(started, 60_000);
    const adapters = await callValue<{ id: number; name: string }[]>(server.url, 'adapters.list', {});
    expect(adapters.length).toBe(1);
    await started.getByRole('link', { name: /run details/ }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    const watchRun = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    const chain = await callValue<RunChain>(server.url, 'runs.chain', { id: watchRun });
    // dataset → export → watch → adapter, in that order from left to right
    const at = (pred: (s: RunChain['steps'][number]) => boolean) => chain.steps.findIndex(pred);
    const dataset = at((s) => s.kind === 'dataset' && s.label === 'sample-support@1');
    const exported = at((s) => s.run?.id === exportRun);
    const watched = at((s) => s.run?.id === watchRun);
    const adapter = at((s) => s.kind === 'adapter');
    expect([dataset, exported, watched, adapter].every((i) => i >= 0)).toBe(true);
    expect(dataset < exported && exported < watched && watched < adapter).toBe(true);
    expect(chain.links).toContainEqual({ from: `run:${exportRun}`, to: `run:${watchRun}` });
    const steps = page.getByTestId('run-chain').getByTestId('chain-step');
    await steps.filter({ hasText: /Export sample-support@1 for axolotl/ }).waitFor();
    await screenshot(page, 'train-chain');
    // run again from here: the export's form, filled with its settings
    await steps
      .filter({ hasText: /Export sample-support@1 for axolotl/ })
      .getByRole('button', { name: 'Run again from here' })
      .click();
    await page.waitForURL(new RegExp(`#/train/again/${exportRun}$`));
    const form = page.getByTestId('training-form');
    await expect(form.getByLabel('Student Hugging Face id').inputValue()).resolves.toBe('org/tiny-demo');
    await expect(form.getByLabel('Export into').inputValue()).resolves.toBe(parent);
    // the dataset is chosen once the list of datasets has arrived
    await expect.poll(() => form.getByLabel('Dataset').inputValue()).toBe('sample-support');
    // the one refusal asked (409: the folder is not empty) is the only failed request
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 409/.test(e))).toEqual([]);
  });
});

/** A loopback OpenAI-compatible server answering every prompt reversed after `delayMs`; counts what it answered. */
async function endpoint(delayMs: number): Promise<{ url: string; host: string; answered: number; close(): Promise<void> }> {
  const e = { url: '', host: '', answered: 0, close: async () => {} };
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const content = [...(JSON.parse(raw) as { messages: { content: string }[] }).messages.at(-1)!.content].reverse().join('');
      setTimeout(() => {
        e.answered++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 8 },
          }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  e.url = `http://127.0.0.1:${port}/v1`;
  e.host = `127.0.0.1:${port}`;
  e.close = () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r())));
  return e;
}

describe('a teacher fleet from the Distill form', () => {
  it('spreads the prompts over two servers as one teacher and shows each one’s throughput on the run page', async () => {
    const fast = await endpoint(5);
    const slow = await endpoint(120);
    try {
      await page.goto(`${server.url}/#/distill`);
      await page.getByLabel('Dataset', { exact: true }).selectOption('sample-support');
      await page.getByLabel('Teacher', { exact: true }).selectOption('server');
      await page.getByLabel('Teacher URL').fill(fast.url);
      await page.getByLabel('Teacher model name').fill('big');
      await page.getByLabel('Teacher more endpoints').fill(`${slow.url}#big@2`);
      await page.getByLabel('output dataset').fill('fleet-answers');
      await page.getByLabel('reject truncated answers').uncheck();
      await screenshot(page, 'distill-form-fleet');
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForURL(/#\/distill\/\d+$/);
      await succeeded(page.getByTestId('distill-progress'), 120_000);
      // every prompt answered once, by one of the two; the faster answered more
      expect(fast.answered + slow.answered).toBe(24);
      expect(fast.answered).toBeGreaterThan(slow.answered);
      const table = page.getByTestId('distill-fleet');
      await table.getByText(fast.host).waitFor();
      await expect(table.getByRole('row').filter({ hasText: fast.host }).innerText()).resolves.toContain(String(fast.answered));
      await expect(table.getByRole('row').filter({ hasText: slow.host }).innerText()).resolves.toContain(String(slow.answered));
      await screenshot(page, 'distill-fleet');
    } finally {
      await fast.close();
      await slow.close();
    }
  });
});
