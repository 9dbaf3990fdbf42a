import type { CommandResult, Host, StreamingCommand } from './types.js';

export type SlurmCommand = 'sbatch' | 'squeue' | 'sacct' | 'scontrol' | 'scancel';

const COMMANDS: readonly SlurmCommand[] = ['sbatch', 'squeue', 'sacct', 'scontrol', 'scancel'];

/**
 * A Host that counts the SLURM commands sent through it: how the benchmark and the tests prove "one squeue
 * per poll tick, whatever the number of jobs".
 */
export class CountingHost implements Host {
  readonly calls: Record<SlurmCommand, number> = { sbatch: 0, squeue: 0, sacct: 0, scontrol: 0, scancel: 0 };

  /** Long-running commands started (the done-marker watcher's loop; it runs no SLURM command). */
  streams = 0;
  readonly stream?: (command: string, onLine: (line: string) => void) => StreamingCommand;

  constructor(private readonly inner: Host) {
    const stream = inner.stream?.bind(inner);
    if (stream)
      this.stream = (command, onLine) => {
        this.streams += 1;
        return stream(command, onLine);
      };
  }

  get description(): string {
    return this.inner.description;
  }

  exec(command: string, options?: { cwd?: string; stdin?: string }): Promise<CommandResult> {
    for (const name of COMMANDS) {
      this.calls[name] += (command.match(new RegExp(`(^|[\\s;&|(])${name}\\s`, 'g')) ?? []).length;
    }
    return this.inner.exec(command, options);
  }

  reset(): void {
    for (const name of COMMANDS) this.calls[name] = 0;
    this.streams = 0;
  }

  mkdirp = (dir: string): Promise<void> => this.inner.mkdirp(dir);
  writeFile = (p: string, c: string | Buffer, m?: number): Promise<void> => this.inner.writeFile(p, c, m);
  getFile = (r: string, l: string, m?: number): Promise<void> => this.inner.getFile(r, l, m);
  listFiles = (dir: string): Promise<Array<{ path: string; size: number }>> => this.inner.listFiles(dir);
  homeDir = (): Promise<string> => this.inner.homeDir();
  close = (): Promise<void> => this.inner.close();
}
