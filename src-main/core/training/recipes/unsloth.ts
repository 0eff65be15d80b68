import { settingsBlock } from './trl.js';
import type { RecipeInput, RecipeOutput, TrainerRecipe } from './types.js';

/**
 * Unsloth (github.com/unslothai/unsloth): a script shaped like its conversational notebooks
 * (unslothai/notebooks, python_scripts/Llama3.2_(1B_and_3B)-Conversational.py): `FastLanguageModel.from_pretrained`,
 * `get_peft_model`, the conversations rendered to `text` with the tokenizer's chat template (tools passed along), TRL's
 * `SFTTrainer` on that text, and `save_pretrained` of the adapter (PEFT format) to ADAPTER_DIR. The data is the same
 * OpenAI `messages` JSONL (already `role`/`content`, what `standardize_sharegpt` would produce).
 */
export const unslothRecipe: TrainerRecipe = {
  format: 'openai',
  write(input: RecipeInput): RecipeOutput {
    const text = `# Unsloth training script written by Distillery from ${input.source}.
# Run in this folder: python train_unsloth.py
from unsloth import FastLanguageModel
from unsloth.chat_templates import get_chat_template
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

${settingsBlock(input)}
# None: the model's own chat template. Or one of unsloth's names (e.g. "llama-3.1", "qwen-2.5", "chatml").
CHAT_TEMPLATE = None
LOAD_IN_4BIT = True  # QLoRA: much less memory; False trains the LoRA on 16-bit weights

model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=BASE_MODEL,
    max_seq_length=MAX_LENGTH,
    dtype=None,
    load_in_4bit=LOAD_IN_4BIT,
)
model = FastLanguageModel.get_peft_model(
    model,
    r=LORA_RANK,
    target_modules=TARGET_MODULES,
    lora_alpha=LORA_ALPHA,
    lora_dropout=LORA_DROPOUT,
    bias="none",
    use_gradient_checkpointing="unsloth",
    random_state=SEED,
)
if CHAT_TEMPLATE:
    tokenizer = get_chat_template(tokenizer, chat_template=CHAT_TEMPLATE)


def formatting_prompts_func(examples):
    tools = examples.get("tools") or [None] * len(examples["messages"])
    texts = [
        tokenizer.apply_chat_template(convo, tools=tool, tokenize=False, add_generation_prompt=False)
        for convo, tool in zip(examples["messages"], tools)
    ]
    return {"text": texts}


data_files = {"train": TRAIN_FILE}
if VALIDATION_FILE:
    data_files["validation"] = VALIDATION_FILE
dataset = load_dataset("json", data_files=data_files)
dataset = dataset.map(formatting_prompts_func, batched=True)

trainer = SFTTrainer(
    model=model,
    tokenizer=tokenizer,
    train_dataset=dataset["train"],
    eval_dataset=dataset["validation"] if VALIDATION_FILE else None,
    dataset_text_field="text",
    max_seq_length=MAX_LENGTH,
    packing=False,
    args=SFTConfig(
        per_device_train_batch_size=MICRO_BATCH_SIZE,
        per_device_eval_batch_size=MICRO_BATCH_SIZE,
        gradient_accumulation_steps=GRADIENT_ACCUMULATION,
        warmup_ratio=0.1,
        num_train_epochs=EPOCHS,
        learning_rate=LEARNING_RATE,
        logging_steps=1,
        optim="adamw_8bit",
        weight_decay=0.001,
        lr_scheduler_type="linear",
        eval_strategy="epoch" if VALIDATION_FILE else "no",
        seed=SEED,
        output_dir="outputs/checkpoints",
        report_to="none",
    ),
)
trainer.train()
# the LoRA adapter in PEFT format: adapter_config.json + adapter_model.safetensors
model.save_pretrained(ADAPTER_DIR)
tokenizer.save_pretrained(ADAPTER_DIR)
print(f"Adapter written to {ADAPTER_DIR}")
`;
    return {
      files: [{ path: 'train_unsloth.py', text }],
      command: 'python train_unsloth.py',
      install: 'pip install unsloth',
      notes: [
        'Loads the base in 4 bits by default (QLoRA; `LOAD_IN_4BIT` at the top of the script); the adapter it saves applies to the original weights.',
        'Set `CHAT_TEMPLATE` when the model has no chat template of its own (unsloth.chat_templates.get_chat_template).',
      ],
    };
  },
};
