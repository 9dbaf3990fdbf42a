// GPU lock clocks written to the perf CSV's sm_clk / mem_clk columns (the original's
// GPU_RESOURCE_CONFIG lock_freq_* entries; None there is 0 in the CSV).

interface LockClocks {
  smClk: number;
  memClk: number;
}

const LOCK_CLOCKS: Readonly<Record<string, LockClocks>> = {
  GB200: { smClk: 2062, memClk: 3996 },
  GB200_LYRIS: { smClk: 0, memClk: 0 },
  GB300: { smClk: 0, memClk: 0 },
  H100: { smClk: 0, memClk: 0 },
  B200: { smClk: 0, memClk: 0 },
  B300: { smClk: 0, memClk: 0 },
};

/** Lock clocks for a raw GPU_TYPE; unknown or unset → 0/0 (the original raised a KeyError). */
export function lockClocks(gpuType: string | undefined): LockClocks {
  if (gpuType === undefined) return { smClk: 0, memClk: 0 };
  return LOCK_CLOCKS[gpuType.toUpperCase()] ?? { smClk: 0, memClk: 0 };
}
