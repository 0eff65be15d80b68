// `distillery secrets …`: API keys of OpenAI-compatible servers, saved encrypted. A key is read from standard input
// (typed without echo on a terminal), never from the command line.
import { CommanderError, type Command } from 'commander';
import { callAndPrint, withClient } from './open.js';
import { dataDirOption, jsonOption, usageError, type Common } from './options.js';
import { print, type InputStream, type Io } from './output.js';

export function addSecretCommands(program: Command, io: Io): void {
  const secrets = program.command('secrets').description('API keys of OpenAI-compatible servers, stored encrypted (never in plain text)');
  secrets
    .command('set')
    .description('save an API key, read from standard input (never from the command line, where other users could see it)')
    .argument('<name>', 'a name to refer to it by, e.g. openai')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common) =>
      withClient(io, opts, async (c) => {
        const value = (await readStdin(io, io.stdin.isTTY ? `API key for ${name} (input hidden): ` : null)).trim();
        if (!value) throw usageError('emptySecret', 'no API key on standard input');
        const saved = await c.call('secrets.set', { name, value });
        print(io, opts, saved, () => `saved ${saved.name} (encrypted: ${saved.backend})`);
      }),
    );
  secrets
    .command('list')
    .description('saved API keys: names and how they are protected, never values')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('secrets.list', {}),
        (r) =>
          r.secrets.length
            ? r.secrets.map((s) => `${s.name}\t${s.backend}\tupdated ${s.updatedAt}`).join('\n')
            : `no saved API keys (new ones are encrypted with: ${r.backend})`,
      ),
    );
  secrets
    .command('delete')
    .description('forget a saved API key')
    .argument('<name>')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((name: string, opts: Common) =>
      withClient(io, opts, async (c) => {
        const r = await c.call('secrets.delete', { name });
        if (!r.deleted) throw new CommanderError(1, 'distillery.notFound', `there is no saved API key named ${name}`);
        print(io, opts, r, () => `deleted ${name}`);
      }),
    );
}

/** All of standard input; on a terminal, one line typed without echo after `prompt` (Ctrl+C there ends the process). */
function readStdin(io: Io, prompt: string | null): Promise<string> {
  const stdin: InputStream = io.stdin;
  if (prompt === null) {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      stdin.on('data', (c: Buffer | string) => chunks.push(Buffer.from(c)));
      stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      stdin.on('error', reject);
    });
  }
  return new Promise((resolve) => {
    io.err(prompt);
    stdin.setRawMode?.(true);
    let value = '';
    const onData = (b: Buffer | string) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode?.(false);
          stdin.off('data', onData);
          stdin.pause();
          io.err('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
