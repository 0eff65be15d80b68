/** The fuzzer's thread: runs one input of one parser at a time and says how it ended (see run.ts). */
import { parentPort } from 'node:worker_threads';
import { isTyped, TARGETS, type Accounting } from './targets.js';

export type Job = { parser: string; file: string; scratch: string };
export type Outcome = { kind: 'ok'; accounting: Accounting | null } | { kind: 'typed'; message: string } | { kind: 'crash'; message: string };

const port = parentPort!;
port.on('message', (job: Job) => {
  const target = TARGETS.find((t) => t.name === job.parser)!;
  target.run(job.file, job.scratch).then(
    (accounting) => port.postMessage({ kind: 'ok', accounting } satisfies Outcome),
    (e: unknown) =>
      port.postMessage(
        isTyped(e)
          ? ({ kind: 'typed', message: (e as Error).message.slice(0, 300) } satisfies Outcome)
          : ({ kind: 'crash', message: e instanceof Error ? (e.stack ?? e.message).slice(0, 1500) : String(e) } satisfies Outcome),
      ),
  );
});
port.postMessage('ready');
