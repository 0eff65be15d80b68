import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JinjaTemplateChatWrapper, QwenChatWrapper, type ChatHistoryItem } from 'node-llama-cpp';
import { readJsonl } from '../../src-main/core/datasets/formats/jsonl.js';
import { availableFunctions, chatHistory, wireMessages } from '../../src-main/core/distill/tool-prompt.js';
import type { NormalizedExample } from '../../src-shared/domain/datasets.js';

const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../datasets/samples');

async function sample(file: string, format: 'openai' | 'sharegpt'): Promise<NormalizedExample[]> {
  const out: NormalizedExample[] = [];
  for await (const item of readJsonl(path.join(SAMPLES, file), format)) if ('example' in item) out.push(item.example);
  return out;
}

// A tool-calling chat template in the style of Qwen2.5 / Hermes (what Jinja templates of tool-calling GGUF models do).
const TOOL_TEMPLATE = `{%- if tools %}<|im_start|>system
{{ messages[0].content if messages[0].role == 'system' else 'You are a helpful assistant.' }}
# Tools
<tools>{% for tool in tools %}
{{ tool | tojson }}{% endfor %}
</tools><|im_end|>
{% elif messages[0].role == 'system' %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% elif message.role == 'assistant' %}<|im_start|>assistant
{% if message.content %}{{ message.content }}{% endif %}
{%- if message.tool_calls %}{% for tool_call in message.tool_calls %}
<tool_call>
{"name": "{{ tool_call.function.name if tool_call.function else tool_call.name }}", "arguments": {{ (tool_call.function.arguments if tool_call.function else tool_call.arguments) | tojson }}}
</tool_call>{% endfor %}{% endif %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}`;

describe('the teacher sees the tools', () => {
  it('OpenAI wire form: calls linked to results by id, null content beside calls, no training weights', async () => {
    const [area] = await sample('sharegpt-tools.jsonl', 'sharegpt');
    const [, , marv] = await sample('openai-tools.jsonl', 'openai');
    const wire = wireMessages(area!.messages.slice(0, 4));
    expect(wire[1]).toEqual({ role: 'assistant', content: null, tool_calls: area!.messages[1]!.tool_calls });
    expect(wire[2]).toEqual({ role: 'tool', content: '{"area": 15}', tool_call_id: 'call_1' });
    expect(wireMessages(marv!.messages).map((m) => Object.keys(m))).toEqual([
      ['role', 'content'],
      ['role', 'content', 'name'],
      ['role', 'content'],
      ['role', 'content'],
      ['role', 'content'],
    ]);
  });

  it("node-llama-cpp's chat history: calls paired with their results, the answer after them in the same model turn", async () => {
    const [area] = await sample('sharegpt-tools.jsonl', 'sharegpt');
    const history = chatHistory(area!.messages.slice(0, 5));
    expect(history).toEqual<ChatHistoryItem[]>([
      { type: 'user', text: 'I need to calculate the area of a rectangle. The length is 5 units and the breadth is 3 units.' },
      {
        type: 'model',
        response: [
          { type: 'functionCall', name: 'calculate_area', params: { shape: 'rectangle', dimensions: [5, 3] }, result: { area: 15 } },
          'The area of the rectangle with length 5 units and breadth 3 units is 15 square units.',
        ],
      },
      { type: 'user', text: 'What about a circle with a radius of 4 units?' },
    ]);
    expect(availableFunctions(area!.tools)).toEqual({
      calculate_area: { description: 'Calculate the area of a given shape', params: area!.tools![0]!.function.parameters },
      calculate_discount: {
        description: 'Calculate the discounted price based on original price and discount percentage',
        params: area!.tools![1]!.function.parameters,
      },
    });
    // a tool message that answers no call (an old ShareGPT observation) is shown as a user turn, as before
    expect(
      chatHistory([
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'calling' },
        { role: 'tool', content: '{"t": 1}' },
      ]),
    ).toEqual([
      { type: 'user', text: 'q' },
      { type: 'model', response: ['calling'] },
      { type: 'user', text: '{"t": 1}' },
    ]);
  });

  it("a model's chat template renders the tools, the calls and their results (node-llama-cpp function support)", async () => {
    const [area] = await sample('sharegpt-tools.jsonl', 'sharegpt');
    const history: ChatHistoryItem[] = [...chatHistory(area!.messages.slice(0, 5)), { type: 'model', response: [] }];
    const options = { chatHistory: history, availableFunctions: availableFunctions(area!.tools)!, documentFunctionParams: true };
    for (const wrapper of [new JinjaTemplateChatWrapper({ template: TOOL_TEMPLATE }), new QwenChatWrapper()]) {
      const text = wrapper.generateContextState(options).contextText.toString();
      expect(text).toContain('calculate_discount'); // a tool the conversation never calls is still offered
      expect(text).toContain('Calculate the discounted price based on original price and discount percentage');
      expect(text).toMatch(/calculate_area.*rectangle.*\[5,\s?3\]/s); // the call
      expect(text).toMatch(/"area":\s?15/); // its result
      expect(text.indexOf('What about a circle')).toBeGreaterThan(text.indexOf('15 square units'));
    }
  });
});
