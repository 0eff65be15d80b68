import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileError, withFileErrors } from '../../src-main/core/files/errors.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

// Issue 10, point 6: file errors on paths the user names reach them as one sentence naming the file and the reason,
// with a typed code, never Node's "ELOOP: too many symbolic links encountered, stat '…'" nor code `internal`.
let ws: Workspace;
let dir: string;
beforeAll(() => {
  ws = makeWorkspace();
  dir = tempDir();
});
afterAll(() => ws.close());

/** The error Node raises for `fn` (a real file system call). */
function raised(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('file errors', () => {
  it('maps what the file system says to a code and a sentence', () => {
    const loop = path.join(dir, 'loop');
    fs.symlinkSync(loop, loop);
    const file = path.join(dir, 'file.txt');
    fs.writeFileSync(file, 'x');
    const long = path.join(dir, 'n'.repeat(300));
    const cases: [unknown, string, string, string][] = [
      [raised(() => fs.statSync(path.join(dir, 'none'))), path.join(dir, 'none'), 'file_missing', `${path.join(dir, 'none')} does not exist`],
      [raised(() => fs.statSync(loop)), loop, 'file_access', `${loop}: too many levels of symbolic links (a symlink that points back to itself?)`],
      [raised(() => fs.readFileSync(dir)), dir, 'not_a_file', `${dir} is a folder, not a file`],
      [raised(() => fs.statSync(path.join(file, 'below'))), file, 'not_a_file', `${file}: a part of the path is a file, not a folder`],
      [raised(() => fs.statSync(long)), long, 'invalid_input', `${long}: the name is too long for the file system`],
      [raised(() => fs.statSync('a\0b')), 'a\0b', 'invalid_input', '"a\\u0000b": a path cannot contain a NUL byte'],
      // Tests run as root here, which no permission stops: Node's error for a refused open, as it shapes it.
      [
        Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: file }),
        file,
        'file_access',
        `${file}: permission denied`,
      ],
    ];
    for (const [error, at, code, message] of cases) expect(fileError(error, at).toShape(), message).toEqual({ code, message });
    const parserBug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(
      raised(() =>
        withFileErrors(file, () => {
          throw parserBug;
        }),
      ),
    ).toBe(parserBug); // not a file error: untouched
  });

  it('names the file through the contract: a symlink loop given to import, adapters and scan', async () => {
    const loop = path.join(dir, 'loop.gguf');
    fs.symlinkSync(loop, loop);
    const why = `${loop}: too many levels of symbolic links (a symlink that points back to itself?)`;
    await expect(ws.client.call('datasets.import', { path: loop, name: 'x' })).rejects.toMatchObject({ code: 'file_access', message: why });
    await expect(ws.client.call('adapters.import', { path: loop })).rejects.toMatchObject({ code: 'file_access', message: why });
    const folder = path.join(dir, 'folder-loop');
    fs.symlinkSync(folder, folder);
    const { runId } = await ws.client.call('models.scan', { folder });
    expect(await ws.app.runner.waitFor(runId)).toMatchObject({
      status: 'failed',
      error: `${folder}: too many levels of symbolic links (a symlink that points back to itself?)`,
    });
  });
});
