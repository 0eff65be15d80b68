import { useState } from 'react';
import { Sampling } from '../../../src-shared/domain/playground.js';
import { ErrorBanner, Empty, Page, ProgressBar } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { num } from '../../ui/format.js';
import { SamplingControls } from './SamplingControls.js';
import { useGeneration, type GenerationState } from './useGeneration.js';
import { AttachPanel, attachedFor, useAdapterList, type AttachState } from '../adapters/AttachPanel.js';

function LiveStats({ s, adapters }: { s: GenerationState; adapters: { name: string; scale: number }[] }) {
  const st = s.stats;
  const liveTps =
    s.firstTokenAt !== null && s.lastTokenAt !== null && s.tokens > 1 && s.lastTokenAt > s.firstTokenAt
      ? ((s.tokens - 1) * 1000) / (s.lastTokenAt - s.firstTokenAt)
      : null;
  const liveTtft = s.startedAt !== null && s.firstTokenAt !== null ? s.firstTokenAt - s.startedAt : null;
  return (
    <div className="stats" data-testid="generation-stats">
      <span>
        <b>{st ? st.generatedTokens : s.tokens}</b> tokens
      </span>
      <span>
        first token <b>{num(st ? st.timeToFirstTokenMs : liveTtft, 0)}</b> ms
      </span>
      <span>
        <b>{num(st ? st.tokensPerSecond : liveTps)}</b> tokens/s
      </span>
      {st && (
        <>
          <span>prompt {st.promptTokens} tokens</span>
          <span>load {num(st.loadMs, 0)} ms</span>
          <span data-testid="stop-reason">
            stopped: <b>{{ eos: 'end of text', maxTokens: 'max tokens', cancelled: 'cancelled', error: 'error' }[st.stopReason]}</b>
          </span>
          {st.chatWrapper && <span>template: {st.chatWrapper}</span>}
        </>
      )}
      {adapters.length > 0 && (
        <span data-testid="generation-adapters">
          adapters: <b>{adapters.map((a) => `${a.name} ×${a.scale}`).join(', ')}</b>
        </span>
      )}
    </div>
  );
}

export function PlaygroundPage({ initialModelId }: { initialModelId: number | null }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const [modelId, setModelId] = useState<number | null>(initialModelId);
  const [mode, setMode] = useState<'chat' | 'completion'>('chat');
  const [systemPrompt, setSystemPrompt] = useState('');
  const [prompt, setPrompt] = useState('');
  const [sampling, setSampling] = useState<Sampling>(() => Sampling.parse({}));
  const { state, start, stop, busy } = useGeneration();
  const adapterList = useAdapterList();
  const [attach, setAttach] = useState<AttachState>({});
  /** The adapters the shown answer was generated with. */
  const [usedAdapters, setUsedAdapters] = useState<{ name: string; scale: number }[]>([]);

  const usable = (models.data ?? []).filter((m) => m.status !== 'missing');
  const model = usable.find((m) => m.id === modelId) ?? usable[0] ?? null;
  const chatAvailable = model?.summary.hasChatTemplate ?? false;
  const effectiveMode = chatAvailable ? mode : 'completion';

  const run = () => {
    if (!model || !prompt.trim() || busy) return;
    const adapters = attachedFor(model, adapterList, attach);
    setUsedAdapters(adapters.map((a) => ({ name: adapterList.find((x) => x.id === a.id)?.name ?? String(a.id), scale: a.scale })));
    void start({ modelId: model.id, mode: effectiveMode, prompt, systemPrompt, sampling, adapters });
  };

  if (models.data && usable.length === 0) {
    return (
      <Page title="Playground">
        <Empty>
          No model to talk to yet. <a href="#/models">Add a GGUF model</a> to the library first.
        </Empty>
      </Page>
    );
  }
  return (
    <Page title="Playground">
      <div className="playground">
        <div className="playground-main">
          <div className="row">
            <label>
              Model{' '}
              <select value={model?.id ?? ''} onChange={(e) => setModelId(Number(e.target.value))} aria-label="Model" disabled={busy}>
                {usable.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name} ({m.summary.fileType})
                  </option>
                ))}
              </select>
            </label>
            <span className="segmented" role="radiogroup" aria-label="Mode">
              <button
                className={effectiveMode === 'chat' ? 'on' : ''}
                onClick={() => setMode('chat')}
                disabled={!chatAvailable || busy}
                title={chatAvailable ? "Uses the model's chat template" : 'This model has no chat template'}
              >
                Chat
              </button>
              <button className={effectiveMode === 'completion' ? 'on' : ''} onClick={() => setMode('completion')} disabled={busy}>
                Completion
              </button>
            </span>
            {!chatAvailable && model && <span className="muted">{model.name} has no chat template: raw completion.</span>}
          </div>
          {effectiveMode === 'chat' && (
            <textarea rows={2} placeholder="System prompt (optional)" value={systemPrompt} onChange={(e) => setSystemPrompt(e.target.value)} aria-label="System prompt" />
          )}
          <textarea
            rows={5}
            placeholder={effectiveMode === 'chat' ? 'Your message… (Ctrl+Enter to send)' : 'Text to continue… (Ctrl+Enter to generate)'}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run();
            }}
            aria-label="Prompt"
          />
          <div className="row">
            <button onClick={run} disabled={!model || !prompt.trim() || busy}>
              Generate
            </button>
            <button className="danger" onClick={() => void stop()} disabled={!busy}>
              Stop
            </button>
            {state.phase === 'loading' && <ProgressBar done={Math.round(state.loadProgress * 100)} total={100} label={`loading model ${Math.round(state.loadProgress * 100)}%`} />}
          </div>
          <ErrorBanner error={state.error ? { message: state.error } : null} />
          <div className={`output${busy ? ' streaming' : ''}`} data-testid="generation-output" aria-live="polite">
            {state.text || <span className="muted">{busy ? 'Waiting for the first token…' : 'The answer streams here.'}</span>}
          </div>
          {state.phase !== 'idle' && <LiveStats s={state} adapters={usedAdapters} />}
        </div>
        <aside className="playground-side">
          <AttachPanel model={model} adapters={adapterList} value={attach} onChange={setAttach} disabled={busy} />
          <SamplingControls value={sampling} onChange={setSampling} disabled={busy} />
          <button className="link" onClick={() => setSampling(Sampling.parse({}))} disabled={busy}>
            Reset to defaults
          </button>
        </aside>
      </div>
    </Page>
  );
}
