import { useState } from 'react';
import Markdown from 'react-markdown';
import { CHAT_ROLES, type ChatMessage, type ExampleRow } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { MessageFields, ToolCalls, ToolList, ToolResult } from './ToolParts.js';

/**
 * One example as a conversation: roles, system prompt, markdown and code rendered, tool calls and their results apart
 * from text, the tools offered; editable in the working copy (calls and tools are kept as they are).
 */
export function Conversation({ name, row, onClose, onChanged }: { name: string; row: ExampleRow; onClose: () => void; onChanged: () => void }) {
  const [editing, setEditing] = useState<ChatMessage[] | null>(null);
  const edit = useAction('datasets.edit');
  const save = async () => {
    if (!editing) return;
    if (await edit.run({ name, position: row.position, messages: editing })) {
      setEditing(null);
      onChanged();
    }
  };
  return (
    <div className="card conversation" data-testid="conversation">
      <div className="row">
        <h2>Example {row.position}</h2>
        <span className="grow" />
        {!editing && (
          <button className="secondary" onClick={() => setEditing(row.messages.map((m) => ({ ...m })))}>
            Edit
          </button>
        )}
        <button className="link" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="chips">
        {row.source && (
          <span className="muted">
            {row.source.file}:{row.source.line}
          </span>
        )}
        {row.split && <span className="chip chip-split">{row.split}</span>}
        {row.tags.map((t) => (
          <span key={t} className="chip">
            #{t}
          </span>
        ))}
        {row.flags.map((f) => (
          <span key={f} className="chip chip-flag">
            ⚑ {f}
          </span>
        ))}
        {row.cluster !== null && <span className="chip">duplicate cluster {row.cluster}</span>}
        {row.tokens !== null && <span className="chip">{row.tokens} tokens</span>}
      </div>
      <ErrorBanner error={edit.error} onClose={edit.clearError} />
      {row.tools && <ToolList tools={row.tools} />}
      {editing ? (
        <>
          {editing.map((m, i) => (
            <div key={i} className={`message message-${m.role}`}>
              <select
                aria-label={`Role of message ${i + 1}`}
                value={m.role}
                onChange={(e) => setEditing(editing.map((x, j) => (j === i ? { ...x, role: e.target.value as ChatMessage['role'] } : x)))}
              >
                {CHAT_ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
              <textarea
                aria-label={`Message ${i + 1}`}
                rows={Math.min(12, Math.max(3, m.content.split('\n').length + 1))}
                value={m.content}
                onChange={(e) => setEditing(editing.map((x, j) => (j === i ? { ...x, content: e.target.value } : x)))}
              />
              {m.tool_calls && <ToolCalls calls={m.tool_calls} />}
            </div>
          ))}
          <div className="row">
            <button onClick={() => void save()} disabled={edit.pending}>
              Save to working copy
            </button>
            <button className="secondary" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        row.messages.map((m, i) => (
          <div key={i} className={`message message-${m.role}`}>
            <div className="message-role">
              {m.role} <MessageFields message={m} />
            </div>
            {m.role === 'tool' ? (
              <ToolResult message={m} messages={row.messages} />
            ) : (
              (m.content || !m.tool_calls) && (
                <div className="message-content markdown">
                  <Markdown>{m.content}</Markdown>
                </div>
              )
            )}
            {m.tool_calls && <ToolCalls calls={m.tool_calls} />}
          </div>
        ))
      )}
    </div>
  );
}
