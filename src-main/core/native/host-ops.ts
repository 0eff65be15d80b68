/**
 * The engine host's operations (protocol.ts declares their types). Each handler runs in the child, checks its input
 * before anything reaches C, and yields with `ctx.checkpoint()` between decode steps so a cancel is seen.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { Handler, HostContext } from './engine-host.js';
import type { EngineOps, ModelRef, OpName } from './protocol.js';
import { scoreOp } from './score.js';
import { scoreSequencesOp } from './score-sequences.js';
import { vocabularyPieces } from './vocab.js';
import { generateOp } from './generate-op.js';
import { imatrixOp } from './imatrix-op.js';
import { speedOp } from './speed-op.js';

function modelRef(v: unknown, field = 'model'): ModelRef {
  const m = v as ModelRef | undefined;
  if (!m || typeof m.path !== 'string' || m.path === '') throw new AppError('invalid_input', `${field}.path must name a model file`, `${field}.path`);
  if (m.gpuLayers !== undefined && !Number.isInteger(m.gpuLayers))
    throw new AppError('invalid_input', `${field}.gpuLayers must be a whole number`, `${field}.gpuLayers`);
  return m;
}

type Args<K extends OpName> = EngineOps[K]['args'];

export const HOST_OPS: { [K in OpName]: Handler<K> } = {
  info: (_args, ctx: HostContext) => ctx.info(),
  tokenize: (raw, ctx) => {
    const a = raw as Args<'tokenize'>;
    if (typeof a.text !== 'string') throw new AppError('invalid_input', 'text must be a string', 'text');
    return { tokens: ctx.model(modelRef(a.model)).tokenize(a.text, { addSpecial: !!a.addSpecial, parseSpecial: !!a.parseSpecial }) };
  },
  detokenize: (raw, ctx) => {
    const a = raw as Args<'detokenize'>;
    return { text: ctx.model(modelRef(a.model)).detokenize(a.tokens ?? [], !!a.special) };
  },
  score: scoreOp,
  scoreSequences: (raw, ctx) => {
    const a = raw as Args<'scoreSequences'>;
    modelRef(a?.model);
    if (a.base) modelRef(a.base.model, 'base.model');
    return scoreSequencesOp(a, ctx);
  },
  vocabulary: (raw, ctx) => vocabularyPieces(ctx.llama.lib, ctx.model(modelRef((raw as Args<'vocabulary'>).model))),
  generate: generateOp,
  imatrix: imatrixOp,
  speed: speedOp,
  checkContext: (raw, ctx) => {
    const a = raw as Args<'checkContext'>;
    const c = ctx.llama.createContext(ctx.model(modelRef(a.model)), { nCtx: a.nCtx, nBatch: a.nBatch, nSeqMax: a.nSeqMax ?? 1, threads: a.threads });
    const r = { nCtx: c.nCtx, nBatch: c.nBatch, nSeqMax: c.nSeqMax };
    c.free();
    return r;
  },
  unload: (_args, ctx) => ({ freed: ctx.unloadAll() }),
  crash: () => process.abort(),
};
