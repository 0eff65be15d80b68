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
    // being built (issue 13): the gate
    'quantize.results': () => {
      throw new AppError('invalid_input', 'quantize.results is not built yet');
    },
    'quantize.gateOf': () => {
      throw new AppError('invalid_input', 'quantize.gateOf is not built yet');
    },
    'quantize.imatrix': (input) => quantize.imatrix(input),
  };
}
