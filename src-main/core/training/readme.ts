import type { Trainer } from '../../../src-shared/domain/training.js';
import type { RecipeOutput } from './recipes/index.js';

/** Parameters in billions, read from a Hugging Face id such as `Qwen/Qwen2.5-0.5B-Instruct` or `…-135M`; null when it does not say. */
export function parametersFromId(hfId: string): number | null {
  const m = /(?:^|[-_/.])(\d+(?:\.\d+)?)\s*([bm])(?=$|[-_/.])/i.exec(hfId.split('/').pop() ?? hfId);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2]!.toLowerCase() === 'b' ? n : n / 1000;
}

/**
 * Rough GPU memory for a LoRA of a model of `billions` parameters: the frozen weights (2 bytes a parameter in 16 bits,
 * about 0.7 with 4-bit QLoRA) plus ~2 GB for activations, the adapter's optimizer state and the CUDA context at a
 * modest sequence length. A rule of thumb, said as one.
 */
export function vramEstimate(billions: number): { lora16: number; qlora4: number } {
  const round = (gb: number) => Math.max(1, Math.ceil(gb));
  return { lora16: round(billions * 2 + 2), qlora4: round(billions * 0.7 + 2) };
}

export interface ReadmeInput {
  trainer: Trainer;
  source: string;
  studentHfId: string;
  runId: number;
  counts: { train: number; validation: number; kd: number | null };
  dataFiles: string[];
  adapterDir: string;
  /** The folder's final place (the README is written before it is renamed there). */
  outDir: string;
  /** The library model to import the adapter onto, when known (the KD student); else a placeholder. */
  base: string | null;
  recipe: RecipeOutput;
  skipped: { reason: string; count: number }[];
}

const TRAINER_NAMES: Record<Trainer, string> = { axolotl: 'Axolotl', trl: 'TRL', unsloth: 'Unsloth', llamafactory: 'LLaMA-Factory' };

/** The folder's README.md: the one command, the install line, the hardware, where the adapter goes and how to bring it back. */
export function readme(r: ReadmeInput): string {
  const billions = parametersFromId(r.studentHfId);
  const hw =
    billions === null
      ? `The model id does not say its size. As a rule of thumb a LoRA needs about 2 GB of GPU memory per billion parameters plus ~2 GB (16-bit weights), or about 0.7 GB per billion plus ~2 GB with 4-bit QLoRA.`
      : (() => {
          const v = vramEstimate(billions);
          return `${r.studentHfId} has about ${billions < 1 ? `${Math.round(billions * 1000)} million` : `${billions} billion`} parameters (read from its id): a LoRA on its 16-bit weights needs roughly ${v.lora16} GB of GPU memory, with 4-bit QLoRA roughly ${v.qlora4} GB, at the recipe's sequence length and batch size (longer sequences and larger batches need more). A rule of thumb, not a measurement.`;
        })();
  const lines = [
    `# Training folder: ${r.source} for ${TRAINER_NAMES[r.trainer]}`,
    '',
    `Written by Distillery (export run ${r.runId}) from the dataset version ${r.source}, to train a LoRA adapter of \`${r.studentHfId}\`.`,
    '',
    '## Train',
    '',
    'In this folder, on a machine with an NVIDIA GPU:',
    '',
    '```sh',
    r.recipe.install,
    r.recipe.command,
    '```',
    '',
    '## Hardware',
    '',
    hw,
    '',
    '## The adapter',
    '',
    `The LoRA adapter is written to \`${r.adapterDir}/\` in PEFT format (\`adapter_config.json\` + \`adapter_model.safetensors\`).`,
    '',
    'Bring it back into Distillery (it is imported when it is complete, converted to a GGUF LoRA and linked to this export):',
    '',
    '```sh',
    `distillery adapters watch ${JSON.stringify(`${r.outDir}/${r.adapterDir}`)} --base ${r.base ?? '<the student GGUF: a library id or file>'}`,
    '```',
    '',
    '## What is here',
    '',
    `- Train examples: ${r.counts.train} (\`${r.dataFiles[0]}\`)`,
    ...(r.dataFiles[1] ? [`- Validation examples: ${r.counts.validation} (\`${r.dataFiles[1]}\`)`] : ['- No validation file.']),
    ...(r.counts.kd !== null ? [`- Soft-label records for knowledge distillation: ${r.counts.kd}`] : []),
    ...r.skipped.map((s) => `- Left out: ${s.count} example(s): ${s.reason}`),
    `- \`distillery-export.json\`: the manifest (every file's size and sha256, the counts, the source version and run).`,
    '',
    ...(r.recipe.notes.length ? ['## Notes', '', ...r.recipe.notes.map((n) => `- ${n}`), ''] : []),
  ];
  return lines.join('\n');
}
