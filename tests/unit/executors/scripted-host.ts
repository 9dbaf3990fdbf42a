// A Host that answers scheduler commands from a script and records every exec and written file: the
// SLURM executor's unit tests drive it without a cluster.
import type { CommandResult, Host } from '../../../src/executors/types.js';

/** The answer to one command; `undefined` = success with no output. */
export type ScriptedAnswer = (command: string) => CommandResult | undefined;

export class ScriptedHost implements Host {
  readonly description = 'scripted';
  readonly calls: string[] = [];
  readonly written = new Map<string, string | Buffer>();
  constructor(private readonly answer: ScriptedAnswer) {}
  async exec(command: string): Promise<CommandResult> {
    this.calls.push(command);
    return this.answer(command) ?? { code: 0, stdout: '', stderr: '' };
  }
  async mkdirp(): Promise<void> {}
  async writeFile(p: string, content: string | Buffer): Promise<void> {
    this.written.set(p, content);
  }
  async getFile(): Promise<void> {}
  async listFiles(): Promise<Array<{ path: string; size: number }>> {
    return [];
  }
  async homeDir(): Promise<string> {
    return '/home/bench';
  }
  async close(): Promise<void> {}
}
