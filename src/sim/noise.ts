// Run-to-run noise as a parameter: service times are multiplied by 1 + σ·z (z standard normal, clipped
// at ±3 so a time never turns negative or absurd). Two parts, as on real clusters: each server gets one
// factor per run with σ = noise (clocks, thermals, placement: what makes two runs differ by a percent or
// two), and every prefill batch, transfer and decode iteration its own with σ = noise/2 (jitter within a
// run, which mostly averages out). noise 0 draws nothing: reruns are then identical to the byte.
import { createRng, hashString } from './rng.js';

const CLIP = 3;
const JITTER_SHARE = 0.5;

export class ServiceNoise {
  private readonly rng: () => number;
  private spare: number | undefined;

  /** `runSeed`: one per run (server factors); `stream`: names this sequence of jitter draws. */
  constructor(
    private readonly noise: number,
    private readonly runSeed: number,
    stream: string,
  ) {
    this.rng = createRng(hashString(`${runSeed}:${stream}`));
  }

  /** This run's factor of one server (`label` names it, so adding a server leaves the others' alone). */
  serverFactor(label: string): number {
    if (this.noise <= 0) return 1;
    return 1 + this.noise * clip(gaussian(createRng(hashString(`${this.runSeed}:server:${label}`))));
  }

  /** The factor of one service time within the run: half the run-to-run spread (kernels repeat well). */
  jitter(): number {
    if (this.noise <= 0) return 1;
    return 1 + JITTER_SHARE * this.noise * clip(this.normal());
  }

  /** Box–Muller, both values used. */
  private normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const [a, b] = gaussianPair(this.rng);
    this.spare = b;
    return a;
  }
}

function clip(z: number): number {
  return Math.max(-CLIP, Math.min(CLIP, z));
}

function gaussianPair(rng: () => number): [number, number] {
  const u = 1 - rng(); // (0, 1]: log(0) never happens
  const v = rng();
  const r = Math.sqrt(-2 * Math.log(u));
  return [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
}

function gaussian(rng: () => number): number {
  return gaussianPair(rng)[0];
}
