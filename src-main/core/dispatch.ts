import { contract, isOpName, type OpName, type OpOutput, type OpParsed } from '../../src-shared/contract/index.js';
import { toErrorShape, type Result } from '../../src-shared/errors.js';
import { fileError, isFileSystemError } from './files/errors.js';

/** The implementation of every contract operation. Typed by the contract: a missing or mistyped handler does not compile. */
export type Handlers = { [K in OpName]: (input: OpParsed<K>) => Promise<OpOutput<K>> | OpOutput<K> };

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
