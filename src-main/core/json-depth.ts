/**
 * How deep JSON may nest. Real records (chat messages, tool schemas) and file headers (safetensors, adapter_config.json)
 * nest a few levels, tool parameter schemas a dozen or two; deeper is a damaged or hostile input. Checking before any
 * recursive code runs (JSON.stringify, a renderer, a normalizer) turns a stack overflow into one refused record.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of JSON text (`{}` and `[]` outside strings), scanning once without recursion; stops counting
 * past `limit` and returns `limit + 1`. Does not check that the text is valid JSON: JSON.parse does that after.
 */
export function jsonTextDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // skip the string, escapes included
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return limit + 1;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return max;
}

/** The nesting depth of a parsed value, walked with an explicit stack (no recursion); `limit + 1` once past `limit`. */
export function jsonValueDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) {
      max = depth;
      if (max > limit) return limit + 1;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth]);
  }
  return max;
}

/** Why a value or text is refused, for messages: "nests deeper than 64 levels". */
export const TOO_DEEP = `nests deeper than ${MAX_JSON_DEPTH} levels (the limit for JSON)`;
