import fs from 'node:fs';
import path from 'node:path';
import type { JobKind } from '../../jobs/types.js';
import type { ModelsService } from '../../models/service.js';
import { writeSyntheticLlama } from '../../gguf/synthetic.js';

export const SAMPLE_MODEL_FILE = 'tiny-demo-llama.gguf';
/** resources/sample/: imported as the dataset `sample-support` into a new data folder. */
export const SAMPLE_DATASET_FILE = 'support-tickets.jsonl';
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * The sample workspace a new user starts with: a tiny llama-architecture model (real tokenizer, deterministic random
 * weights, ~36 MB) so the library, the Playground and benchmarks can be tried before any download. Its answers are
 * noise, and its note says so.
 */
export function sampleJob(models: ModelsService): JobKind<'system.sample'> {
  return {
    kind: 'system.sample',
    title: () => 'Prepare the sample workspace',
    async run(ctx) {
      const file = path.join(ctx.config.folder, SAMPLE_MODEL_FILE);
      ctx.progress(0, 2, 'writing the demo model');
      if (!ctx.doneItems().has('model-file')) {
        fs.mkdirSync(ctx.config.folder, { recursive: true });
        const tmp = ctx.tempFile(`${file}.partial`);
        writeSyntheticLlama(tmp, {
          name: 'tiny-demo-llama',
          vocabFile: ctx.config.vocabFile,
          embedding: 256,
          layers: 2,
          heads: 4,
          kvHeads: 4,
          feedForward: 512,
          contextLength: 2048,
          seed: 42,
          matrixType: 'f16',
          chatTemplate: CHATML,
        });
        fs.renameSync(tmp, file);
        ctx.releaseTemp(tmp);
        ctx.commitItem('model-file');
      }
      ctx.throwIfCancelled();
      ctx.progress(1, 2, 'adding it to the library');
      if (models.findByFile(file) === null) {
        const entry = await models.add(file, ['student'], 'Sample: random weights, for trying the app (its answers are noise). Safe to remove.');
        ctx.lineage('output', 'model', String(entry.id), entry.name);
      }
      ctx.commitItem('library');
      ctx.progress(2, 2, 'done');
      ctx.log('info', `Demo model written to ${file}.`);
    },
  };
}
