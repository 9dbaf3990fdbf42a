// How much a tick may still take on. A tick's own work (poll, ledger writes) is measured as it goes;
// what the jobs it collects cost afterwards (their tests wake, mark them consumed, the ledger archives
// them) comes after the tick, before the next poll, so it is estimated per collected job from what the
// time between the last ticks cost. A burst of 2,500 job ends is then spread over a few ticks instead of
// stalling the process for one.

/** CPU (ms) this process used since `from`. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/** Bounds of the per-end estimate (ms): a measure spoilt by other work must not stop every end. */
const END_COST_MIN_MS = 0.005;
const END_COST_MAX_MS = 0.25;

export class TickBudget {
  /** Estimated CPU (ms) a collected job costs after its tick. */
  endCostMs = 0.02;
  private tickStart?: NodeJS.CpuUsage;
  private lastTickEnd?: NodeJS.CpuUsage;
  private endsLastTick = 0;
  private ends = 0;

  constructor(
    private readonly budgetMs: number,
    private readonly cpu: (from?: NodeJS.CpuUsage) => NodeJS.CpuUsage = (from) => process.cpuUsage(from),
  ) {}

  /** A tick begins (before its poll): the time since the last one tells what its ends cost. */
  start(): void {
    this.tickStart = this.cpu();
    if (this.lastTickEnd && this.endsLastTick > 0) {
      const between = this.cpu(this.lastTickEnd);
      const sample = (between.user + between.system) / 1000 / this.endsLastTick;
      const clamped = Math.min(END_COST_MAX_MS, Math.max(END_COST_MIN_MS, sample));
      this.endCostMs = 0.5 * this.endCostMs + 0.5 * clamped;
    }
    this.ends = 0;
  }

  /** CPU (ms) this tick has used, plus what its collected jobs will. */
  spent(): number {
    if (!this.tickStart) return 0;
    const used = this.cpu(this.tickStart);
    return (used.user + used.system) / 1000 + this.ends * this.endCostMs;
  }

  /** What is left (ms; may be negative). */
  left(): number {
    return this.budgetMs - this.spent();
  }

  /** Whether `ends` more collected jobs still fit. */
  fits(ends: number): boolean {
    return this.spent() + ends * this.endCostMs <= this.budgetMs;
  }

  /** These jobs ended in this tick and will be collected. */
  took(ends: number): void {
    this.ends += ends;
  }

  /** The tick is over: what follows until the next one is its collected jobs' work. */
  end(): void {
    this.lastTickEnd = this.cpu();
    this.endsLastTick = this.ends;
  }
}
