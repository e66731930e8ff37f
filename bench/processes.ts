import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { request } from 'undici';
import { clock, sleep } from './clock.js';

export const root = join(import.meta.dirname, '..');

/** `npm run build`: the app runs compiled, exactly as `npm start` runs it (`node dist/index.js`). */
export function buildApp(appRoot = root): number {
  const started = clock();
  const result = spawnSync('npm', ['run', 'build'], { cwd: appRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`npm run build failed: ${result.stderr?.toString() ?? ''}`);
  return clock() - started;
}

/**
 * The bare app, compiled the same way (TypeScript to plain JavaScript, no loader at run time), so that both cold
 * starts are plain `node file.js`. Written under node_modules/.cache so that `@slack/bolt` resolves from it.
 */
export function buildBareApp(name: 'bare-app' | 'floor-app' = 'bare-app'): string {
  const source = readFileSync(join(root, 'bench', `${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: `${name}.ts`,
  });
  const dir = join(root, 'node_modules', '.cache', 'iqra-calls-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, outputText);
  return file;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'iqra-bench-'));
}

/** A free TCP port on 127.0.0.1 (so that /healthz can be polled from the moment the process is spawned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak) of a process, in bytes; undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

/** CPU time the process has used so far (user + system, from /proc/<pid>/stat), in ms; undefined once it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime and stime are the 12th and
    // 13th of them, in clock ticks (USER_HZ, 100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface ServerProcessOptions {
  name: string;
  /** The script node runs (`dist/index.js` or the compiled bare app). */
  entry: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Its working directory (a new temporary one by default); the log file goes there too. */
  dir?: string;
}

/**
 * One app (or bare app) as a child process, started as `node <entry>` with its own settings (the bench's own
 * environment variables of the app's kinds are not passed on), stdout and stderr going to a log file as a service's
 * would. Its cold start is the time from spawn to the first 200 from GET /healthz. Its memory is sampled every 100 ms.
 */
export class ServerProcess {
  readonly dir: string;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  coldStartMs = Number.NaN;
  port = 0;
  peakRssSampled = 0;
  private readonly child: ChildProcess;
  private readonly spawnedAt: number;
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    readonly options: ServerProcessOptions,
    port: number,
  ) {
    this.port = port;
    this.dir = options.dir ?? tempDir();
    this.logFile = join(this.dir, 'out.log');
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(SLACK_|IQRA_|CALL_|CALLING_|DEFAULT_|DATABASE_|PORT$|LOG_LEVEL$|NODE_OPTIONS$)/.test(k),
      ),
    ) as Record<string, string>;
    const out = openSync(this.logFile, 'a');
    this.spawnedAt = clock();
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry], {
      cwd: this.dir,
      env: { ...inherited, ...options.env, PORT: String(port) },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const child = new ServerProcess(options, await freePort());
    await child.waitHealthy();
    child.sampler = setInterval(() => child.sample(), 100);
    child.sampler.unref();
    return child;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = this.spawnedAt + timeoutMs;
    while (clock() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`${this.options.name} exited early: ${this.tail()}`);
      try {
        const res = await request(`${this.url}/healthz`, {
          headersTimeout: 1000,
          bodyTimeout: 1000,
          reset: true,
        });
        await res.body.text();
        if (res.statusCode === 200) {
          this.coldStartMs = clock() - this.spawnedAt;
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(5);
    }
    throw new Error(`${this.options.name} was not healthy within ${timeoutMs} ms: ${this.tail()}`);
  }

  sample(): void {
    const memory = memoryOf(this.pid);
    if (memory) this.peakRssSampled = Math.max(this.peakRssSampled, memory.rss);
  }

  /** The kernel's peak resident set (VmHWM) so far, or the sampled peak when it can't be read. */
  peakRss(): number {
    return Math.max(memoryOf(this.pid)?.peak ?? 0, this.peakRssSampled);
  }

  /** The log, as the process wrote it. */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 20): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves with how it ended. */
  async stop(timeoutMs = 25_000): Promise<{ code: number | null; killed: boolean; stopMs: number }> {
    const started = clock();
    if (this.sampler) clearInterval(this.sampler);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return { code: this.child.exitCode, killed: false, stopMs: 0 };
    this.child.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), timeoutMs).unref(),
    );
    const outcome = await Promise.race([this.exited, timer]);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      return { code: null, killed: true, stopMs: clock() - started };
    }
    return { code: outcome, killed: false, stopMs: clock() - started };
  }

  /** Kills it if it still runs (on the bench's way out). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  cleanUp(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
