import { useCallback, useEffect, useRef, useState } from 'react';
import { client } from '../../client.js';
import type { ChatTurn, Conversation } from '../../../src-shared/domain/playground.js';
import type { AppError } from '../../../src-shared/errors.js';
import type { GenerationEnd } from './useGeneration.js';

/** The turn being answered: the turns before it and the user's message (shown while the answer streams). */
export interface PendingTurn {
  history: ChatTurn[];
  user: string;
}

interface Options {
  /** Starts a generation of `user` after `history`; resolves with how it ended. */
  generate(history: ChatTurn[], user: string): Promise<GenerationEnd>;
  modelId: number | null;
  systemPrompt: string;
  /** A saved chat was opened (`auto`: the last one, on load): its model and system prompt become the form's. */
  onOpened(c: Conversation, auto: boolean): void;
}

/**
 * The Playground's chat: its turns, kept in SQLite through the contract after every answer (so a reload finds it), a
 * turn regenerated (the last answer replaced), cleared, or another saved chat opened. On mount the most recent chat
 * is opened again.
 */
export function useChat({ generate, modelId, systemPrompt, onOpened }: Options) {
  const [id, setId] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatTurn[]>([]);
  const [pending, setPending] = useState<PendingTurn | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [listTick, setListTick] = useState(0);
  const opened = useRef(onOpened);
  useEffect(() => {
    opened.current = onOpened;
  });

  const open = useCallback(async (conversationId: number, auto = false) => {
    try {
      const c = await client.call('playground.conversation', { id: conversationId });
      setId(c.id);
      setMessages(c.messages);
      setError(null);
      opened.current(c, auto);
    } catch (e) {
      setError((e as AppError).message);
    }
  }, []);

  // A reload opens the chat the user was last in.
  useEffect(() => {
    let live = true;
    void client.call('playground.conversations', {}).then(
      (list) => live && list[0] && void open(list[0].id, true),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [open]);

  const save = async (turns: ChatTurn[]): Promise<void> => {
    try {
      const c = await client.call('playground.saveConversation', { ...(id !== null ? { id } : {}), modelId, systemPrompt, messages: turns });
      setId(c.id);
      setListTick((t) => t + 1);
    } catch (e) {
      setError((e as AppError).message);
    }
  };

  /** Answers `user` after `history`; the turns (and the saved chat) get both once the answer is complete or stopped. */
  const answer = async (history: ChatTurn[], user: string): Promise<boolean> => {
    setError(null);
    setPending({ history, user });
    const end = await generate(history, user);
    setPending(null);
    if (end.type === 'error') {
      setMessages(history);
      return false;
    }
    const turns: ChatTurn[] = [...history, { role: 'user', content: user }, { role: 'assistant', content: end.text }];
    setMessages(turns);
    await save(turns);
    return true;
  };

  const send = (user: string) => answer(messages, user);

  /** The last answer again (same question, a new draw): it replaces the old one. */
  const regenerate = () => {
    const lastUser = messages.findLastIndex((m) => m.role === 'user');
    if (lastUser < 0) return Promise.resolve(false);
    return answer(messages.slice(0, lastUser), messages[lastUser]!.content);
  };

  /** Empties the chat and forgets the saved one. */
  const clear = async () => {
    if (id !== null) await client.call('playground.deleteConversation', { id }).catch((e: AppError) => setError(e.message));
    setId(null);
    setMessages([]);
    setListTick((t) => t + 1);
  };

  /** A new empty chat; the current one stays saved. */
  const startNew = () => {
    setId(null);
    setMessages([]);
    setError(null);
  };

  const remove = async (conversationId: number) => {
    await client.call('playground.deleteConversation', { id: conversationId }).catch((e: AppError) => setError(e.message));
    if (conversationId === id) startNew();
    setListTick((t) => t + 1);
  };

  return { id, messages, pending, error, listTick, send, regenerate, clear, startNew, open, remove };
}
