// A simulated TRT-LLM worker (trtllm-serve): role `ctx` runs prefill and answers with the first token,
// role `gen` decodes with in-flight batching and streams tokens (SSE) or answers once (JSON). Request
// parsing, response shapes and routes live in the openai-* modules.
import { DecodeEngine, PrefillEngine, type IterInfo, type SimClock } from './engine.js';
import { crashTraceback } from './faults.js';
import { closeServer, listen, readRequestBody, sendJson } from './http-util.js';
import { IterStats } from './iter-stats.js';
import { kvTransferMs } from './latency-model.js';
import { trtTimestamp, type SimLogger } from './logger.js';
import type { SimSettings } from './settings.js';
import { parseBody, parseRequest } from './openai-request.js';
import { contextOnlyBody, CompletionWriter, responseId, usageOf } from './openai-response.js';
import { openAiServer, type CompletionHandler } from './openai-server.js';
import { completionFor, fillerText, tokenize, type ModelBehaviour } from './sim-model.js';

export type Role = 'ctx' | 'gen';

export interface WorkerOptions {
  role: Role;
  index: number;
  settings: SimSettings;
  clock: SimClock;
  logger: SimLogger;
  /** Called after the crash traceback is written (process mode: exit; in-process: close the server). */
  onCrash?: () => void;
}

export interface RunningServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Only every Nth decode iteration is logged: real logs print all, but that would cost CPU for nothing. */
const GEN_ITER_LOG_EVERY = 50;

let requestCounter = 0;

function iterLine(info: IterInfo, role: Role): string {
  const ctxReq = role === 'ctx' ? info.active : 0;
  const ctxTok = role === 'ctx' ? info.newTokens : 0;
  const genTok = role === 'gen' ? Math.round(info.newTokens) : 0;
  return (
    `iter = ${info.iter}, global_rank = 0, rank = 0, currank_total_memory = 0.00GB, ` +
    `elapsed_time = ${(info.stepMs / 1000).toFixed(6)}s, timestamp = ${trtTimestamp()}, ` +
    `num_scheduled_requests: ${info.active}, states = {'num_ctx_requests': ${ctxReq}, ` +
    `'num_ctx_tokens': ${ctxTok}, 'num_generation_tokens': ${genTok}}`
  );
}

function behaviour(s: SimSettings): ModelBehaviour {
  return { seed: s.seed, accuracy: s.accuracy, styles: s.styles };
}

/** Text of tokens [from, to) of a completion made of `answerToks` followed by filler. */
function slice(answerToks: string[], from: number, to: number): string {
  const a = answerToks.slice(from, Math.min(to, answerToks.length)).join('');
  return a + fillerText(to - Math.max(from, answerToks.length));
}

/**
 * Simulator-only stamps (real time, see SimClock.stamp) in disaggregated_params: when the router received
 * the request, and when the ctx worker's prefill ended.
 */
export const SIM_ARRIVAL = 'sim_arrival';
export const SIM_PREFILL_DONE = 'sim_prefill_done';

/** The version the simulated stack reports. */
export const SIM_VERSION = '0.0.0-disagg-sim';

