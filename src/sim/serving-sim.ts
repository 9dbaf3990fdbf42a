// The benchmark's numbers: a discrete-event simulation of one benchmark_serving run (one concurrency)
// against the disaggregated deployment, on a virtual clock. Nothing here reads the wall clock, so the
// numbers are the model's alone: identical under any host load, and hours of traffic take milliseconds.
//
// The model, in the order a request meets it:
//   client   closed loop as benchmark_serving runs it: `concurrency` requests in flight, the next one is
//            sent the moment one finishes; request rate inf.
//   router   round-robin over ctx servers and over gen servers; refuses a request longer than the context
//            (HTTP 400, as the live stack does); applies the HTTP-500 and hang faults.
//   ctx      FIFO; one prefill batch at a time of at most max_batch_size requests and max_num_tokens
//            tokens (a longer single request runs alone); ×tp ranks' worth of each with attention DP.
//   KV       transfer ctx → gen per request, after its prefill.
//   gen      continuous batching: a sequence whose KV cache arrives takes a free slot of the least-loaded
//            rank (max_batch_size per rank; tp ranks with attention DP, else 1) and decodes from the next
//            iteration; without a free slot it queues FIFO until an iteration ends with one. Its first
//            token (made by the ctx worker) goes out when it takes the slot. Each iteration gives every
//            sequence 1 + the accepted MTP draft tokens; the stream flushes every stream_interval
//            iterations and at the finish.
// Service times come from latency-model.ts, × `slowdown`, × noise (noise.ts).
import type { RequestResult } from './bench-client.js';
import { EventQueue } from './event-queue.js';
import {
  decodeIterMs,
  DECODE_KV_MS_PER_1K,
  DECODE_SEQ_MS,
  HOP_MS,
  kvTransferMs,
  MTP_ACCEPT,
  prefillBatchMs,
} from './latency-model.js';
import { ServiceNoise } from './noise.js';
import { createRng, hashString } from './rng.js';

/** benchmark_serving's aiohttp timeout: a request the server never answers fails after 6 h. */
export const CLIENT_TIMEOUT_MS = 6 * 3600 * 1000;

export interface ServingModel {
  numCtx: number;
  numGen: number;
  ctx: { tp: number; maxBatchSize: number; maxNumTokens: number; attentionDp: boolean };
  gen: { tp: number; maxBatchSize: number; mtpLayers: number; streamInterval: number; attentionDp: boolean };
  /** Longest prompt + output a request may ask for (max_seq_len): longer ones get HTTP 400. */
  contextLength: number;
  /** Every service time × this. */
  slowdown: number;
  /** Relative standard deviation of service times (noise.ts); 0 = none. */
  noise: number;
  faults: { http500Rate: number; hangAfterS?: number };
}

export interface LevelRequest {
  inLen: number;
  outLen: number;
}

/** One request as the client saw it (benchmark_serving's fields), plus the model's breakdown. */
export interface SimRequest extends RequestResult {
  /** Virtual ms since the level's start. */
  sendAt: number;
  /** Its prefill batch's time and its KV transfer time. */
  prefillMs: number;
  transferMs: number;
  /** Shortest and total decode iteration time it was part of. */
  minIterMs: number;
  /** From taking its slot to its first iteration's start (the rest of the iteration then running). */
  joinWaitMs: number;
  decodeMs: number;
  iterations: number;
}

export interface LevelTrace {
  requests: SimRequest[];
  /** Last answer − first send, virtual ms (benchmark_serving's duration). */
  durationMs: number;
}

export interface LevelOptions {
  /** Seed of the workload's own randomness (MTP acceptance, HTTP-500 draws): `simulator.seed`. */
  seed: number;
  /** Seed of the service-time noise: changes run to run (the job id). */
  noiseSeed: number;
  /** Virtual ms of the job's benchmark before this level (the hang fault counts from the first request). */
  startAtMs?: number;
}

interface Req extends SimRequest {
  id: number;
  gen: number;
  rank: number;
  generated: number;
  sinceChunk: number;
  lastChunkAt: number;
}

interface CtxServer {
  queue: Req[];
  head: number;
  busy: boolean;
  batch: Req[];
}

