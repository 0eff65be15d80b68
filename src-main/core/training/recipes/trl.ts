import { py, pyNum, type RecipeInput, type RecipeOutput, type TrainerRecipe } from './types.js';

/** The recipe's settings as Python constants at the top of a script (the user edits them there). */
export function settingsBlock(input: RecipeInput): string {
  const r = input.recipe;
  return [
    `BASE_MODEL = ${py(input.studentHfId)}`,
    `TRAIN_FILE = ${py(input.train)}`,
    `VALIDATION_FILE = ${input.validation ? py(input.validation) : 'None'}`,
    `ADAPTER_DIR = ${py(input.adapterDir)}`,
    `LORA_RANK = ${r.loraRank}`,
    `LORA_ALPHA = ${r.loraAlpha}`,
    `LORA_DROPOUT = ${pyNum(r.loraDropout)}`,
    `TARGET_MODULES = [${r.targetModules.map(py).join(', ')}]`,
    `EPOCHS = ${pyNum(r.epochs)}`,
    `LEARNING_RATE = ${pyNum(r.learningRate)}`,
    `MAX_LENGTH = ${r.maxLength}`,
    `MICRO_BATCH_SIZE = ${r.microBatchSize}`,
    `GRADIENT_ACCUMULATION = ${r.gradientAccumulation}`,
    `SEED = ${r.seed}`,
  ].join('\n');
}

/**
 * TRL (github.com/huggingface/trl): a script with `SFTTrainer` on a conversational dataset (`messages`, and `tools`
 * when the examples have them: docs/source/sft_trainer.md "Tool Calling with SFT"), LoRA through `peft_config`, the
 * validation file as `eval_dataset`, and the adapter saved with `save_pretrained` (PEFT format) to ADAPTER_DIR.
 */
export const trlRecipe: TrainerRecipe = {
  format: 'openai',
  write(input: RecipeInput): RecipeOutput {
    const text = `# TRL training script written by Distillery from ${input.source}.
# Run in this folder: python train_trl.py
from datasets import load_dataset
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer

${settingsBlock(input)}

data_files = {"train": TRAIN_FILE}
if VALIDATION_FILE:
    data_files["validation"] = VALIDATION_FILE
dataset = load_dataset("json", data_files=data_files)

args = SFTConfig(
    output_dir="outputs/checkpoints",
    num_train_epochs=EPOCHS,
    learning_rate=LEARNING_RATE,
    max_length=MAX_LENGTH,
    per_device_train_batch_size=MICRO_BATCH_SIZE,
    per_device_eval_batch_size=MICRO_BATCH_SIZE,
    gradient_accumulation_steps=GRADIENT_ACCUMULATION,
    lr_scheduler_type="cosine",
    warmup_ratio=0.1,
    logging_steps=1,
    eval_strategy="epoch" if VALIDATION_FILE else "no",
    save_strategy="epoch",
    seed=SEED,
    report_to="none",
)
peft_config = LoraConfig(
    r=LORA_RANK,
    lora_alpha=LORA_ALPHA,
    lora_dropout=LORA_DROPOUT,
    target_modules=TARGET_MODULES,
    bias="none",
    task_type="CAUSAL_LM",
)
trainer = SFTTrainer(
    model=BASE_MODEL,
    args=args,
    train_dataset=dataset["train"],
    eval_dataset=dataset["validation"] if VALIDATION_FILE else None,
    peft_config=peft_config,
)
trainer.train()
# the LoRA adapter in PEFT format: adapter_config.json + adapter_model.safetensors
trainer.model.save_pretrained(ADAPTER_DIR)
trainer.processing_class.save_pretrained(ADAPTER_DIR)
print(f"Adapter written to {ADAPTER_DIR}")
`;
    return {
      files: [{ path: 'train_trl.py', text }],
      command: 'python train_trl.py',
      install: 'pip install trl peft datasets transformers accelerate',
      notes: ['Checkpoints go to `outputs/checkpoints`; the final adapter is saved with `save_pretrained` at the end.'],
    };
  },
};