export async function startWorker(opts: WorkerOptions): Promise<RunningServer> {
  const { role, index, settings, clock, logger } = opts;
  const w = role === 'ctx' ? settings.ctx : settings.gen;
  const name = `${role.toUpperCase()}_${index}`;
  const printIter = w.printIterLog;
  const stats = new IterStats(w.maxBatchSize);
  // Every iteration is kept for /metrics; the log gets them only with print_iter_log, as TRT-LLM's does.
  const prefill = new PrefillEngine(clock, settings.ctx, (i) => {
    stats.record(i, 'ctx');
    if (printIter && role === 'ctx') logger.info(iterLine(i, 'ctx'));
  });
  const decode = new DecodeEngine(clock, settings.gen, (i) => {
    stats.record(i, 'gen');
    if (printIter && role === 'gen' && i.iter % GEN_ITER_LOG_EVERY === 0) logger.info(iterLine(i, 'gen'));
  });
  const model = behaviour(settings);

  logger.info(`Simulated TensorRT-LLM worker ${name} (disagg-sim), pid ${process.pid}`);
  logger.info(
    `Loading model ${settings.modelPath}: tensor_parallel_size=${w.tp}, max_batch_size=${w.maxBatchSize}` +
      (role === 'ctx'
        ? `, max_num_tokens=${settings.ctx.maxNumTokens}`
        : `, num_nextn_predict_layers=${settings.gen.mtpLayers}, stream_interval=${settings.gen.streamInterval}`),
  );
  // Real workers print their version like this; the history records it as the served software's version.
  logger.info(`[TensorRT-LLM] TensorRT-LLM version: ${SIM_VERSION}`);
  logger.info(`time_scale=${settings.timeScale} (real seconds per simulated second)`);
  if (settings.gen.slowdown !== 1)
    logger.info(`slowdown=${settings.gen.slowdown} (every step that much slower)`);

  const served = { id: settings.modelPath, contextLength: settings.contextLength };
  let crashed = false;

  const handleCompletion: CompletionHandler = async (endpoint, req, res) => {
    const r = parseRequest(endpoint, parseBody(await readRequestBody(req)), served);
    const meta = {
      id: responseId(endpoint, `${process.pid}-${++requestCounter}`),
      created: Math.floor(Date.now() / 1000),
      model: r.model,
      endpoint,
    };
    const promptTokens = r.prompts.reduce((n, p) => n + p.tokens, 0);
    const dp = r.disaggregatedParams;
    /** A stamp the previous stage of the stack put into disaggregated_params, as this clock's time. */
    const stamped = (key: string): number | undefined =>
      typeof dp?.[key] === 'number' ? clock.simAt(dp[key]) : undefined;
    /** Prefills every prompt of the batch; resolves with the last one's end. */
    const prefillAll = async (arrival?: number): Promise<number> =>
      Math.max(...(await Promise.all(r.prompts.map((p) => prefill.prefill(p.tokens, arrival)))));

    if (role === 'ctx') {
      const end = await prefillAll(stamped(SIM_ARRIVAL));
      const params = {
        request_type: 'context_only',
        ctx_request_id: requestCounter,
        [SIM_PREFILL_DONE]: clock.stampAt(end),
      };
      sendJson(
        res,
        200,
        contextOnlyBody(meta, r.prompts.length, params, usageOf(promptTokens, r.prompts.length)),
      );
      return;
    }

    // A request that did not go through a ctx worker is prefilled here (aggregated serving).
    const prefilled = dp?.request_type !== 'generation_only' ? await prefillAll() : stamped(SIM_PREFILL_DONE);

    const writer = new CompletionWriter(
      res,
      meta,
      { stream: r.stream, includeUsage: r.includeUsage, promptTokens },
      r.prompts.length,
    );
    let closed = false;
    const finished = r.prompts.map(() => false);
    const seqs = r.prompts.map((p, index) => {
      const comp = completionFor(p.text, r.maxTokens, r.ignoreEos, model);
      const answerToks = comp.tokens <= 4096 ? tokenize(comp.text) : [];
      let sent = 0;
      return {
        target: comp.tokens,
        onTokens: (count: number, done: boolean, avgDecoded: number): void => {
          if (closed) return;
          const from = sent;
          sent += count;
          finished[index] = done;
          writer.write(
            index,
            slice(answerToks, from, sent),
            count,
            done ? { reason: comp.finishReason, avgDecoded } : undefined,
          );
        },
      };
    });
    res.on('close', () => {
      if (writer.finished) return;
      closed = true;
      seqs.forEach((seq, i) => {
        if (!finished[i]) decode.cancel(seq);
      });
    });
    // The KV cache is here once the transfer that began at the end of the prefill is over: the relay's
    // host latency overlaps it instead of adding to it.
    const ready = (prefilled ?? clock.simNow()) + kvTransferMs(promptTokens) * settings.gen.slowdown;
    const wait = (ready - clock.simNow()) * settings.timeScale;
    const start = (): void => {
      if (!closed) for (const seq of seqs) decode.add(seq);
    };
    if (wait > 0) setTimeout(start, wait);
    else start();
  };

  const server = openAiServer({
    modelId: settings.modelPath,
    version: SIM_VERSION,
    completion: handleCompletion,
    metrics: () => Promise.resolve(stats.drain()),
    healthy: () => !crashed,
    onError: (_req, msg) => logger.error(`Error in completion request: ${msg}`),
  });

  const port = await listen(server);
  logger.raw(`INFO:     Started server process [${process.pid}]`);
  logger.raw('INFO:     Waiting for application startup.');
  logger.raw('INFO:     Application startup complete.');
  logger.raw(`INFO:     Uvicorn running on http://127.0.0.1:${port} (Press CTRL+C to quit)`);

  let crashTimer: NodeJS.Timeout | undefined;
  const crash = settings.faults.crash;
  if (crash && crash.worker === role && crash.index === index) {
    crashTimer = setTimeout(
      () => {
        logger.raw(crashTraceback(role, crash.message, trtTimestamp()));
        // Process mode exits right here; in-process mode simulates the death by dropping everything.
        opts.onCrash?.();
        crashed = true;
        prefill.stop();
        decode.stop();
        server.closeAllConnections();
      },
      crash.afterS * 1000 * settings.timeScale,
    );
  }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (crashTimer) clearTimeout(crashTimer);
      prefill.stop();
      decode.stop();
      await closeServer(server);
    },
  };
}
