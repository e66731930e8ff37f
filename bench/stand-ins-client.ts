import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './processes.js';
import type { FromStandIns, PaceSettings, StandInSettings, ToStandIns } from './protocol.js';

type Ready = Extract<FromStandIns, { type: 'ready' }>;
export type Records = Extract<FromStandIns, { type: 'records' }>;

/** The bench's handle on the stand-ins process (bench/stand-ins.ts). */
export class StandIns {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ready,
  ) {}

  static async start(settings: StandInSettings): Promise<StandIns> {
    const loader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const child = fork(join(root, 'bench', 'stand-ins.ts'), [], {
      execArgv: ['--import', loader],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await ask(child, { type: 'start', settings }, 'ready');
    return new StandIns(child, ready);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Everything recorded since the last collect. */
  collect(): Promise<Records> {
    return ask(this.child, { type: 'collect' }, 'records');
  }

  async setPace(pace: PaceSettings): Promise<void> {
    await ask(this.child, { type: 'pace', pace }, 'paced');
  }

  async stop(): Promise<void> {
    if (!this.child.connected) return;
    await Promise.race([
      ask(this.child, { type: 'stop' }, 'stopped').catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 3000).unref()),
    ]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function ask<T extends FromStandIns['type']>(
  child: ChildProcess,
  message: ToStandIns,
  answer: T,
): Promise<Extract<FromStandIns, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: FromStandIns) => {
      if (raw.type !== answer) return;
      cleanUp();
      resolve(raw as Extract<FromStandIns, { type: T }>);
    };
    const onExit = (code: number | null) => {
      cleanUp();
      reject(new Error(`the stand-ins process exited (${code}) while the bench waited for "${answer}"`));
    };
    const cleanUp = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(message);
  });
}
