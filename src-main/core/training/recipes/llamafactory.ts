import { stringify } from 'yaml';
import type { RecipeInput, RecipeOutput, TrainerRecipe } from './types.js';

/** LLaMA-Factory's dataset names for the two files, as dataset_info.json declares them. */
export const LF_TRAIN = 'distillery_train';
export const LF_VALIDATION = 'distillery_validation';

/**
 * LLaMA-Factory's template for a model family, guessed from the Hugging Face id (names from src/llamafactory/data/
 * template.py); null leaves `template` out and LLaMA-Factory parses the tokenizer's own chat template.
 */
export function llamaFactoryTemplate(hfId: string): string | null {
  const id = hfId.toLowerCase();
  const rules: [RegExp, string][] = [
    [/qwen3/, 'qwen3'],
    [/qwen2|qwen-?1\.5|qwq/, 'qwen'],
    [/llama-?3/, 'llama3'],
    [/llama-?2/, 'llama2'],
    [/gemma-?3/, 'gemma3'],
    [/gemma-?2/, 'gemma2'],
    [/gemma/, 'gemma'],
    [/phi-?4-?mini/, 'phi4_mini'],
    [/phi-?4/, 'phi4'],
    [/phi-?3/, 'phi'],
    [/smollm2/, 'smollm2'],
    [/smollm/, 'smollm'],
    [/mistral|mixtral/, 'mistral'],
  ];
  return rules.find(([re]) => re.test(id))?.[1] ?? null;
}

/**
 * LLaMA-Factory (github.com/hiyouga/LLaMA-Factory): ShareGPT JSONL (data/README.md "Sharegpt Format": `conversations`
 * of `from`/`value` turns with function_call/observation, `system`, `tools` as a JSON string) declared in
 * `data/dataset_info.json` with its columns and tags, and a `train` YAML shaped like examples/train_lora/*_lora_sft.yaml
 * (`llamafactory-cli train llamafactory.yaml`), the validation file as `eval_dataset`.
 */
export const llamaFactoryRecipe: TrainerRecipe = {
  format: 'sharegpt',
  write(input: RecipeInput): RecipeOutput {
    const r = input.recipe;
    // its converter reads a declared column from every example: declare only those the file has
    const has = (file: string, column: string) => input.columns.get(file)?.has(column) ?? false;
    const entry = (file: string) => ({
      // relative to dataset_dir (data/)
      file_name: file.replace(/^data\//, ''),
      formatting: 'sharegpt',
      columns: { messages: 'conversations', ...(has(file, 'system') ? { system: 'system' } : {}), ...(has(file, 'tools') ? { tools: 'tools' } : {}) },
      tags: {
        role_tag: 'from',
        content_tag: 'value',
        user_tag: 'human',
        assistant_tag: 'gpt',
        observation_tag: 'observation',
        function_tag: 'function_call',
        system_tag: 'system',
      },
    });
    const info = { [LF_TRAIN]: entry(input.train), ...(input.validation ? { [LF_VALIDATION]: entry(input.validation) } : {}) };
    const template = llamaFactoryTemplate(input.studentHfId);
    const config: Record<string, unknown> = {
      model_name_or_path: input.studentHfId,
      trust_remote_code: true,
      stage: 'sft',
      do_train: true,
      finetuning_type: 'lora',
      lora_rank: r.loraRank,
      lora_alpha: r.loraAlpha,
      lora_dropout: r.loraDropout,
      lora_target: r.targetModules.join(','),
      dataset_dir: 'data',
      dataset: LF_TRAIN,
      ...(input.validation ? { eval_dataset: LF_VALIDATION } : {}),
      ...(template ? { template } : {}),
      cutoff_len: r.maxLength,
      overwrite_cache: true,
      output_dir: input.adapterDir,
      logging_steps: 1,
      save_strategy: 'epoch',
      plot_loss: true,
      overwrite_output_dir: true,
      report_to: 'none',
      per_device_train_batch_size: r.microBatchSize,
      gradient_accumulation_steps: r.gradientAccumulation,
      learning_rate: r.learningRate,
      num_train_epochs: r.epochs,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.1,
      bf16: true,
      seed: r.seed,
      ...(input.validation ? { per_device_eval_batch_size: r.microBatchSize, eval_strategy: 'epoch' } : {}),
    };
    const head =
      `# LLaMA-Factory recipe written by Distillery from ${input.source}.\n# Run in this folder: llamafactory-cli train llamafactory.yaml\n` +
      (template ? '' : "# No `template` for this model family is known: LLaMA-Factory reads the tokenizer's own chat template.\n");
    return {
      files: [
        { path: 'data/dataset_info.json', text: JSON.stringify(info, null, 2) + '\n' },
        { path: 'llamafactory.yaml', text: head + stringify(config) },
      ],
      command: 'llamafactory-cli train llamafactory.yaml',
      install: 'pip install llamafactory',
      notes: [
        template
          ? `The chat template is LLaMA-Factory's \`${template}\` (guessed from the model id; change \`template\` if it is another family).`
          : "No LLaMA-Factory template is known for this model id: it parses the tokenizer's chat template (set `template` to be explicit).",
        'bf16 needs an Ampere or newer GPU; set `bf16: false` and `fp16: true` on older cards.',
      ],
    };
  },
};
