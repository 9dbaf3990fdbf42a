// The per-request latencies of one concurrency from benchmark_serving's `--save-result` JSON
// (RESULT_JSON in each concurrency dir, see src/jobdir/files.ts): `ttfts` (s), `itls` (s, one list per request), `output_lens`,
// `errors` and `duration` (s), as vLLM and TensorRT-LLM write them. E2EL is TTFT + the request's ITLs
// (its last token's arrival), TPOT is the ITLs ÷ (output tokens − 1), as benchmark_serving computes
// them; `e2els`/`tpots` arrays (s), when a client writes them, are taken as they are.
import { readFile } from 'node:fs/promises';

/** One request as the benchmark recorded it. */
export interface RequestLatency {
  /** False for a failed request (an error, no output): it never meets an SLO. */
  ok: boolean;
  ttftMs?: number;
  /** Undefined when the request produced one output token (there is no time per output token). */
  tpotMs?: number;
  e2elMs?: number;
}

export interface BenchRequests {
  requests: RequestLatency[];
  durationS: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function numAt(list: unknown, i: number): number | undefined {
  if (!Array.isArray(list)) return undefined;
  const v: unknown = list[i];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Requests of a parsed result JSON; undefined when it has no per-request data or no duration. */
export function benchRequestsOf(json: unknown): BenchRequests | undefined {
  if (!isObject(json)) return undefined;
  const { ttfts, itls, output_lens: outLens, errors, duration } = json;
  if (!Array.isArray(ttfts) || typeof duration !== 'number') return undefined;
  const e2els = json.e2els ?? json.latencies;
  const tpots = json.tpots;
  const requests = ttfts.map((_, i): RequestLatency => {
    const error: unknown = Array.isArray(errors) ? errors[i] : undefined;
    const outLen = numAt(outLens, i);
    const ok = (typeof error !== 'string' || error === '') && (outLen === undefined || outLen > 0);
    if (!ok) return { ok: false };
    const ttft = numAt(ttfts, i);
    const gaps: unknown = Array.isArray(itls) ? itls[i] : undefined;
    const decode = Array.isArray(gaps)
      ? gaps.reduce<number>((s, g) => s + (typeof g === 'number' && Number.isFinite(g) ? g : 0), 0)
      : undefined;
    const e2el = numAt(e2els, i) ?? (ttft !== undefined && decode !== undefined ? ttft + decode : undefined);
    const tpot =
      numAt(tpots, i) ??
      (decode !== undefined && outLen !== undefined && outLen > 1 ? decode / (outLen - 1) : undefined);
    return {
      ok: true,
      ...(ttft !== undefined ? { ttftMs: ttft * 1000 } : {}),
      ...(tpot !== undefined ? { tpotMs: tpot * 1000 } : {}),
      ...(e2el !== undefined ? { e2elMs: e2el * 1000 } : {}),
    };
  });
  return { requests, durationS: duration };
}

/** Read one per-concurrency result file; undefined when it is absent or holds no per-request data. */
export async function readBenchRequests(file: string): Promise<BenchRequests | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return benchRequestsOf(JSON.parse(text));
  } catch {
    // A half-written file (the job killed while saving) has no usable requests.
    return undefined;
  }
}
