// The `distillery` command: one file per room adds its commands (models, datasets, distill, adapters with perplexity,
// secrets, runs, serve) on the shared helpers of options.ts, open.ts and output.ts; main() runs them and turns a
// failure into one line on stderr and an exit code.
// Only light modules are imported at the top of these files, so `--help` and `--version` answer at once: the app
// (SQLite, node-llama-cpp, every service), the HTTP host and the data lock are loaded by the commands that need them
// (open.ts, serve.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { APP_VERSION } from '../../src-shared/version.js';
import { addAdapterCommands } from './adapters.js';
import { addDatasetCommands } from './datasets.js';
import { addDistillCommand } from './distill.js';
import { addModelCommands } from './models.js';
import { reportFailure } from './output.js';
import { addRunCommands } from './runs.js';
import { addSecretCommands } from './secrets.js';
import { addServeCommand } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('distillery')
    .description('Distillery: a local workbench for distilling small language models and LoRA adapters')
    .version(APP_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  // in the order `--help` lists them
  addServeCommand(program);
  addModelCommands(program);
  addDatasetCommands(program);
  addDistillCommand(program);
  addAdapterCommands(program);
  addSecretCommands(program);
  addRunCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}

// Run when executed directly (bin/distillery.js, or `node --import tsx src-main/cli/index.ts`).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
