import type { JobKind } from '../../jobs/types.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { DatasetsStore } from '../store.js';
import { PAGE } from './rows.js';
import { messageText, type NormalizedExample } from '../../../../src-shared/domain/datasets.js';

/**
 * "Count tokens": every example's length with a model's tokenizer (loaded vocabulary-only: no weights), cached per
 * example and tokenizer, so a later version or filter reuses the counts. Resumable: counted examples are skipped.
 */
export function tokenCountJob(store: DatasetsStore, engine: LlmEngine): JobKind<'datasets.countTokens'> {
  return {
    kind: 'datasets.countTokens',
    title: (c) => `Count tokens of ${c.name}@${c.versionNumber} with ${c.modelName}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      ctx.lineage('input', 'model', String(c.modelId), c.modelName);
      const model = await engine.loadTokenizer(c.modelPath, ctx.signal);
      const tokenizer = String(c.modelId);
      const total = store.versionSize(c.versionId);
      let done = 0;
      let counted = 0;
      let tokens = 0;
      for (;;) {
        ctx.throwIfCancelled();
        const todo = store.uncounted(c.versionId, tokenizer, PAGE);
        if (todo.length === 0) break;
        const counts = todo.map((r) => {
          const messages = JSON.parse(r.messages) as NormalizedExample['messages'];
          // the messages' text (tool calls as name(arguments)) and the tools' schemas as JSON, as a template would show them
          let n = messages.reduce((sum, m) => sum + model.tokenize(messageText(m), false).length, 0);
          if (r.tools !== null) n += model.tokenize(r.tools, false).length;
          tokens += n;
          return { exampleId: r.example_id, tokens: n };
        });
        ctx.db.transaction(() => store.saveTokenCounts(tokenizer, counts))();
        counted += counts.length;
        done = total - store.uncountedCount(c.versionId, tokenizer);
        ctx.progress(done, total, `${done} of ${total} examples counted`);
        await new Promise((r) => setImmediate(r));
      }
      ctx.metric('examples_counted', counted);
      if (counted) ctx.metric('mean_tokens', tokens / counted);
      ctx.log('info', `Counted ${counted} example(s) with ${c.modelName}'s tokenizer (${total - counted} already known).`);
    },
  };
}
