import { stringify } from 'yaml';
import type { RecipeInput, RecipeOutput, TrainerRecipe } from './types.js';

/**
 * Axolotl (github.com/axolotl-ai-cloud/axolotl): one YAML. The data is OpenAI `messages` JSONL read by the
 * `chat_template` dataset type (docs/dataset-formats/conversation.qmd; tools from the `tools` column, the default
 * `field_tools`), the validation file as `test_datasets` (docs/multimodal_assistant_mask.md). With soft labels, the KD
 * variant of src/axolotl/integrations/kd/README.md: the KD plugin, `kd_trainer`, and the
 * `axolotl.integrations.kd.chat_template` dataset type with its `logprobs_field` and the `temperature` the soft labels
 * were drawn at (read as `gen_temperature` by chat_template.py's `_get_strategy_params`).
 */
export const axolotlRecipe: TrainerRecipe = {
  format: 'openai',
  write(input: RecipeInput): RecipeOutput {
    const r = input.recipe;
    const plain = (file: string) => ({
      path: file,
      ds_type: 'json',
      type: 'chat_template',
      field_messages: 'messages',
      roles_to_train: ['assistant'],
    });
    const kd = input.kd;
    const config: Record<string, unknown> = {
      base_model: input.studentHfId,
      // the model's own chat template (from its tokenizer); with KD, the exact template the soft-label rows are aligned to
      ...(kd ? { chat_template: 'jinja', chat_template_jinja: kd.chatTemplate } : { chat_template: 'tokenizer_default' }),
      ...(kd
        ? {
            plugins: ['axolotl.integrations.kd.KDPlugin'],
            kd_trainer: true,
            kd_ce_alpha: 0.1,
            kd_alpha: 0.9,
            kd_temperature: 1.0,
            kd_beta: 0.0,
          }
        : {}),
      datasets: [
        kd
          ? {
              path: kd.file,
              ds_type: 'json',
              type: 'axolotl.integrations.kd.chat_template',
              field_messages: 'messages',
              logprobs_field: 'logprobs',
              temperature: kd.temperature,
            }
          : plain(input.train),
      ],
      // KD's collator needs soft labels in every batch: the plain validation file is not used for evaluation with KD
      ...(input.validation && !kd ? { test_datasets: [{ ...plain(input.validation), split: 'train' }] } : { val_set_size: 0 }),
      dataset_prepared_path: 'outputs/prepared',
      output_dir: input.adapterDir,
      adapter: 'lora',
      lora_r: r.loraRank,
      lora_alpha: r.loraAlpha,
      lora_dropout: r.loraDropout,
      lora_target_modules: r.targetModules,
      sequence_len: r.maxLength,
      sample_packing: false,
      micro_batch_size: r.microBatchSize,
      gradient_accumulation_steps: r.gradientAccumulation,
      num_epochs: r.epochs,
      learning_rate: r.learningRate,
      optimizer: 'adamw_torch',
      lr_scheduler: 'cosine',
      warmup_ratio: 0.1,
      bf16: 'auto',
      gradient_checkpointing: true,
      logging_steps: 1,
      ...(input.validation && !kd ? { evals_per_epoch: 1 } : {}),
      saves_per_epoch: 1,
      save_safetensors: true,
      seed: r.seed,
    };
    const head = `# Axolotl recipe written by Distillery from ${input.source}${kd ? " with the teacher's soft labels (knowledge distillation)" : ''}.\n# Run in this folder: axolotl train axolotl.yaml\n`;
    return {
      files: [{ path: 'axolotl.yaml', text: head + stringify(config) }],
      command: 'axolotl train axolotl.yaml',
      install: 'pip install axolotl',
      notes: [
        'Axolotl writes the final adapter at the top of the output folder (checkpoints in `checkpoint-*` subfolders beside it).',
        ...(kd
          ? [
              `Knowledge distillation: ${kd.records} records with the top ${kd.k} teacher log-probabilities per answer token, drawn at temperature ${kd.temperature} by ${kd.teacher} (distillation run ${kd.distillRunId}). kd_alpha weighs the KD loss, kd_ce_alpha the ordinary cross-entropy.`,
            ]
          : []),
      ],
    };
  },
};
