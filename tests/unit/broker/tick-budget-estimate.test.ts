// The tick budget's estimate of what a collected job costs after its tick, from a CPU clock the test
// drives: no real time involved.
import { describe, expect, it } from 'vitest';
import { TickBudget } from '../../../src/broker/tick-budget.js';

/** A CPU clock that moves only when told (ms). */
function clock() {
  let ms = 0;
  const read = (from?: NodeJS.CpuUsage): NodeJS.CpuUsage => {
    const now = { user: ms * 1000, system: 0 };
    return from ? { user: now.user - from.user, system: now.system - from.system } : now;
  };
  return { read, spend: (n: number) => (ms += n) };
}

describe('TickBudget', () => {
  it('counts the tick’s own CPU and what its ended jobs will cost', () => {
    const c = clock();
    const b = new TickBudget(25, c.read);
    b.start();
    c.spend(10);
    expect(b.spent()).toBe(10);
    // 500 ends at the first guess (0.02 ms each) fit: 10 + 10 ≤ 25; 1,000 do not.
    expect(b.fits(500)).toBe(true);
    expect(b.fits(1000)).toBe(false);
    b.took(500);
    expect(b.spent()).toBe(20);
    expect(b.left()).toBe(5);
  });

  it('learns the cost of an end from the time between ticks, within bounds', () => {
    const c = clock();
    const b = new TickBudget(25, c.read);
    b.start();
    b.took(100);
    b.end();
    // The 100 collected jobs cost 20 ms before the next tick: 0.2 ms each, averaged with the guess.
    c.spend(20);
    b.start();
    expect(b.endCostMs).toBeCloseTo(0.5 * 0.02 + 0.5 * 0.2);
    // A tick without ends teaches nothing.
    b.end();
    c.spend(1000);
    b.start();
    expect(b.endCostMs).toBeCloseTo(0.11);
    // A wild sample (other work between the ticks) is clamped.
    b.took(1);
    b.end();
    c.spend(1000);
    b.start();
    expect(b.endCostMs).toBeCloseTo(0.5 * 0.11 + 0.5 * 0.25);
  });
});