interface GenServer {
  rankSeqs: number[];
  rankKv: number[];
  active: Req[];
  /** Took a free slot during the running iteration: they decode from the next one. */
  joining: Req[];
  waiting: Req[];
  head: number;
  stepping: boolean;
  iterMs: number;
  mtpRng: () => number;
}

type SimEvent =
  | { kind: 'ctxArrive'; req: Req; ctx: number }
  | { kind: 'prefillDone'; ctx: number }
  | { kind: 'genArrive'; req: Req }
  | { kind: 'iterDone'; gen: number }
  | { kind: 'answered'; req: Req };

/** Simulates one benchmark run: `requests` in order, at most `concurrency` in flight. */
export function simulateLevel(
  model: ServingModel,
  requests: readonly LevelRequest[],
  concurrency: number,
  opts: LevelOptions,
): LevelTrace {
  const q = new EventQueue<SimEvent>();
  const level = `${concurrency}:${requests.length}`;
  const noise = new ServiceNoise(model.noise, opts.noiseSeed, `level:${level}`);
  const ctxFactor = Array.from({ length: model.numCtx }, (_, i) => noise.serverFactor(`ctx${i}`));
  const genFactor = Array.from({ length: model.numGen }, (_, i) => noise.serverFactor(`gen${i}`));
  const faultRng = createRng(hashString(`${opts.seed}:faults:${level}`));
  const hangAt =
    model.faults.hangAfterS === undefined ? Infinity : model.faults.hangAfterS * 1000 - (opts.startAtMs ?? 0);

  const ctxRanks = model.ctx.attentionDp ? model.ctx.tp : 1;
  const genRanks = model.gen.attentionDp ? model.gen.tp : 1;
  const ctxs: CtxServer[] = Array.from({ length: model.numCtx }, () => ({
    queue: [],
    head: 0,
    busy: false,
    batch: [],
  }));
  const gens: GenServer[] = Array.from({ length: model.numGen }, (_, g) => ({
    rankSeqs: new Array<number>(genRanks).fill(0),
    rankKv: new Array<number>(genRanks).fill(0),
    active: [],
    joining: [],
    waiting: [],
    head: 0,
    stepping: false,
    iterMs: 0,
    mtpRng: createRng(hashString(`${opts.seed}:mtp:${g}:${level}`)),
  }));

  const out: Req[] = [];
  let next = 0;
  let ctxNext = 0;
  let genNext = 0;
  let lastAnswer = 0;

  const fail = (r: Req, at: number, error: string): void => {
    r.error = error;
    q.push(at, { kind: 'answered', req: r });
  };

  /** The client sends its next request at `t` (closed loop). */
  const send = (t: number): void => {
    if (next >= requests.length) return;
    const id = next++;
    const spec = requests[id] as LevelRequest;
    const r: Req = {
      id,
      success: false,
      error: '',
      promptLen: spec.inLen,
      outputLen: spec.outLen,
      ttft: 0,
      latency: 0,
      itl: [],
      avgDecoded: 0,
      sendAt: t,
      prefillMs: 0,
      transferMs: 0,
      minIterMs: Infinity,
      joinWaitMs: 0,
      decodeMs: 0,
      iterations: 0,
      gen: 0,
      rank: 0,
      generated: 0,
      sinceChunk: 0,
      lastChunkAt: 0,
    };
    out.push(r);
    const atRouter = t + HOP_MS;
    if (atRouter >= hangAt) {
      fail(r, t + CLIENT_TIMEOUT_MS, `TimeoutError: no answer after ${CLIENT_TIMEOUT_MS / 1000} s`);
      return;
    }
    if (spec.inLen + spec.outLen > model.contextLength) {
      fail(
        r,
        atRouter + HOP_MS,
        `HTTP 400: context_length_exceeded (${spec.inLen} prompt + ${spec.outLen} output tokens > max_seq_len ${model.contextLength})`,
      );
      return;
    }
    if (model.faults.http500Rate > 0 && faultRng() < model.faults.http500Rate) {
      fail(r, atRouter + HOP_MS, 'HTTP 500: Internal server error (simulator.faults.http_500_rate)');
      return;
    }
    r.gen = genNext++ % model.numGen;
    q.push(atRouter + HOP_MS, { kind: 'ctxArrive', req: r, ctx: ctxNext++ % model.numCtx });
  };

  const startPrefill = (t: number, c: number): void => {
    const s = ctxs[c] as CtxServer;
    if (s.busy || s.head >= s.queue.length) return;
    const maxReqs = model.ctx.maxBatchSize * ctxRanks;
    const maxTokens = model.ctx.maxNumTokens * ctxRanks;
    let tokens = 0;
    let squares = 0;
    s.batch = [];
    while (s.head < s.queue.length && s.batch.length < maxReqs) {
      const r = s.queue[s.head] as Req;
      if (s.batch.length > 0 && tokens + r.promptLen > maxTokens) break;
      s.batch.push(r);
      s.head++;
      tokens += r.promptLen;
      squares += r.promptLen * r.promptLen;
    }
    if (s.head > 1024 && s.head * 2 > s.queue.length) {
      s.queue.splice(0, s.head);
      s.head = 0;
    }
    const dur =
      prefillBatchMs(tokens, squares, model.ctx.tp) *
      model.slowdown *
      (ctxFactor[c] as number) *
      noise.jitter();
    for (const r of s.batch) r.prefillMs = dur;
    s.busy = true;
    q.push(t + dur, { kind: 'prefillDone', ctx: c });
  };

  const busiestShard = (g: GenServer): { seqs: number; kv: number } => {
    if (!model.gen.attentionDp) {
      let seqs = 0;
      let kv = 0;
      for (let i = 0; i < g.rankSeqs.length; i++) {
        seqs += g.rankSeqs[i] as number;
        kv += g.rankKv[i] as number;
      }
      return { seqs: seqs / model.gen.tp, kv: kv / model.gen.tp };
    }
    let best = { seqs: 0, kv: 0 };
    let bestCost = -1;
    for (let i = 0; i < g.rankSeqs.length; i++) {
      const seqs = g.rankSeqs[i] as number;
      const kv = g.rankKv[i] as number;
      const cost = DECODE_SEQ_MS * seqs + (DECODE_KV_MS_PER_1K * kv) / 1000;
      if (cost > bestCost) {
        bestCost = cost;
        best = { seqs, kv };
      }
    }
    return best;
  };

  const finish = (g: GenServer, r: Req, clientAt: number): void => {
    g.rankSeqs[r.rank] = (g.rankSeqs[r.rank] as number) - 1;
    g.rankKv[r.rank] = (g.rankKv[r.rank] as number) - (r.promptLen + r.generated);
    r.success = true;
    r.lastChunkAt = clientAt;
    q.push(clientAt, { kind: 'answered', req: r });
  };

  /** The least-loaded rank of `g` if it has a free slot. */
  const freeRank = (g: GenServer): number | undefined => {
    let rank = 0;
    for (let i = 1; i < g.rankSeqs.length; i++)
      if ((g.rankSeqs[i] as number) < (g.rankSeqs[rank] as number)) rank = i;
    return (g.rankSeqs[rank] as number) < model.gen.maxBatchSize ? rank : undefined;
  };

  /**
   * `r` takes a slot on `rank` at `t`: its KV cache is in place, so its first token (the ctx worker's)
   * goes out now. Returns false when it needs no decoding (a single output token).
   */
  const seat = (t: number, g: GenServer, r: Req, rank: number): boolean => {
    r.rank = rank;
    r.generated = 1;
    g.rankSeqs[rank] = (g.rankSeqs[rank] as number) + 1;
    g.rankKv[rank] = (g.rankKv[rank] as number) + r.promptLen + 1;
    const clientAt = t + 2 * HOP_MS;
    r.ttft = clientAt - r.sendAt;
    r.lastChunkAt = clientAt;
    if (r.outputLen > 1) return true;
    finish(g, r, clientAt);
    return false;
  };

  /** At an iteration boundary, queued sequences take the free slots, first come first served. */
  const admit = (t: number, gi: number): void => {
    const g = gens[gi] as GenServer;
    while (g.head < g.waiting.length) {
      const rank = freeRank(g);
      if (rank === undefined) break;
      const r = g.waiting[g.head++] as Req;
      if (seat(t, g, r, rank)) g.active.push(r);
    }
    if (g.head > 1024 && g.head * 2 > g.waiting.length) {
      g.waiting.splice(0, g.head);
      g.head = 0;
    }
  };

  const startIteration = (t: number, gi: number): void => {
    const g = gens[gi] as GenServer;
    if (g.active.length === 0) {
      g.stepping = false;
      return;
    }
    const shard = busiestShard(g);
    g.iterMs =
      decodeIterMs(shard.seqs, shard.kv, model.gen.tp, model.gen.mtpLayers) *
      model.slowdown *
      (genFactor[gi] as number) *
      noise.jitter();
    g.stepping = true;
    q.push(t + g.iterMs, { kind: 'iterDone', gen: gi });
  };

  const iterDone = (t: number, gi: number): void => {
    const g = gens[gi] as GenServer;
    const dur = g.iterMs;
    const clientAt = t + 2 * HOP_MS;
    const mtp = model.gen.mtpLayers;
    const interval = model.gen.streamInterval;
    let kept = 0;
    for (let i = 0; i < g.active.length; i++) {
      const r = g.active[i] as Req;
      let accepted = 1;
      while (accepted <= mtp && g.mtpRng() < MTP_ACCEPT) accepted++;
      const gain = Math.min(accepted, r.outputLen - r.generated);
      r.generated += gain;
      g.rankKv[r.rank] = (g.rankKv[r.rank] as number) + gain;
      r.iterations++;
      r.decodeMs += dur;
      if (dur < r.minIterMs) r.minIterMs = dur;
      r.sinceChunk++;
      if (r.generated >= r.outputLen) {
        r.itl.push(clientAt - r.lastChunkAt);
        finish(g, r, clientAt);
        continue;
      }
      if (r.sinceChunk >= interval) {
        r.itl.push(clientAt - r.lastChunkAt);
        r.lastChunkAt = clientAt;
        r.sinceChunk = 0;
      }
      g.active[kept++] = r;
    }
    g.active.length = kept;
    for (const r of g.joining) {
      r.joinWaitMs = t + 2 * HOP_MS - r.lastChunkAt;
      g.active.push(r);
    }
    g.joining.length = 0;
    admit(t, gi);
    startIteration(t, gi);
  };

  for (let i = 0; i < Math.min(concurrency, requests.length); i++) send(0);
  for (let e = q.pop(); e !== undefined; e = q.pop()) {
    const t = e.at;
    const ev = e.event;
    switch (ev.kind) {
      case 'ctxArrive': {
        const s = ctxs[ev.ctx] as CtxServer;
        s.queue.push(ev.req);
        startPrefill(t, ev.ctx);
        break;
      }
      case 'prefillDone': {
        const s = ctxs[ev.ctx] as CtxServer;
        for (const r of s.batch) {
          r.transferMs =
            kvTransferMs(r.promptLen) * model.slowdown * (genFactor[r.gen] as number) * noise.jitter();
          // The gen request goes through the router; the gen worker then pulls the KV cache.
          q.push(t + 2 * HOP_MS + r.transferMs, { kind: 'genArrive', req: r });
        }
        s.busy = false;
        startPrefill(t, ev.ctx);
        break;
      }
      case 'genArrive': {
        const g = gens[ev.req.gen] as GenServer;
        const rank = g.head < g.waiting.length ? undefined : freeRank(g);
        if (rank === undefined) {
          g.waiting.push(ev.req);
        } else if (seat(t, g, ev.req, rank)) {
          if (g.stepping) g.joining.push(ev.req);
          else g.active.push(ev.req);
        }
        if (!g.stepping) startIteration(t, ev.req.gen);
        break;
      }
      case 'iterDone':
        iterDone(t, ev.gen);
        break;
      case 'answered': {
        const r = ev.req;
        r.latency = t - r.sendAt;
        if (r.success) {
          r.outputLen = r.generated;
          r.avgDecoded = r.iterations > 0 ? (r.generated - 1) / r.iterations : 1;
        } else {
          r.outputLen = 0;
          r.ttft = 0;
          r.itl = [];
        }
        lastAnswer = Math.max(lastAnswer, t);
        send(t);
        break;
      }
    }
  }
  return { requests: out, durationMs: lastAnswer };
}
