import type { z } from 'zod';
import type { JobDef } from './define.js';
import { systemJobs } from './system.js';
import { modelsJobs } from './models.js';
import { datasetsJobs } from './datasets.js';
import { distillJobs } from './distill.js';
import { adaptersJobs } from './adapters.js';
import { quantizeJobs } from './quantize.js';
import { evaluateJobs } from './evaluate.js';
import { trainingJobs } from './training.js';

/**
 * Every kind of durable run, named `room.kind`: its config, its figures and its items' results. The runner checks a
 * config against its kind when the run is submitted and before every attempt, and reads stored configs through it.
 */
export const jobs = {
  ...systemJobs,
  ...modelsJobs,
  ...datasetsJobs,
  ...distillJobs,
  ...adaptersJobs,
  ...quantizeJobs,
  ...evaluateJobs,
  ...trainingJobs,
} as const;

type Jobs = typeof jobs;
/** A job declaration of any kind. */
export type AnyJob = JobDef<z.ZodType, Record<string, string>, z.ZodType>;

export type JobKindName = keyof Jobs;
export const JOB_KINDS = Object.keys(jobs) as [JobKindName, ...JobKindName[]];
export function isJobKind(name: unknown): name is JobKindName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(jobs, name);
}
export function jobDef(kind: JobKindName): AnyJob {
  return jobs[kind] as AnyJob;
}

/** What a run of kind K is submitted with (defaults may be left out). */
export type JobConfigInput<K extends JobKindName> = z.input<Jobs[K]['config']>;
/** A run's config as jobs and pages read it: parsed, defaults filled. */
export type JobConfig<K extends JobKindName> = z.output<Jobs[K]['config']>;
/** The result a committed item of kind K holds, where it holds one. */
export type JobItem<K extends JobKindName> = z.output<Jobs[K]['item']>;
/** The figures a run of kind K records; a declared `prefix:*` stands for `prefix:<anything>`. */
export type JobMetric<K extends JobKindName> = ExpandFamily<keyof Jobs[K]['metrics'] & string>;
type ExpandFamily<S extends string> = S extends `${infer P}:*` ? `${P}:${string}` : S;

/** The unit of a figure a kind declares, or null when it declares no such figure. */
export function metricUnit(def: AnyJob, name: string): string | null {
  const metrics = def.metrics;
  if (Object.prototype.hasOwnProperty.call(metrics, name)) return metrics[name]!;
  const family = name.includes(':') ? `${name.slice(0, name.indexOf(':'))}:*` : null;
  return family !== null && Object.prototype.hasOwnProperty.call(metrics, family) ? metrics[family]! : null;
}
