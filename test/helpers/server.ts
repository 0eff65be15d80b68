import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit (a crash). */
  kill(): Promise<void>;
}

/** Starts `distillery serve --port 0` as a real child process on a data folder; resolves once it listens. */
export function startServer(dataDir: string, extraArgs: string[] = []): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['bin/distillery.js', 'serve', '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DISTILLERY_GPU: 'false' },
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 90 s:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Distillery listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          proc,
          output: () => out,
          stop: async () => {
            proc.kill('SIGTERM');
            return exited;
          },
          kill: async () => {
            proc.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
}

/** POSTs one contract call the way the renderer's HTTP transport does; returns the Result. */
export async function callHttp(
  url: string,
  op: string,
  input: unknown,
): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string; field?: string } }> {
  const res = await fetch(`${url}/api/call/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return (await res.json()) as { ok: boolean };
}

/** One call's value, through the HTTP host; a failed call throws with the operation and its message. */
export async function callValue<T>(url: string, op: string, input: unknown): Promise<T> {
  const r = await callHttp(url, op, input);
  if (!r.ok) throw new Error(`${op}: ${r.error?.message}`);
  return r.value as T;
}
