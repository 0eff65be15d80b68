import { useState } from 'react';
import type { EngineBinary } from '../../../src-shared/contract/system.js';
import { navigate } from '../../app/router.js';
import { ErrorBanner, Fields, Page } from '../../ui/components.js';
import { RunList } from '../../ui/RunList.js';
import { useAction, useQuery } from '../../ui/useApi.js';

/** "AVX2 = 1 | OPENMP = 1 | …" → the features that are on. */
function featuresOn(features: string): string[] {
  return [...features.matchAll(/([A-Z0-9_]+)\s*=\s*1/g)].map((m) => m[1]!);
}

function BuildFields({ binary }: { binary: EngineBinary }) {
  const on = featuresOn(binary.features);
  return (
    <Fields
      rows={[
        ['Build', binary.origin === 'local-build' ? 'built on this machine' : "node-llama-cpp's prebuilt binary"],
        ['llama.cpp', binary.release],
        ['Libraries', <code key="f">{binary.folder}</code>],
        ['Backends', binary.backends.join(', ') || '—'],
        ['OpenMP', on.includes('OPENMP') ? 'yes (worker threads persist between decodes)' : 'no'],
        ['CPU features', on.filter((f) => f !== 'OPENMP').join(' ') || '—'],
      ]}
    />
  );
}

/** Settings: inference threads, and the llama.cpp build inference runs on (with building one for this machine). */
export function SettingsPage() {
  const settings = useQuery('settings.get', {}, ['settings.changed']);
  const info = useQuery('system.info', {}, ['settings.changed', 'runs.changed']);
  const build = useQuery('system.engineBuildState', {}, ['runs.changed']);
  const update = useAction('settings.update');
  const start = useAction('system.engineBuild');
  const [threads, setThreads] = useState<string | null>(null);
  const [gpu, setGpu] = useState<'auto' | 'cpu'>('auto');
  const current = settings.data?.inferenceThreads ?? null;
  const shown = threads ?? (current === null ? '' : String(current));
  const engine = info.data?.engine;
  const b = build.data;
  const save = async () => {
    const n = shown.trim() === '' ? null : Number(shown);
    if (n !== null && (!Number.isInteger(n) || n < 1)) return;
    if (await update.run({ inferenceThreads: n })) setThreads(null);
  };
  const startBuild = async () => {
    const r = await start.run({ gpu });
    if (r) navigate(`/runs/${r.runId}`);
  };
  return (
    <Page title="Settings">
      <ErrorBanner error={settings.error ?? info.error ?? build.error ?? update.error ?? start.error} />
      <div className="card" data-testid="settings-threads">
        <h2>Inference threads</h2>
        <p className="muted">
          Threads each model runs with. Automatic picks from measurements: on node-llama-cpp&apos;s prebuilt binaries fewer threads are often faster (they start
          new threads for every step); on a build made here, every physical core.
        </p>
        <div className="row">
          <label htmlFor="threads">Threads</label>
          <input
            id="threads"
            type="number"
            min={1}
            max={256}
            style={{ width: 170 }}
            placeholder={engine ? `automatic (${engine.defaultThreads})` : 'automatic'}
            value={shown}
            onChange={(e) => setThreads(e.target.value)}
          />
          <button onClick={() => void save()} disabled={update.pending || threads === null}>
            Save
          </button>
          {current !== null && (
            <button className="link" onClick={() => void update.run({ inferenceThreads: null }).then(() => setThreads(null))}>
              back to automatic
            </button>
          )}
          {engine && <span className="muted">{engine.cpuCores} cores on this machine</span>}
        </div>
      </div>
      <div className="card" data-testid="settings-engine">
        <h2>Engine</h2>
        {b?.restartNeeded && (
          <p className="notice-banner" data-testid="engine-restart">
            A build for this machine is ready: restart Distillery to run on it.
          </p>
        )}
        {b?.binary ? <BuildFields binary={b.binary} /> : <p className="muted">{build.data ? 'The engine did not start.' : 'Starting the engine…'}</p>}
        {b && (
          <>
            <h3>Build for this machine</h3>
            <p className="muted">
              The prebuilt binaries are compiled for a generic CPU, without OpenMP. Built here, with this CPU&apos;s own instructions and OpenMP, the same
              models score and generate 2–3× faster on many machines (docs/performance.md has the figures). The build uses the llama.cpp source node-llama-cpp
              ships (nothing is downloaded), needs cmake and a C++ compiler, and takes several minutes; Distillery uses it from its next start.
            </p>
            {b.localBuilds.length > 0 && (
              <p>
                Builds here: <code>{b.localBuilds.join(', ')}</code>
              </p>
            )}
            {b.cannotBuild ? (
              <p className="warn-text" data-testid="engine-cannot-build">
                Cannot build here: {b.cannotBuild}
              </p>
            ) : (
              <div className="row">
                <select aria-label="GPU" value={gpu} onChange={(e) => setGpu(e.target.value as 'auto' | 'cpu')}>
                  <option value="auto">CUDA or Vulkan when installed, else CPU</option>
                  <option value="cpu">CPU only</option>
                </select>
                <button className="primary" onClick={() => void startBuild()} disabled={start.pending}>
                  Build for this machine
                </button>
                <span className="muted">
                  cmake {b.cmake} · compiler {b.compiler}
                </span>
              </div>
            )}
            <RunList kind="system.engineBuild" href={(r) => `#/runs/${r.id}`} empty="No engine builds yet." />
          </>
        )}
      </div>
    </Page>
  );
}
