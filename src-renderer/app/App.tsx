import { useEffect } from 'react';
import { useRoute } from './router.js';
import { client } from '../client.js';
import { useQuery } from '../ui/useApi.js';
import { ModelsPage } from '../features/models/ModelsPage.js';
import { ModelDetailPage } from '../features/models/ModelDetailPage.js';
import { PlaygroundPage } from '../features/playground/PlaygroundPage.js';
import { RunsPage } from '../features/runs/RunsPage.js';
import { RunDetailPage } from '../features/runs/RunDetailPage.js';
import { PlannedPage, PLANNED } from '../features/planned/PlannedPage.js';
import { DistillPage, DistillRunPage } from '../features/distill/DistillPage.js';
import { DatasetsPage } from '../features/datasets/DatasetsPage.js';
import { DatasetDetailPage } from '../features/datasets/DatasetDetailPage.js';
import { DuplicatesPage } from '../features/datasets/DuplicatesPage.js';
import { VersionDiffPage } from '../features/datasets/VersionDiffPage.js';
import { AdaptersRoutes } from '../features/adapters/AdaptersRoutes.js';
import { QuantizePage } from '../features/quantize/QuantizePage.js';
import { TrainPage } from '../features/training/TrainPage.js';
import { TrainRunPage } from '../features/training/TrainRunPage.js';
import { QuantizeRunPage } from '../features/quantize/QuantizeRunPage.js';
import { SettingsPage } from '../features/settings/SettingsPage.js';
import { QuantizeComparePage } from '../features/quantize/QuantizeComparePage.js';
import { EvaluateRoutes } from '../features/evaluate/EvaluateRoutes.js';
import { ROOMS as NAV } from './rooms.js';

/**
 * The page for a route. Every page keyed by an id gets `key={id}`: moving from one id to another (a link, Back) mounts a
 * fresh page, so nothing of the previous one (its rows, selection, filters, counts) shows under the new name.
 */
function Content({ route }: { route: string[] }) {
  const [room = 'models', id] = route;
  const numericId = id !== undefined && /^\d+$/.test(id) ? Number(id) : null;
  switch (room) {
    case 'models':
      return numericId !== null ? <ModelDetailPage key={numericId} id={numericId} /> : <ModelsPage />;
    case 'runs':
      return numericId !== null ? <RunDetailPage key={numericId} id={numericId} /> : <RunsPage />;
    case 'datasets': {
      if (id === undefined) return <DatasetsPage />;
      const [name, version] = decodeURIComponent(id).split('@');
      const [, , view, arg] = route;
      if (view === 'duplicates') return <DuplicatesPage key={name} name={name!} />;
      const range = view === 'diff' ? /^(\d+)\.\.(\d+)$/.exec(arg ?? '') : null;
      if (range) return <VersionDiffPage key={`${name}/${range[1]}..${range[2]}`} name={name!} from={Number(range[1])} to={Number(range[2])} />;
      // keyed by name only: changing the version keeps the filters (the examples table is keyed by the version itself)
      return <DatasetDetailPage key={name} name={name!} version={version ? Number(version) : null} />;
    }
    case 'distill':
      return numericId !== null ? <DistillRunPage key={numericId} runId={numericId} /> : <DistillPage />;
    case 'train': {
      const again = id === 'again' && /^\d+$/.test(route[2] ?? '') ? Number(route[2]) : null;
      if (again !== null) return <TrainPage key={`again-${again}`} again={again} />;
      return numericId !== null ? <TrainRunPage key={numericId} runId={numericId} /> : <TrainPage />;
    }
    case 'adapters':
      return <AdaptersRoutes route={route.slice(1)} />;
    case 'quantize': {
      const [, , a, b] = route;
      if (id === 'compare' && /^\d+$/.test(a ?? '') && /^\d+$/.test(b ?? '')) return <QuantizeComparePage key={`${a}/${b}`} a={Number(a)} b={Number(b)} />;
      return numericId !== null ? <QuantizeRunPage key={numericId} runId={numericId} /> : <QuantizePage />;
    }
    case 'evaluate':
      return <EvaluateRoutes route={route.slice(1)} />;
    case 'settings':
      return <SettingsPage />;
    case 'playground':
      return <PlaygroundPage key={numericId ?? 'none'} initialModelId={numericId} />;
    default:
      return PLANNED[room] ? <PlannedPage room={room} /> : <PlannedPage room="unknown" />;
  }
}

export function App() {
  const route = useRoute();
  const active = route[0] ?? 'models';
  const info = useQuery('system.info', {}, ['settings.changed', 'runs.changed']);
  const running = useQuery('runs.list', { status: 'running' }, ['runs.changed']);
  // The engine starts with the first generation: refresh what the footer says about it then.
  const refetchInfo = info.refetch;
  useEffect(() => client.on('playground.event', (e) => e.type === 'done' && refetchInfo()), [refetchInfo]);
  return (
    <div className="shell">
      <nav className="nav" aria-label="Main">
        <div className="brand">
          <span className="brand-mark">◆</span> Distillery
        </div>
        {NAV.map((n) => (
          <a key={n.id} href={`#/${n.id}`} className={`nav-item${active === n.id ? ' active' : ''}${PLANNED[n.id] ? ' planned' : ''}`}>
            {n.label}
            {n.id === 'runs' && (running.data?.length ?? 0) > 0 && <span className="nav-count">{running.data!.length}</span>}
          </a>
        ))}
        <div className="nav-footer" data-testid="engine-info">
          {info.data ? (
            <>
              <div>
                v{info.data.version} · {info.data.host === 'electron' ? 'desktop' : 'browser'}
              </div>
              <div>
                {info.data.engine.gpu ?? 'engine not started'} · {info.data.engine.defaultThreads} thread{info.data.engine.defaultThreads === 1 ? '' : 's'} auto
                · {info.data.engine.cpuCores} cores
              </div>
              <div title={info.data.databasePath} className="muted ellipsis">
                {info.data.dataDir}
              </div>
            </>
          ) : info.error ? (
            <div className="error-text">{info.error.message}</div>
          ) : null}
        </div>
      </nav>
      <main className="main">
        <Content route={route} />
      </main>
    </div>
  );
}
