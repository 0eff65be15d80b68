import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobKind } from '../../jobs/types.js';
import { buildEngine } from '../engine-build.js';
import { AppError } from '../../../../src-shared/errors.js';

/** What a fresh process gets from node-llama-cpp now: proof the build loads, and what it was built with. */
function checkBuild(packageDir: string, gpu: 'auto' | 'cpu'): Promise<{ buildType: string; info: string }> {
  const entry = pathToFileURL(path.join(packageDir, 'dist', 'index.js')).href;
  const script =
    `const m = await import(${JSON.stringify(entry)});` +
    `const l = await m.getLlama({ build: 'never', gpu: ${gpu === 'cpu' ? 'false' : "'auto'"}, logLevel: m.LlamaLogLevel.error });` +
    `process.stdout.write(JSON.stringify({ buildType: l.buildType, info: l.systemInfo }));` +
    `await l.dispose();`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { ...process.env, ...(process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : {}) }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err)
          return reject(new AppError('engine_error', `the new build does not load: ${(stderr || err.message).trim().split('\n').slice(-3).join(' · ')}`));
        try {
          resolve(JSON.parse(stdout) as { buildType: string; info: string });
        } catch {
          reject(new AppError('engine_error', `the new build's check printed no result: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}

/**
 * "system.engineBuild": llama.cpp compiled for this machine (engine-build.ts), then loaded once in a fresh process to
 * prove node-llama-cpp picks it up. The running app keeps the library it loaded until it restarts (`onBuilt`).
 */
export function engineBuildJob(onBuilt: () => void): JobKind<'system.engineBuild'> {
  return {
    kind: 'system.engineBuild',
    title: (c) => `Build llama.cpp for this machine${c.gpu === 'cpu' ? ' (CPU only)' : ''}`,
    async run(ctx) {
      const c = ctx.config;
      const started = performance.now();
      let steps = 0;
      ctx.progress(0, null, 'cloning llama.cpp from the source node-llama-cpp ships');
      const made = await buildEngine({
        packageDir: c.packageDir,
        gpu: c.gpu,
        signal: ctx.signal,
        onProgress: (p) => {
          if (p.phase === 'compile') {
            steps = p.total;
            ctx.progress(p.done, p.total, `compiling: ${p.line}`);
          } else if (p.phase === 'clone') ctx.progress(0, null, `cloning llama.cpp: ${p.done}%`);
          else ctx.progress(0, null, 'configuring the build');
        },
      });
      ctx.progress(steps, steps || null, 'checking the new build loads');
      const check = await checkBuild(c.packageDir, c.gpu);
      if (check.buildType !== 'localBuild') {
        throw new AppError(
          'engine_error',
          `node-llama-cpp still loads its ${check.buildType} binary after the build (${made.join(', ')}): the build is not compatible with this machine`,
        );
      }
      const seconds = (performance.now() - started) / 1000;
      ctx.metric('seconds', seconds);
      ctx.metric('steps', steps);
      for (const b of made) ctx.lineage('output', 'file', path.join(c.packageDir, 'llama', 'localBuilds', b), b);
      ctx.log('info', `Built ${made.join(', ')} in ${(seconds / 60).toFixed(1)} min: ${check.info.trim()}`);
      ctx.log('info', 'Restart Distillery to use it (the running app keeps the library it loaded).');
      onBuilt();
    },
  };
}
