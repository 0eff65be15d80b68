/**
 * llama.cpp built for this machine. node-llama-cpp's prebuilt Linux/Windows CPU binaries are generic variants
 * (e.g. libggml-cpu-haswell, no OpenMP); built here with `GGML_NATIVE` and OpenMP, the same calls run 2–3× faster on
 * these CPUs (docs/performance.md). node-llama-cpp ships llama.cpp's source as a git bundle and builds it with its
 * own CLI (`node-llama-cpp source download`: clone from the bundle, no network; cmake + a C++ compiler), into
 * `<package>/llama/localBuilds/`, and from the next start `getLlama()` prefers that build over its prebuilt binaries.
 * The engine host (native/) then opens the same libraries, so both paths get the faster build.
 *
 * The build runs as a child process in a process group of its own: cancelling kills the whole group (cmake, ninja,
 * the compilers), and whatever the cancelled or failed build left in localBuilds is removed (node-llama-cpp only
 * uses a build whose `buildDone.status` exists, but a partial build takes hundreds of MB).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineBuildState } from '../../../src-shared/contract/system.js';
import { AppError } from '../../../src-shared/errors.js';

/** The node-llama-cpp package this process loads. */
export function nodeLlamaCppDir(): string {
  // the package exports no ./package.json: resolve its entry, then walk up to the folder that names it
  let dir = path.dirname(fileURLToPath(import.meta.resolve('node-llama-cpp')));
  for (let i = 0; i < 8; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'node-llama-cpp') return dir;
    dir = path.dirname(dir);
  }
  throw new AppError('file_missing', 'the node-llama-cpp package folder was not found');
}

const localBuildsDir = (packageDir: string) => path.join(packageDir, 'llama', 'localBuilds');

/** Finished builds (node-llama-cpp writes `buildDone.status` last). */
export function localBuilds(packageDir: string): string[] {
  const dir = localBuildsDir(packageDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => fs.existsSync(path.join(dir, n, 'buildDone.status')))
    .sort();
}

/** The first of `names` found on PATH. */
function onPath(names: string[], env: NodeJS.ProcessEnv): string | null {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const name of names)
    for (const d of dirs)
      for (const ext of exts) {
        const f = path.join(d, name + ext);
        try {
          if (fs.statSync(f).isFile()) return f;
        } catch {
          // not here
        }
      }
  return null;
}

/** cmake on PATH, or the one node-llama-cpp keeps in its xpack folder (from an earlier `source download`). */
function findCmake(packageDir: string, env: NodeJS.ProcessEnv): string | null {
  const own = path.join(packageDir, 'llama', 'xpack', 'xpacks', '.bin', process.platform === 'win32' ? 'cmake.cmd' : 'cmake');
  return onPath(['cmake'], env) ?? (fs.existsSync(own) ? own : null);
}

