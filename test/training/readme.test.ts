import { describe, expect, it } from 'vitest';
import { parametersFromId, vramEstimate } from '../../src-main/core/training/readme.js';
import { llamaFactoryTemplate } from '../../src-main/core/training/recipes/llamafactory.js';

describe('what the README and recipes read from a model id', () => {
  it('reads the parameter count when the id says it, and nothing else', () => {
    expect(parametersFromId('Qwen/Qwen2.5-0.5B-Instruct')).toBe(0.5);
    expect(parametersFromId('meta-llama/Llama-3.2-1B')).toBe(1);
    expect(parametersFromId('HuggingFaceTB/SmolLM2-135M-Instruct')).toBeCloseTo(0.135);
    expect(parametersFromId('mistralai/Mistral-7B-Instruct-v0.3')).toBe(7);
    expect(parametersFromId('google/gemma-2-9b-it')).toBe(9);
    expect(parametersFromId('microsoft/phi-4')).toBeNull();
    expect(parametersFromId('/models/my-student')).toBeNull();
  });

  it('estimates GPU memory as weights plus a fixed overhead', () => {
    // 0.5 B: 1 GB of 16-bit weights + 2 → 3; 0.35 GB in 4 bits + 2 → 3 (rounded up)
    expect(vramEstimate(0.5)).toEqual({ lora16: 3, qlora4: 3 });
    // 7 B: 14 + 2 = 16; 4.9 + 2 → 7
    expect(vramEstimate(7)).toEqual({ lora16: 16, qlora4: 7 });
  });

  it("picks LLaMA-Factory's template for known families, none otherwise", () => {
    expect(llamaFactoryTemplate('Qwen/Qwen2.5-0.5B-Instruct')).toBe('qwen');
    expect(llamaFactoryTemplate('Qwen/Qwen3-0.6B')).toBe('qwen3');
    expect(llamaFactoryTemplate('meta-llama/Llama-3.2-1B-Instruct')).toBe('llama3');
    expect(llamaFactoryTemplate('google/gemma-2-2b-it')).toBe('gemma2');
    expect(llamaFactoryTemplate('org/unknown-model')).toBeNull();
  });
});
