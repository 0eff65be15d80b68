import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { ContaminationSummary, EvalExamplesPage, EvalReport } from '../../../src-shared/domain/evaluate.js';
import type { CurationResult } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';

const notYet = (): never => {
  throw new AppError('internal', 'not built yet');
};

/** The Evaluate room: starts evaluation runs and reads their reports. */
export class EvaluateService {
  start(_input: OpParsed<'evaluate.start'>): { runId: number } {
    return notYet();
  }
  report(_runId: number, _routing: OpParsed<'evaluate.report'>['routing']): EvalReport {
    return notYet();
  }
  examples(_input: OpParsed<'evaluate.examples'>): EvalExamplesPage {
    return notYet();
  }
  exportReport(_runId: number, _format: 'md' | 'csv' | 'json', _table: 'systems' | 'leaderboard' | 'all'): { text: string; fileName: string } {
    return notYet();
  }
  sendToCuration(_input: OpParsed<'evaluate.sendToCuration'>): CurationResult {
    return notYet();
  }
  startContamination(_input: OpParsed<'evaluate.contamination'>): { runId: number } {
    return notYet();
  }
  contaminationOf(_runId: number): ContaminationSummary | null {
    return notYet();
  }
}
