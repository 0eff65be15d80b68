import { useState } from 'react';
import { Sampling, type ChatTurn } from '../../../src-shared/domain/playground.js';
import { ErrorBanner, Empty, Page, ProgressBar } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { num } from '../../ui/format.js';
import { SamplingControls } from './SamplingControls.js';
import { useGeneration, type GenerationState } from './useGeneration.js';
import { AttachPanel, attachedFor, useAdapterList, type AttachState } from '../adapters/AttachPanel.js';
import { useCompatibility } from '../adapters/parts.js';
import { useChat } from './useChat.js';
import { ChatList, ChatTranscript } from './Chat.js';

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
  const { state, start, stop, reset, busy } = useGeneration();
  const adapterList = useAdapterList();
  const [attach, setAttach] = useState<AttachState>({});
  /** The adapters the shown answer was generated with. */
  const [usedAdapters, setUsedAdapters] = useState<{ name: string; scale: number }[]>([]);

  const usable = (models.data ?? []).filter((m) => m.status !== 'missing');
  const model = usable.find((m) => m.id === modelId) ?? usable[0] ?? null;
  const chatAvailable = model?.summary.hasChatTemplate ?? false;
  const effectiveMode = chatAvailable ? mode : 'completion';
  const compat = useCompatibility(model);

  const generate = (text: string, history: ChatTurn[]) => {
    const adapters = attachedFor(model, adapterList, attach, compat);
    setUsedAdapters(adapters.map((a) => ({ name: adapterList.find((x) => x.id === a.id)?.name ?? String(a.id), scale: a.scale })));
    return start({ modelId: model!.id, mode: effectiveMode, prompt: text, systemPrompt, sampling, adapters, history });
  };
  const chat = useChat({
    generate: (history, user) => generate(user, history),
    modelId: model?.id ?? null,
    systemPrompt,
    onOpened: (c, auto) => {
      setSystemPrompt(c.systemPrompt);
      // the chat's model, unless the page was opened for a model (#/playground/<id>)
      if (c.modelId !== null && !(auto && initialModelId !== null)) setModelId(c.modelId);
      reset();
    },
  });
  const run = () => {
    if (!model || !prompt.trim() || busy) return;
    if (effectiveMode === 'completion') return void generate(prompt, []);
    const text = prompt;
    setPrompt('');
    void chat.send(text).then((ok) => !ok && setPrompt((p) => p || text)); // a failed turn gives the message back
  };
  const inChat = effectiveMode === 'chat';

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
            <textarea
              rows={2}
              placeholder="System prompt (optional)"
              value={systemPrompt}
              onChange={(e) => setSystemPrompt(e.target.value)}
              aria-label="System prompt"
            />
          )}
          {inChat && <ChatTranscript messages={chat.messages} pending={chat.pending} streaming={state.text} busy={busy} />}
          <textarea
            rows={inChat ? 3 : 5}
            placeholder={inChat ? 'Your message… (Ctrl+Enter to send)' : 'Text to continue… (Ctrl+Enter to generate)'}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run();
            }}
            aria-label={inChat ? 'Message' : 'Prompt'}
          />
          <div className="row">
            <button onClick={run} disabled={!model || !prompt.trim() || busy}>
              {inChat ? 'Send' : 'Generate'}
            </button>
            <button className="danger" onClick={() => void stop()} disabled={!busy}>
              Stop
            </button>
            {inChat && (
              <>
                <button
                  className="secondary"
                  onClick={() => void chat.regenerate()}
                  disabled={!model || busy || !chat.messages.some((m) => m.role === 'assistant')}
                  title="Answer the last message again (a new draw replaces the last answer)"
                >
                  Regenerate
                </button>
                <button className="secondary" onClick={() => (reset(), void chat.clear())} disabled={busy || (chat.messages.length === 0 && chat.id === null)}>
                  Clear
                </button>
              </>
            )}
            {state.phase === 'loading' && (
              <ProgressBar done={Math.round(state.loadProgress * 100)} total={100} label={`loading model ${Math.round(state.loadProgress * 100)}%`} />
            )}
          </div>
          <ErrorBanner error={state.error ? { message: state.error } : chat.error ? { message: chat.error } : null} />
          {!inChat && (
            <div className={`output${busy ? ' streaming' : ''}`} data-testid="generation-output" aria-live="polite">
              {state.text || <span className="muted">{busy ? 'Waiting for the first token…' : 'The answer streams here.'}</span>}
            </div>
          )}
          {state.phase !== 'idle' && <LiveStats s={state} adapters={usedAdapters} />}
        </div>
        <aside className="playground-side">
          {inChat && (
            <ChatList
              current={chat.id}
              tick={chat.listTick}
              disabled={busy}
              onOpen={(id) => void chat.open(id)}
              onNew={() => (reset(), chat.startNew())}
              onDelete={(id) => void chat.remove(id)}
            />
          )}
          <AttachPanel model={model} adapters={adapterList} compat={compat} value={attach} onChange={setAttach} disabled={busy} />
          <SamplingControls value={sampling} onChange={setSampling} disabled={busy} />
          <button className="link" onClick={() => setSampling(Sampling.parse({}))} disabled={busy}>
            Reset to defaults
          </button>
        </aside>
      </div>
    </Page>
  );
}
