// The playground room's operations (src-shared/contract/playground.ts): generations and saved conversations.
import type { playgroundOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { ConversationsStore } from './conversations.js';
import type { PlaygroundService } from './service.js';

export function playgroundHandlers(deps: { playground: PlaygroundService; conversations: ConversationsStore }): Handlers<typeof playgroundOps> {
  const { playground, conversations } = deps;
  return {
    'playground.generate': (input) => playground.generate(input),
    'playground.stop': ({ generationId }) => playground.stop(generationId),
    'playground.conversations': () => conversations.list(),
    'playground.conversation': ({ id }) => conversations.get(id),
    'playground.saveConversation': (input) => conversations.save(input),
    'playground.deleteConversation': ({ id }) => ({ deleted: conversations.delete(id) }),
  };
}
