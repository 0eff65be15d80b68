import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fixtureBadFiles, fixtureModel } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO, startServer, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, openPage, screenshot } from './browser.js';

let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  server = await startServer(tempDir()); // a fresh data folder: the sample workspace is prepared on first start
  browser = await launchBrowser();
  page = await openPage(browser, `${server.url}/#/models`, errors);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the workbench in Chromium against distillery serve', () => {
  it('starts with the sample model; every room of the navigation is built, an unknown one says so', async () => {
    await page.getByText('tiny-demo-llama').waitFor();
    await expect(page.locator('.nav-item').count()).resolves.toBe(10); // Models, Datasets, Distill, Train, Adapters, Quantize, Evaluate, Runs, Playground, Settings
    await expect(page.locator('.nav-item.planned').count()).resolves.toBe(0);
    await page.goto(`${server.url}/#/evaluate`);
    const form = page.getByTestId('evaluate-form');
    await form.getByLabel('Dataset').waitFor();
    await expect(form.getByLabel('Split').inputValue()).resolves.toBe('test'); // the frozen test split by default
    await page.getByTestId('runs-evaluate.run').or(page.getByText('No evaluation yet.')).waitFor();
    await screenshot(page, 'evaluate-form-empty');
    await page.goto(`${server.url}/#/nowhere`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await expect(page.locator('main').getByRole('link', { name: 'Go to Models' }).getAttribute('href')).resolves.toBe('#/models');
  });

  it('adds a model by path and shows its metadata; refuses a text file with the reason', async () => {
    const teacher = await fixtureModel('teacher');
    const bad = await fixtureBadFiles(tempDir());
    await page.goto(`${server.url}/#/models`);
    await page.getByRole('button', { name: 'Add model' }).click();
    const input = page.getByLabel('Model file path');
    await input.fill(bad.text);
    await page.getByRole('button', { name: 'Inspect' }).click();
    await page.getByRole('alert').filter({ hasText: "notes.txt is not a GGUF file: it starts with bytes 'hell'" }).waitFor();

    await input.fill(teacher);
    await page.getByRole('button', { name: 'Inspect' }).click();
    await page.getByTestId('model-preview').waitFor();
    await page.getByLabel('teacher').check();
    await page.getByRole('button', { name: 'Add to library' }).click();
    await page.getByRole('heading', { name: /Models \/ teacher/ }).waitFor();
    const text = await page.locator('main').innerText();
    for (const expected of [
      'distillery-fixture-teacher',
      'Layers\n4',
      'KV heads\n4',
      'Attention heads\n8',
      'Embedding size\n512',
      '32000 (llama tokenizer)',
      'F16',
      'Chat template\nyes',
    ]) {
      expect(text).toContain(expected);
    }
    await screenshot(page, 'model-detail');
    await page.goto(`${server.url}/#/models`);
    await page.getByTestId('model-row-2').waitFor();
    await expect(page.getByTestId('model-row-2').innerText()).resolves.toMatch(/teacher\s+llama\s+42\.2M\s+85\.2 MB\s+F16\s+2048/);
    await screenshot(page, 'models');
  });

  it('streams a completion token by token into the page', async () => {
    await page.goto(`${server.url}/#/playground/2`);
    await page.getByRole('button', { name: 'Completion' }).click();
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('400');
    await page.getByLabel('Seed').fill('7');
    await page.getByLabel('Prompt').fill('Knowledge distillation is');
    await page.getByRole('button', { name: 'Generate' }).click();
    const output = page.getByTestId('generation-output');
    // Sample the text while it streams: it must grow over several observations before the end.
    const lengths: number[] = [];
    for (let i = 0; i < 200 && !(await page.getByTestId('stop-reason').isVisible()); i++) {
      lengths.push((await output.innerText()).length);
      await page.waitForTimeout(15);
    }
    await page.getByTestId('stop-reason').waitFor();
    const distinctLengths = new Set(lengths);
    expect(distinctLengths.size).toBeGreaterThan(3); // the text grew in several steps, not all at once
    const stats = await page.getByTestId('generation-stats').innerText();
    expect(stats).toMatch(/400 tokens|end of text/);
    expect(stats).toMatch(/first token \d+ ms/);
    expect(stats).toMatch(/\d+\.\d tokens\/s/);
    await screenshot(page, 'playground');
  });

  it('stops a generation mid-way', async () => {
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('4096');
    await page.getByLabel('Seed').fill('');
    await page.getByRole('button', { name: 'Generate' }).click();
    const output = page.getByTestId('generation-output');
    await expect.poll(async () => (await output.innerText()).length, { timeout: 20_000 }).toBeGreaterThan(60);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('stop-reason').filter({ hasText: 'cancelled' }).waitFor({ timeout: 5_000 });
    const tokens = Number(/(\d+) tokens/.exec(await page.getByTestId('generation-stats').innerText())![1]);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThan(4096);
    await screenshot(page, 'playground-stopped');
  });

  it('benchmarks a model as a run and shows it with live status, metrics and a chart', async () => {
    await page.goto(`${server.url}/#/models/2`);
    await page.getByRole('button', { name: 'Benchmark' }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 60_000 });
    const metrics = await page.getByTestId('run-metrics').innerText();
    expect(metrics).toMatch(/generate_tps_mean/);
    expect(metrics).toMatch(/prompt_tps/);
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.getByTestId('run-log').innerText()).toMatch(/Repetition 3: prompt [\d.]+ t\/s/);
    await expect(page.locator('main').innerText()).resolves.toContain('teacher'); // lineage links the model
    await screenshot(page, 'run-detail');
    await page.goto(`${server.url}/#/runs`);
    await page.getByText('models.benchmark').waitFor();
    await expect(page.locator('main').innerText()).resolves.toMatch(/system\.sample/);
    await screenshot(page, 'runs');
  });

  it('imports a dataset with a preview first, then browses it and opens a conversation', async () => {
    const sample = path.join(REPO, 'test', 'datasets', 'samples', 'sharegpt.jsonl');
    await page.goto(`${server.url}/#/datasets`);
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByLabel('Dataset file path').fill(sample);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('import-preview').getByText('Format sharegpt').waitFor();
    await page.getByLabel('Dataset name').fill('support-chats');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('.badge-succeeded').first().waitFor({ timeout: 30_000 });
    await page.goto(`${server.url}/#/datasets`);
    await page.getByTestId('dataset-row-support-chats').click();
    await page.getByTestId('example-2').click();
    const conversation = await page.getByTestId('conversation').innerText();
    expect(conversation).toContain('You are a support agent.');
    expect(conversation).toContain('Thanks, it ships tomorrow.');
    await page.getByLabel('Search examples').fill('printer tray');
    await page.getByLabel('Search examples').press('Enter');
    await page.getByTestId('matching-count').filter({ hasText: '1 matching' }).waitFor();
    await page.getByTestId('example-1').waitFor();
    await expect(page.getByTestId('example-2').count()).resolves.toBe(0);
    await screenshot(page, 'dataset-detail');
  });

  it('settings: the llama.cpp build the engine runs on, building one for this machine, and the threads setting', async () => {
    await page.goto(`${server.url}/#/settings`);
    const engine = page.getByTestId('settings-engine');
    await engine.getByText("node-llama-cpp's prebuilt binary").waitFor();
    const text = await engine.innerText();
    expect(text).toMatch(/Backends\n.*libggml-cpu/);
    expect(text).toContain('OpenMP\nno');
    // cmake and g++ are on this machine: the build is offered, with the toolchain it will use
    await engine.getByRole('button', { name: 'Build for this machine' }).waitFor();
    expect(text).toMatch(/cmake \S+ · compiler \S+/);
    await screenshot(page, 'settings');

    const threads = page.getByLabel('Threads');
    await threads.fill('2');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'back to automatic' }).waitFor();
    const r = await fetch(`${server.url}/api/call/settings.get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(((await r.json()) as { ok: boolean; value: { inferenceThreads: number | null } }).value.inferenceThreads).toBe(2);
    await page.getByRole('button', { name: 'back to automatic' }).click();
    await page.getByRole('button', { name: 'back to automatic' }).waitFor({ state: 'detached' });
    await expect(threads.inputValue()).resolves.toBe('');
  });

  it('logged no page errors', () => {
    // A refused call answers 4xx, which Chromium logs by itself; anything else is a bug.
    expect(errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
    expect(path.basename(server.url)).toMatch(/127\.0\.0\.1:\d+/);
  });
});
