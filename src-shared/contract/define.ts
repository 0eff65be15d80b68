import type { z } from 'zod';

/**
 * One operation of the contract: the zod schema its input must pass at the host, and (as a phantom type)
 * what it returns. Declared once; both hosts and the renderer's client are typed by it.
 */
export interface OpDef<I extends z.ZodType, O> {
  input: I;
  /** Never set at run time: carries the output type. */
  readonly output?: O;
}

export function op<O>() {
  return <I extends z.ZodType>(input: I): OpDef<I, O> => ({ input });
}

/** An event the main side pushes (run progress, streamed tokens). Payload type only. */
export interface EventDef<P> {
  readonly payload?: P;
}
export function event<P>(): EventDef<P> {
  return {};
}
