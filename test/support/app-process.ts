import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
// Node itself runs the TypeScript entry point through tsx's loader, so that signals reach the app's own process.
const tsxLoader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const entry = join(root, 'src', 'index.ts');

/**
 * The app as a user starts it (`npm start` runs the compiled form of the same entry point), as a real child process
 * that can be stopped with SIGTERM or killed with SIGKILL.
 */
export class AppProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  /** `args` are given to the app after the entry point, as `npm start -- <args>` does (e.g. `--check`). */
  constructor(
    env: Record<string, string | undefined>,
    cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-')),
    args: readonly string[] = [],
  ) {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(SLACK_|IQRA_|CALL_|DEFAULT_|DATABASE_|PORT$|LOG_LEVEL$)/.test(k),
      ),
    );
    this.child = spawn(process.execPath, ['--import', tsxLoader, entry, ...args], {
      cwd,
      env: { ...inherited, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => this.stdout.push(d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The structured log lines printed so far. */
  logs(): Record<string, unknown>[] {
    return this.stdout
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Waits for the "ready" log line and returns the HTTP port it names. */
  async ready(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ready = this.logs().find((l) => l.msg === 'ready');
      if (typeof ready?.port === 'number') return ready.port;
      if (this.child.exitCode !== null) throw new Error(`the app exited early: ${this.stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the app did not say it was ready: ${this.stderr.join('')}`);
  }

  async waitForLog(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.logs().find(predicate);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for the log line: ${what}`);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * The app processes and stand-ins of a test file's tests: after each test its processes still running are killed
 * (SIGKILL) and what was given to `closeAfter` is closed, in that order.
 */
export function processesPerTest(): {
  start(env: Record<string, string | undefined>, cwd?: string, args?: readonly string[]): AppProcess;
  closeAfter(...closable: { close(): Promise<void> }[]): void;
} {
  const processes: AppProcess[] = [];
  const closables: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) if (p.running) p.signal('SIGKILL');
    for (const c of closables.splice(0)) await c.close();
  });
  return {
    start(env, cwd, args) {
      const p = new AppProcess(env, cwd, args);
      processes.push(p);
      return p;
    },
    closeAfter(...closable) {
      closables.push(...closable);
    },
  };
}
