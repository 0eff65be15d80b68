import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { ChatTurn, Conversation, ConversationSummary } from '../../../src-shared/domain/playground.js';
import { AppError } from '../../../src-shared/errors.js';

interface Row {
  id: number;
  title: string;
  model_id: number | null;
  system_prompt: string;
  messages: string;
  created_at: string;
  updated_at: string;
}

const NEXT = `(SELECT coalesce(max(touched), 0) + 1 FROM playground_conversations)`;

/** A title from the first user message: its first line, cut at 60 characters. */
function titleOf(messages: ChatTurn[]): string {
  const first =
    messages
      .find((m) => m.role === 'user')
      ?.content.trim()
      .split('\n')[0] ?? '';
  if (!first) return 'New chat';
  return first.length > 60 ? `${first.slice(0, 59)}…` : first;
}

/** The Playground's saved chats (table `playground_conversations`): one row per chat, its turns as JSON. */
export class ConversationsStore {
  constructor(private readonly db: Db) {}

  list(): ConversationSummary[] {
    const rows = this.db
      .prepare(`SELECT id, title, model_id, json_array_length(messages) AS turns, updated_at FROM playground_conversations ORDER BY touched DESC`)
      .all() as { id: number; title: string; model_id: number | null; turns: number; updated_at: string }[];
    return rows.map((r) => ({ id: r.id, title: r.title, modelId: r.model_id, turns: r.turns, updatedAt: r.updated_at }));
  }

  get(id: number): Conversation {
    const r = this.db.prepare(`SELECT * FROM playground_conversations WHERE id = ?`).get(id) as Row | undefined;
    if (!r) throw new AppError('not_found', `there is no saved chat ${id}`, 'id');
    const messages = JSON.parse(r.messages) as ChatTurn[];
    return {
      id: r.id,
      title: r.title,
      modelId: r.model_id,
      turns: messages.length,
      updatedAt: r.updated_at,
      createdAt: r.created_at,
      systemPrompt: r.system_prompt,
      messages,
    };
  }

  /** Creates a chat (no id) or replaces one; a model id no longer in the library is kept as none. */
  save(input: { id?: number | undefined; title?: string | undefined; modelId: number | null; systemPrompt: string; messages: ChatTurn[] }): Conversation {
    const now = nowIso();
    const modelId = input.modelId !== null && this.db.prepare(`SELECT 1 FROM models WHERE id = ?`).get(input.modelId) ? input.modelId : null;
    const title = input.title?.trim() || titleOf(input.messages);
    const messages = JSON.stringify(input.messages);
    if (input.id === undefined) {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO playground_conversations (title, model_id, system_prompt, messages, created_at, updated_at, touched) VALUES (?, ?, ?, ?, ?, ?, ${NEXT})`,
          )
          .run(title, modelId, input.systemPrompt, messages, now, now).lastInsertRowid,
      );
      return this.get(id);
    }
    const changed = this.db
      .prepare(`UPDATE playground_conversations SET title = ?, model_id = ?, system_prompt = ?, messages = ?, updated_at = ?, touched = ${NEXT} WHERE id = ?`)
      .run(title, modelId, input.systemPrompt, messages, now, input.id).changes;
    if (changed === 0) throw new AppError('not_found', `there is no saved chat ${input.id}`, 'id');
    return this.get(input.id);
  }

  delete(id: number): boolean {
    return this.db.prepare(`DELETE FROM playground_conversations WHERE id = ?`).run(id).changes > 0;
  }
}
