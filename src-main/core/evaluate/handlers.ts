// The evaluate room's operations (src-shared/contract/evaluate.ts) mapped onto its service.
import type { evaluateOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { EvaluateService } from './service.js';

export function evaluateHandlers(deps: { evaluate: EvaluateService }): Handlers<typeof evaluateOps> {
  const { evaluate } = deps;
  return {
    'evaluate.start': (input) => evaluate.start(input),
    'evaluate.report': ({ runId, routing }) => evaluate.report(runId, routing),
    'evaluate.examples': (input) => evaluate.examples(input),
    'evaluate.export': ({ runId, format, table }) => evaluate.exportReport(runId, format, table),
    'evaluate.sendToCuration': (input) => evaluate.sendToCuration(input),
    'evaluate.contamination': (input) => evaluate.startContamination(input),
    'evaluate.contaminationOf': ({ runId }) => evaluate.contaminationOf(runId),
  };
}