function findCompiler(env: NodeJS.ProcessEnv): string | null {
  if (process.platform === 'win32') return onPath(['cl', 'clang-cl', 'clang++'], env);
  if (process.platform === 'darwin') return onPath(['clang++', 'c++'], env);
  return onPath(['c++', 'g++', 'clang++'], env);
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What a build would need and what is there; `restartNeeded` is the caller's. */
export function engineBuildState(packageDir: string, env: NodeJS.ProcessEnv = process.env): Omit<EngineBuildState, 'restartNeeded' | 'binary'> {
  const cmake = findCmake(packageDir, env);
  const compiler = findCompiler(env);
  const llamaDir = path.join(packageDir, 'llama');
  let cannotBuild: string | null = null;
  if (packageDir.includes(`.asar${path.sep}`) || packageDir.endsWith('.asar'))
    cannotBuild = 'this is a packaged app: its node-llama-cpp is read-only (build from a source checkout: npm start)';
  else if (!fs.existsSync(path.join(llamaDir, 'gitRelease.bundle')))
    cannotBuild = `${llamaDir} has no gitRelease.bundle: this node-llama-cpp ships no llama.cpp source to build`;
  else if (!writable(llamaDir)) cannotBuild = `${llamaDir} is not writable, so a build cannot be saved there`;
  else if (!cmake) cannotBuild = 'cmake was not found on PATH (install it, e.g. `apt-get install cmake` or `brew install cmake`)';
  else if (!compiler)
    cannotBuild =
      process.platform === 'win32'
        ? 'no C++ compiler was found on PATH (install the Visual Studio Build Tools with "Desktop development with C++")'
        : "no C++ compiler was found on PATH (install one, e.g. `apt-get install g++` or Xcode's command line tools)";
  return { packageDir, localBuilds: localBuilds(packageDir), cmake, compiler, cannotBuild };
}

export interface BuildProgress {
  phase: 'clone' | 'configure' | 'compile';
  done: number;
  total: number;
  line: string;
}

export interface BuildOptions {
  packageDir: string;
  gpu: 'auto' | 'cpu';
  signal?: AbortSignal;
  onProgress?(p: BuildProgress): void;
  env?: NodeJS.ProcessEnv;
}

const COMPILE = /^\[(\d+)\/(\d+)\]\s+(.*)$/;
const CLONE = /Cloning .*?(\d+)%(?! \(Stage)/;
const TAIL_LINES = 12;

/** The build folder(s) a build created, so a cancelled or failed one can be removed. */
function newBuildFolders(packageDir: string, before: Set<string>): string[] {
  const dir = localBuildsDir(packageDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => !before.has(n))
    .map((n) => path.join(dir, n));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    if (process.platform === 'win32') spawnSync('taskkill', ['/pid', String(pid), '/T', '/F']);
    else process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs node-llama-cpp's `source download` (offline: from its bundled source) and resolves with the build folders it
 * finished. Rejects with code `cancelled` when the signal fires, or `engine_error` with the build's last error lines.
 */
export function buildEngine(o: BuildOptions): Promise<string[]> {
  const cli = path.join(o.packageDir, 'dist', 'cli', 'cli.js');
  if (!fs.existsSync(cli)) return Promise.reject(new AppError('file_missing', `node-llama-cpp's CLI is missing: ${cli}`));
  if (o.signal?.aborted) return Promise.reject(new AppError('cancelled', 'the engine build was cancelled'));
  const before = new Set(fs.existsSync(localBuildsDir(o.packageDir)) ? fs.readdirSync(localBuildsDir(o.packageDir)) : []);
  const args = [cli, 'source', 'download', '--gpu', o.gpu === 'cpu' ? 'false' : 'auto', '--noUsageExample'];
  const child = spawn(process.execPath, args, {
    cwd: o.packageDir,
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...(o.env ?? process.env),
      // plain progress lines instead of spinners
      CI: 'true',
      NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'false',
      ...(process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
    },
  });
  const tail: string[] = [];
  let partial = '';
  let callbackError: unknown = null;
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const raw of lines) {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trim();
      if (!line) continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const c = COMPILE.exec(line);
      const k = c ? null : CLONE.exec(line);
      try {
        if (c) o.onProgress?.({ phase: 'compile', done: Number(c[1]), total: Number(c[2]), line: c[3]! });
        else if (k) o.onProgress?.({ phase: 'clone', done: Number(k[1]), total: 100, line });
        else if (/-- Configuring|Build files have been written|cmake/i.test(line)) o.onProgress?.({ phase: 'configure', done: 0, total: 1, line });
      } catch (e) {
        callbackError ??= e;
        killGroup(child.pid);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const cleanup = () => {
    for (const f of newBuildFolders(o.packageDir, before)) fs.rmSync(f, { recursive: true, force: true });
  };
  return new Promise<string[]>((resolve, reject) => {
    const onAbort = () => killGroup(child.pid);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new AppError('engine_error', `the engine build could not start: ${e.message}`)));
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (o.signal?.aborted) {
        cleanup();
        return reject(new AppError('cancelled', 'the engine build was cancelled'));
      }
      if (callbackError !== null) {
        cleanup();
        return reject(callbackError);
      }
      const made = newBuildFolders(o.packageDir, before).filter((f) => fs.existsSync(path.join(f, 'buildDone.status')));
      if (code === 0 && made.length) return resolve(made.map((f) => path.basename(f)));
      cleanup();
      const why =
        tail
          .filter((l) => /error|fail|not found|could not/i.test(l))
          .slice(-3)
          .join(' · ') || tail.slice(-3).join(' · ');
      reject(
        new AppError(
          'engine_error',
          code === 0
            ? 'the engine build ended without a finished build (node-llama-cpp wrote no buildDone.status)'
            : `the engine build failed${sig ? ` (ended by ${sig})` : ` (exit code ${code})`}: ${why}`,
        ),
      );
    });
  });
}
