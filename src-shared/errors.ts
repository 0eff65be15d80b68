/** Error codes both sides understand. A host turns every failure into `{ code, message }`. */
export const ERROR_CODES = [
  'invalid_input', // the call's input failed the contract's schema
  'unknown_op', // no such operation in the contract
  'not_found', // the id names nothing
  'file_missing', // a path that does not exist (or vanished since it was added)
  'not_a_file', // a directory or device where a file was expected
  'file_exists', // writing would replace an existing file the user did not ask to replace
  'file_access', // the file system refused: permission denied, a symlink loop, a name too long...
  'not_gguf', // the file is not a valid GGUF (bad magic, truncated, empty...)
  'conflict', // the operation does not fit the current state (e.g. cancel a finished run)
  'cancelled', // the caller cancelled
  'out_of_memory', // a model too large for this machine
  'engine_error', // llama.cpp refused or failed
  'internal', // a bug: the message says what happened
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorShape {
  code: ErrorCode;
  /** A sentence a user can act on, e.g. "notes.txt is not a GGUF file: it starts with bytes 'hell'". */
  message: string;
  /** For invalid_input: the dotted path of the offending field. */
  field?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.field = field;
  }
  toShape(): AppErrorShape {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Any thrown value as the wire shape; unknown errors become `internal` with their message. */
export function toErrorShape(e: unknown): AppErrorShape {
  if (e instanceof AppError) return e.toShape();
  if (e instanceof Error) return { code: 'internal', message: e.message };
  return { code: 'internal', message: String(e) };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppErrorShape };
