import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineBuildState, nodeLlamaCppDir } from '../../src-main/core/system/engine-build.js';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { runCli } from '../helpers/cli.js';

/**
 * Building llama.cpp for this machine. The build goes into a COPY of node-llama-cpp (its own llama/ folder) with the
 * other packages linked, so the tests never change the node_modules everything else runs on. A whole build takes
 * minutes on 2 cores: here a real build is started, seen compiling, and cancelled (the full build is measured by hand:
 * docs/performance.md).
 */
let copy: string;
let ws: Workspace;

/** node_modules/ with every package linked, node-llama-cpp copied. */
function nodeModulesWithOwnNodeLlamaCpp(): string {
  const real = path.dirname(nodeLlamaCppDir());
  const root = path.join(tempDir('distillery-nlc-'), 'node_modules');
  fs.mkdirSync(root);
  for (const name of fs.readdirSync(real)) {
    if (name === 'node-llama-cpp' || name === '.bin') continue;
    fs.symlinkSync(path.join(real, name), path.join(root, name));
  }
  execFileSync('cp', ['-a', path.join(real, 'node-llama-cpp'), root]);
  return path.join(root, 'node-llama-cpp');
}

/** Processes whose command line or working folder is inside `dir` (from /proc: no ps needed). */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(dir) || cwd.startsWith(dir)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

beforeAll(() => {
  copy = nodeModulesWithOwnNodeLlamaCpp();
  ws = makeWorkspace({ nodeLlamaCppDir: copy });
});
afterAll(async () => {
  await ws?.close();
  if (copy) fs.rmSync(path.dirname(path.dirname(copy)), { recursive: true, force: true });
});

describe('the llama.cpp build the engine runs on', () => {
  it('names the prebuilt binary node-llama-cpp loaded, its CPU variant and features', async () => {
    const s = await ws.client.call('system.engineBuildState', {});
    expect(s.binary?.origin).toBe('prebuilt');
    expect(s.binary?.release).toMatch(/^v?\d|^b\d/);
    expect(s.binary?.backends.some((b) => /ggml-cpu/.test(b))).toBe(true);
    expect(fs.existsSync(s.binary!.folder)).toBe(true);
    expect(s.binary?.features).toMatch(/CPU : /);
    expect(s.packageDir).toBe(copy);
    expect(s.localBuilds).toEqual([]);
    expect(s.restartNeeded).toBe(false);
    // this machine has cmake and g++ (CI installs them for the llama.cpp tools)
    expect(s.cannotBuild).toBeNull();
    const info = await ws.client.call('system.info', {});
    expect(info.engine.binary).toEqual(s.binary);
  });

  it('says why it cannot build: no cmake, no compiler, no source, a read-only package', () => {
    expect(engineBuildState(copy, { PATH: '' }).cannotBuild).toMatch(/^cmake was not found on PATH/);
    const onlyCmake = tempDir();
    fs.symlinkSync(engineBuildState(copy).cmake!, path.join(onlyCmake, 'cmake'));
    expect(engineBuildState(copy, { PATH: onlyCmake }).cannotBuild).toMatch(/^no C\+\+ compiler was found on PATH/);
    const empty = path.join(tempDir(), 'node-llama-cpp');
    fs.mkdirSync(path.join(empty, 'llama'), { recursive: true });
    expect(engineBuildState(empty).cannotBuild).toBe(
      `${path.join(empty, 'llama')} has no gitRelease.bundle: this node-llama-cpp ships no llama.cpp source to build`,
    );
  });

  it('refuses to start a build that cannot work, naming the reason, and records no run', async () => {
    const empty = path.join(tempDir(), 'node-llama-cpp');
    fs.mkdirSync(path.join(empty, 'llama'), { recursive: true });
    const other = makeWorkspace({ nodeLlamaCppDir: empty, runJobs: false });
    try {
      await expect(other.client.call('system.engineBuild', { gpu: 'cpu' })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('has no gitRelease.bundle') as string,
      });
      expect(await other.client.call('runs.list', { kind: 'system.engineBuild' })).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('builds from the bundled source with progress per compile step; cancel stops every process and leaves no build', async () => {
    const { runId } = await ws.client.call('system.engineBuild', { gpu: 'cpu' });
    await expect(ws.client.call('system.engineBuild', { gpu: 'cpu' })).rejects.toMatchObject({ code: 'conflict' });
    // cloned from the bundle (offline), configured, then compiling: "[n/N] Building ..."
    await waitUntil(
      async () => {
        const r = await ws.client.call('runs.get', { id: runId });
        if (r.status === 'failed') throw new Error(`the build failed: ${r.error}`);
        return r.progress.message.startsWith('compiling:') && (r.progress.total ?? 0) > 50;
      },
      240_000,
      'the build to compile',
    );
    expect(fs.existsSync(path.join(copy, 'llama', 'llama.cpp', 'CMakeLists.txt'))).toBe(true);
    const compilers = () => processesIn(copy);
    await ws.client.call('runs.cancel', { id: runId });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('cancelled');
    await waitUntil(() => compilers().length === 0, 20_000, 'the compilers to stop');
    expect(fs.readdirSync(path.join(copy, 'llama', 'localBuilds'))).toEqual([]);
    const s = await ws.client.call('system.engineBuildState', {});
    expect(s.localBuilds).toEqual([]);
    expect(s.restartNeeded).toBe(false);
  }, 300_000);

  it('`distillery engine info` prints the build and whether one can be made here', async () => {
    const r = await runCli('engine', 'info', '--data-dir', tempDir(), '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { engine: { binary: { origin: string; backends: string[] } }; build: { cannotBuild: string | null } };
    expect(out.engine.binary.origin).toBe('prebuilt');
    expect(out.engine.binary.backends.length).toBeGreaterThan(0);
    expect(out.build.cannotBuild).toBeNull();
  });
});
