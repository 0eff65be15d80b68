export const m007_playground_conversations = {
  name: '007_playground_conversations',
  sql: /* sql */ `
-- Playground chats, kept with the library (not in the browser's storage): the turns as a JSON array of
-- {role: 'user' | 'assistant', content}, the model and system prompt they were had with.
CREATE TABLE playground_conversations (
  id            INTEGER PRIMARY KEY,
  title         TEXT NOT NULL,
  model_id      INTEGER REFERENCES models(id) ON DELETE SET NULL,
  system_prompt TEXT NOT NULL DEFAULT '',
  messages      TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  touched       INTEGER NOT NULL -- raised on every save: the list's order (two saves can share a millisecond)
) STRICT;
CREATE INDEX playground_conversations_touched ON playground_conversations(touched);
`,
};
