// The `distillery` command: one file per room adds its commands (models, datasets, distill, adapters with perplexity,
// export-training, quantize, imatrix, kld, evaluate, secrets, runs, serve) on the shared helpers of options.ts, open.ts and output.ts; main() runs them and turns a
// failure into one line on stderr and an exit code. main() takes an Io (output.ts), so a test or a program can run the
// CLI in its own process; every command closes what it opened (the app, the data lock) before it returns.
// Only light modules are imported at the top of these files, so `--help` and `--version` answer at once: the app
// (SQLite, node-llama-cpp, every service), the HTTP host and the data lock are loaded by the commands that need them
// (open.ts, serve.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { APP_VERSION } from '../../src-shared/version.js';
import { addAdapterCommands } from './adapters.js';
import { addQuantizeCommand } from './quantize.js';
import { addImatrixCommand } from './imatrix.js';
import { addEngineCommands } from './engine.js';
import { addKldCommand } from './kld.js';
import { addDatasetCommands } from './datasets.js';
import { addDistillCommand } from './distill.js';
import { addEvaluateCommands } from './evaluate.js';
import { addModelCommands } from './models.js';
import { processIo, reportFailure, type Io } from './output.js';
import { addRunCommands } from './runs.js';
import { addSecretCommands } from './secrets.js';
import { addServeCommand } from './serve.js';
import { addTrainingCommand } from './training.js';

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('distillery')
    .description('Distillery: a local workbench for distilling small language models and LoRA adapters')
    .version(APP_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  // Before the subcommands, which take the program's output settings when they are made. On the process's own streams
  // commander keeps its defaults (help as wide as the terminal, colours when it has them); elsewhere it writes as to a pipe.
  if (io.out !== processIo.out || io.err !== processIo.err) {
    program.configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      getOutHelpWidth: () => 80,
      getErrHelpWidth: () => 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  }
  // in the order `--help` lists them
  addServeCommand(program, io);
  addModelCommands(program, io);
  addDatasetCommands(program, io);
  addDistillCommand(program, io);
  addAdapterCommands(program, io);
  addTrainingCommand(program, io);
  addQuantizeCommand(program, io);
  addImatrixCommand(program, io);
  addEngineCommands(program, io);
  addKldCommand(program, io);
  addEvaluateCommands(program, io);
  addSecretCommands(program, io);
  addRunCommands(program, io);
  return program;
}

/**
 * Runs one command line (without the program name) and resolves to its exit code. Output goes to `io` (by default the
 * process's stdout and stderr, and its environment and stdin); nothing here exits the process, except `serve` on a signal
 * and a Ctrl+C typed at the `secrets set` prompt.
 */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const full: Io = { out: io.out ?? processIo.out, err: io.err ?? processIo.err, env: io.env ?? processIo.env, stdin: io.stdin ?? processIo.stdin };
  const program = buildProgram(full);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportFailure(full, e);
  }
}

// Run when executed directly (bin/distillery.js, or `node --import tsx src-main/cli/index.ts`).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
