// The quantize room's operations (src-shared/contract/quantize.ts) mapped onto its service.
import type { quantizeOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import { AppError } from '../../../src-shared/errors.js';
import type { QuantizeService } from './service.js';

export function quantizeHandlers(deps: { quantize: QuantizeService }): Handlers<typeof quantizeOps> {
  const { quantize } = deps;
  return {
    'quantize.start': (input) => quantize.start(input),
    'quantize.files': ({ runId }) => quantize.files(runId),
    'quantize.results': ({ runId }) => quantize.results(runId),
    'quantize.gateOf': ({ modelId }) => quantize.gateOf(modelId),
    // being built (issue 13): the in-app importance matrix
    'quantize.imatrix': () => {
      throw new AppError('invalid_input', 'quantize.imatrix is not built yet');
    },
  };
}
