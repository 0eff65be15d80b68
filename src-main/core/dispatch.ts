import type { z } from 'zod';
import { contract, isOpName } from '../../src-shared/contract/index.js';
import type { OpDef } from '../../src-shared/contract/define.js';
import { toErrorShape, type Result } from '../../src-shared/errors.js';
import { fileError, isFileSystemError } from './files/errors.js';

/**
 * The implementation of a set of contract operations: a room's slice (`Handlers<typeof modelsOps>`, exported by
 * `<room>/handlers.ts`) or, by default, the whole contract (what `app.ts` composes). Typed by the contract: a missing,
 * extra or mistyped handler does not compile. Each handler gets its input parsed, with defaults filled.
 */
export type Handlers<C extends Record<string, OpDef<z.ZodType, unknown>> = typeof contract> = {
  [K in keyof C]: C[K] extends OpDef<infer I, infer O> ? (input: z.output<I>) => Promise<O> | O : never;
};

/**
 * The one gate between a host and the services: the op must exist, and its input must pass the contract's schema
 * (strict objects: unknown fields are refused) before any service sees it. Never throws.
 */
export async function dispatch(handlers: Handlers, op: unknown, rawInput: unknown): Promise<Result<unknown>> {
  if (!isOpName(op)) {
    return { ok: false, error: { code: 'unknown_op', message: `there is no operation named ${JSON.stringify(op)}` } };
  }
  const parsed = contract[op].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    const where = field ? `${field}: ` : '';
    return { ok: false, error: { code: 'invalid_input', message: `${op}: ${where}${issue.message}`, field } };
  }
  try {
    const handler = handlers[op] as (input: unknown) => Promise<unknown> | unknown;
    return { ok: true, value: await handler(parsed.data) };
  } catch (e) {
    // The last net for a file system error a service did not name itself: Node's error carries the path.
    const path = (e as NodeJS.ErrnoException | null)?.path;
    const error = isFileSystemError(e) && typeof path === 'string' ? fileError(e, path).toShape() : toErrorShape(e);
    if (error.code === 'internal') console.error(`[distillery] ${op} failed:`, e);
    return { ok: false, error };
  }
}
