import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { writeGguf } from '../../src-main/core/gguf/stream-writer.js';
import { str } from '../../src-main/core/gguf/writer.js';
import { tempDir } from '../helpers/tmp.js';

describe('GGUF header counts', () => {
  it('refuses an array whose item count the file cannot hold, at once, with the key', () => {
    const file = path.join(tempDir(), 'tokens.gguf');
    writeGguf(
      file,
      [
        ['general.architecture', str('llama')],
        ['tokenizer.ggml.tokens', { type: 9, itemType: 8, items: ['a', 'b', 'c'] }],
      ],
      [],
    );
    expect(readGgufHeader(file).metadata.get('tokenizer.ggml.tokens')).toMatchObject({ length: 3, head: ['a', 'b', 'c'] });
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('tokenizer.ggml.tokens') + 'tokenizer.ggml.tokens'.length + 8; // after the value type and item type
    expect(bytes.readBigUInt64LE(at)).toBe(3n);
    bytes.writeBigUInt64LE(2n ** 50n, at);
    const damaged = path.join(tempDir(), 'damaged.gguf');
    fs.writeFileSync(damaged, bytes);
    expect(() => readGgufHeader(damaged)).toThrow(
      expect.objectContaining({
        code: 'not_gguf',
        message: expect.stringMatching(
          /^damaged\.gguf is truncated: its header ends early \(array 'tokenizer\.ggml\.tokens' claims 1125899906842624 items, more than the \d+ bytes left can hold\)$/,
        ),
      }),
    );
  });
});
