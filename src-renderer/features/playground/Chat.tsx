import type { ChatTurn } from '../../../src-shared/domain/playground.js';
import { useQuery } from '../../ui/useApi.js';
import { when } from '../../ui/format.js';
import type { PendingTurn } from './useChat.js';

/** The chat so far, and the turn being answered with its answer streaming in. */
export function ChatTranscript({
  messages,
  pending,
  streaming,
  busy,
}: {
  messages: ChatTurn[];
  pending: PendingTurn | null;
  streaming: string;
  busy: boolean;
}) {
  const shown = pending ? [...pending.history, { role: 'user' as const, content: pending.user }] : messages;
  return (
    <div className={`chat${busy ? ' streaming' : ''}`} data-testid="chat-transcript" aria-live="polite">
      {shown.length === 0 && (
        <span className="muted">Start the conversation below: every turn is sent with the earlier ones, in the model's chat template.</span>
      )}
      {shown.map((m, i) => (
        <div key={i} className={`chat-turn chat-${m.role}`} data-testid={`chat-${m.role}`}>
          <span className="chat-role">{m.role === 'user' ? 'You' : 'Model'}</span>
          <div className="chat-text">{m.content}</div>
        </div>
      ))}
      {pending && (
        <div className="chat-turn chat-assistant answering" data-testid="chat-answering">
          <span className="chat-role">Model</span>
          <div className="chat-text">{streaming || <span className="muted">Waiting for the first token…</span>}</div>
        </div>
      )}
    </div>
  );
}

/** The saved chats (SQLite, through the contract): open one, start a new one, delete one. */
export function ChatList({
  current,
  tick,
  disabled,
  onOpen,
  onNew,
  onDelete,
}: {
  current: number | null;
  /** Changes when a chat was saved or deleted: the list is read again. */
  tick: number;
  disabled: boolean;
  onOpen: (id: number) => void;
  onNew: () => void;
  onDelete: (id: number) => void;
}) {
  const list = useQuery('playground.conversations', {}, [], [tick]);
  return (
    <fieldset className="sampling chat-list" disabled={disabled} data-testid="chat-list">
      <legend>Chats</legend>
      <button className="secondary" onClick={onNew}>
        New chat
      </button>
      {(list.data ?? []).map((c) => (
        <div key={c.id} className={`chat-list-item${c.id === current ? ' on' : ''}`}>
          <button className="link ellipsis" onClick={() => onOpen(c.id)} title={`${c.turns} turns · ${when(c.updatedAt)}`}>
            {c.title}
          </button>
          <button className="link danger" aria-label={`Delete chat ${c.title}`} onClick={() => onDelete(c.id)}>
            ×
          </button>
        </div>
      ))}
      {list.data?.length === 0 && <span className="muted">No saved chat yet.</span>}
    </fieldset>
  );
}
