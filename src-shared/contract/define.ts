import { z } from 'zod';

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

/**
 * One kind of durable run (a job): the config it is stored and started with (checked when it is submitted and again
 * before every attempt), the figures it records (name → unit; `prefix:*` stands for a family such as `pii:email`),
 * and, where the run's committed items hold a result others read back, that result's shape.
 */
export interface JobDef<C extends z.ZodType, M extends Record<string, string>, I extends z.ZodType> {
  config: C;
  metrics: M;
  item: I;
}

export function job<C extends z.ZodType, M extends Record<string, string> = Record<never, string>, I extends z.ZodType = z.ZodUndefined>(def: {
  config: C;
  metrics?: M;
  item?: I;
}): JobDef<C, M, I> {
  return { config: def.config, metrics: def.metrics ?? ({} as M), item: def.item ?? (z.undefined() as z.ZodType as I) };
}
