import type { ChatMessage, ToolDefinition } from '../../../src-shared/domain/datasets.js';

/** JSON text pretty-printed when it parses, else as it is. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The functions a conversation may call: name, description, parameters (folded). */
export function ToolList({ tools }: { tools: ToolDefinition[] }) {
  return (
    <details className="tool-list" data-testid="tool-list">
      <summary>
        Tools ({tools.length}): {tools.map((t) => t.function.name).join(', ')}
      </summary>
      {tools.map((t, i) => (
        <div key={i} className="tool-def">
          <code>{t.function.name}</code>
          {typeof t.function.description === 'string' && <span className="muted"> — {t.function.description}</span>}
          {t.function.parameters !== undefined && (
            <details>
              <summary className="muted">parameters</summary>
              <pre>{JSON.stringify(t.function.parameters, null, 2)}</pre>
            </details>
          )}
        </div>
      ))}
    </details>
  );
}

/** An assistant message's calls, each with its arguments. */
export function ToolCalls({ calls }: { calls: NonNullable<ChatMessage['tool_calls']> }) {
  return (
    <>
      {calls.map((c, i) => (
        <div key={i} className="tool-call" data-testid="tool-call">
          <div className="tool-head">
            calls <code>{c.function.name}</code>
            {c.id && <span className="muted"> · {c.id}</span>}
          </div>
          <pre>{pretty(c.function.arguments)}</pre>
        </div>
      ))}
    </>
  );
}

/** A tool message: the result of a call (named when the call is in the conversation). */
export function ToolResult({ message, messages }: { message: ChatMessage; messages: ChatMessage[] }) {
  const call = message.tool_call_id ? messages.flatMap((m) => m.tool_calls ?? []).find((c) => c.id === message.tool_call_id) : undefined;
  return (
    <div className="tool-result" data-testid="tool-result">
      <div className="tool-head">
        result
        {call ? (
          <>
            {' '}
            of <code>{call.function.name}</code>
          </>
        ) : null}
        {message.tool_call_id && <span className="muted"> · {message.tool_call_id}</span>}
      </div>
      <pre>{pretty(message.content)}</pre>
    </div>
  );
}

/** The per-message fields a record carried (speaker name, training weights), as chips beside the role. */
export function MessageFields({ message }: { message: ChatMessage }) {
  return (
    <>
      {message.name !== undefined && <span className="chip">name {message.name}</span>}
      {message.weight !== undefined && <span className="chip">weight {message.weight}</span>}
      {message.loss_weight !== undefined && <span className="chip">loss_weight {message.loss_weight}</span>}
    </>
  );
}
