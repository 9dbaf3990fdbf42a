// A simulated TRT-LLM worker (trtllm-serve): role `ctx` runs prefill and answers with the first token,
// role `gen` decodes with in-flight batching and streams tokens (SSE) or answers once (JSON).
import http from 'node:http';
import { DecodeEngine, PrefillEngine, type IterInfo, type SimClock } from './engine.js';
import { crashTraceback } from './faults.js';
import {
  closeServer,
  errorBody,
  isRecord,
  listen,
  parseJsonObject,
  readBody,
  sendJson,
  openAiServer,
} from './http-util.js';
import { kvTransferMs } from './latency-model.js';
import { trtTimestamp, type SimLogger } from './logger.js';
import type { SimSettings } from './settings.js';
import { completionFor, countTokens, fillerText, tokenize, type ModelBehaviour } from './sim-model.js';

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
  const prefill = new PrefillEngine(
    clock,
    settings.ctx,
    printIter && role === 'ctx' ? (i) => logger.info(iterLine(i, 'ctx')) : undefined,
  );
  const decode = new DecodeEngine(
    clock,
    settings.gen,
    printIter && role === 'gen'
      ? (i) => {
          if (i.iter % GEN_ITER_LOG_EVERY === 0) logger.info(iterLine(i, 'gen'));
        }
      : undefined,
  );
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

  const handleCompletion = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = parseJsonObject(await readBody(req));
    if (!body || typeof body.prompt !== 'string') {
      sendJson(res, 400, errorBody('prompt (string) is required', 400));
      return;
    }
    const prompt = body.prompt;
    const promptTokens = countTokens(prompt);
    const maxTokens =
      typeof body.max_tokens === 'number' && body.max_tokens >= 1 ? Math.floor(body.max_tokens) : 16;
    const id = `cmpl-${process.pid}-${++requestCounter}`;
    const created = Math.floor(Date.now() / 1000);
    const modelName = typeof body.model === 'string' ? body.model : settings.modelPath;

    const dp = isRecord(body.disaggregated_params) ? body.disaggregated_params : undefined;
    /** A stamp the previous stage of the stack put into disaggregated_params, as this clock's time. */
    const stamped = (key: string): number | undefined =>
      typeof dp?.[key] === 'number' ? clock.simAt(dp[key]) : undefined;

    if (role === 'ctx') {
      const end = await prefill.prefill(promptTokens, stamped(SIM_ARRIVAL));
      sendJson(res, 200, {
        id,
        object: 'text_completion',
        created,
        model: modelName,
        choices: [
          {
            index: 0,
            text: '',
            finish_reason: 'length',
            disaggregated_params: {
              request_type: 'context_only',
              ctx_request_id: requestCounter,
              [SIM_PREFILL_DONE]: clock.stampAt(end),
            },
          },
        ],
        usage: { prompt_tokens: promptTokens, completion_tokens: 1, total_tokens: promptTokens + 1 },
      });
      return;
    }

    // A request that did not go through a ctx worker is prefilled here (aggregated serving).
    const prefilled =
      dp?.request_type !== 'generation_only'
        ? await prefill.prefill(promptTokens)
        : stamped(SIM_PREFILL_DONE);

    const comp = completionFor(prompt, maxTokens, body.ignore_eos === true, model);
    const answerToks = comp.tokens <= 4096 ? tokenize(comp.text) : [];
    const total = comp.tokens;
    const stream = body.stream === true;
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    let sent = 0;
    let closed = false;
    const chunk = (text: string, finish: string | null, extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({
        id,
        object: 'text_completion',
        created,
        model: modelName,
        choices: [{ index: 0, text, logprobs: null, finish_reason: finish, ...extra }],
      })}\n\n`;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: total,
      total_tokens: promptTokens + total,
    };

    const seq = {
      target: total,
      onTokens: (count: number, done: boolean, avgDecoded: number): void => {
        if (closed) return;
        const from = sent;
        sent += count;
        if (stream) {
          const text = slice(answerToks, from, sent);
          res.write(
            done
              ? chunk(text, comp.finishReason, { stop_reason: null, avg_decoded_tokens_per_iter: avgDecoded })
              : chunk(text, null),
          );
          if (done) {
            if (includeUsage) {
              res.write(
                `data: ${JSON.stringify({ id, object: 'text_completion', created, model: modelName, choices: [], usage })}\n\n`,
              );
            }
            res.end('data: [DONE]\n\n');
          }
        } else if (done) {
          sendJson(res, 200, {
            id,
            object: 'text_completion',
            created,
            model: modelName,
            choices: [
              {
                index: 0,
                text: slice(answerToks, 0, total),
                logprobs: null,
                finish_reason: comp.finishReason,
                avg_decoded_tokens_per_iter: avgDecoded,
              },
            ],
            usage,
          });
        }
      },
    };
    res.on('close', () => {
      if (sent < total) {
        closed = true;
        decode.cancel(seq);
      }
    });
    if (stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // The KV cache is here once the transfer that began at the end of the prefill is over: the relay's
    // host latency overlaps it instead of adding to it.
    const ready = (prefilled ?? clock.simNow()) + kvTransferMs(promptTokens) * settings.gen.slowdown;
    const wait = (ready - clock.simNow()) * settings.timeScale;
    if (wait > 0) setTimeout(() => decode.add(seq), wait);
    else decode.add(seq);
  };

  const server = openAiServer({
    modelPath: settings.modelPath,
    completion: handleCompletion,
    onError: (_req, _res, msg) => logger.error(`Error in completion request: ${msg}`),
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
