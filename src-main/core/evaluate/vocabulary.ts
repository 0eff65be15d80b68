/**
 * Before an evaluation starts: a student whose vocabulary is not the teacher's cannot be compared with it token by
 * token (divergence), so the run is refused with the reason. Read from the GGUF headers (tokenizer model, token count,
 * the first tokens); the engine checks every token again when both are loaded (native/vocab.ts).
 */
import { readGgufHeader, type MetaValue } from '../gguf/header.js';
import { AppError } from '../../../src-shared/errors.js';

function vocabulary(file: string): { model: string | null; count: number | null; head: unknown[] } {
  const m = readGgufHeader(file).metadata;
  const tokens = m.get('tokenizer.ggml.tokens') as MetaValue | undefined;
  const model = m.get('tokenizer.ggml.model');
  const arr = tokens !== undefined && typeof tokens === 'object' && 'length' in tokens ? tokens : null;
  return { model: typeof model === 'string' ? model : null, count: arr?.length ?? null, head: arr?.head ?? [] };
}

/** `consequence`: what the refusal says after the difference (why it matters and what to do instead). */
export function checkSameVocabulary(
  teacherFile: string,
  studentFile: string,
  field: string,
  teacher: string,
  student: string,
  consequence = "divergence compares their distributions token by token; evaluate without divergence or pick a student of the teacher's family",
): void {
  const a = vocabulary(teacherFile);
  const b = vocabulary(studentFile);
  const refuse = (what: string) => {
    throw new AppError('invalid_input', `${student} does not share ${teacher}'s vocabulary (${what}): ${consequence}`, field);
  };
  if (a.model !== b.model) refuse(`tokenizer ${b.model ?? 'unknown'} against ${a.model ?? 'unknown'}`);
  if (a.count !== b.count) refuse(`${b.count ?? 'no'} tokens against ${a.count ?? 'no'}`);
  const n = Math.min(a.head.length, b.head.length);
  for (let i = 0; i < n; i++) if (a.head[i] !== b.head[i]) refuse(`token ${i} is ${JSON.stringify(b.head[i])} against ${JSON.stringify(a.head[i])}`);
}
