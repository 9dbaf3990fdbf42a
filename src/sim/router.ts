// The disaggregated server (trtllm-serve disaggregated): /v1/completions and /v1/chat/completions send the
// request to a ctx worker (context_only), then to a gen worker (generation_only) and relay the gen worker's
// answer (a worker's 4xx verbatim); round-robin over both pools. Also owns the HTTP-500 and hang faults, which act on the client-facing endpoint.
import http from 'node:http';
import type { SimClock } from './engine.js';
import {
  closeServer,
  getJson,
  isRecord,
  listen,
  parseJsonObject,
  postJson,
  readRequestBody,
  readResponse,
} from './http-util.js';
import type { SimLogger } from './logger.js';
import { HttpError, sendError, serverError } from './openai-errors.js';
import { ENDPOINT_PATHS, parseBody, parseRequest } from './openai-request.js';
import { openAiServer, type CompletionHandler } from './openai-server.js';
import { createRng } from './rng.js';
import type { SimSettings } from './settings.js';
import { SIM_ARRIVAL, SIM_VERSION, type RunningServer } from './worker.js';

const METRICS_TIMEOUT_MS = 5_000;

function isCompletionPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0];
  return path === ENDPOINT_PATHS.completions || path === ENDPOINT_PATHS.chat;
}

/** A copy of `body` without `keys`. */
function without(body: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...body };
  for (const k of keys) delete out[k];
  return out;
}

export interface RouterOptions {
  settings: SimSettings;
  clock: SimClock;
  logger: SimLogger;
  ctxUrls: string[];
  genUrls: string[];
  /** 0 or absent: a free port. */
  port?: number;
}

export async function startRouter(opts: RouterOptions): Promise<RunningServer> {
  const { settings, clock, logger, ctxUrls, genUrls } = opts;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const faultRng = createRng(settings.seed ^ 0x5000);
  let ctxNext = 0;
  let genNext = 0;
  /** The hang clock starts at the first completion request, so the stack hangs mid-benchmark. */
  let firstRequestSim: number | undefined;
  let hangLogged = false;

  logger.info(`Simulated disaggregated server (disagg-sim), pid ${process.pid}`);
  logger.info(`context_servers: ${ctxUrls.join(', ')}`);
  logger.info(`generation_servers: ${genUrls.join(', ')}`);

  const hanging = (): boolean => {
    const h = settings.faults.hangAfterS;
    if (h === undefined || firstRequestSim === undefined || clock.simNow() - firstRequestSim < h * 1000) {
      return false;
    }
    if (!hangLogged) {
      hangLogged = true;
      logger.warn('Server stopped responding (simulator.faults.hang)');
    }
    return true;
  };

  const access = (req: http.IncomingMessage, status: number): void => {
    logger.raw(`INFO:     127.0.0.1 - "${req.method ?? ''} ${req.url ?? ''} HTTP/1.1" ${status}`);
  };

  const served = { id: settings.modelPath, contextLength: settings.contextLength };

  /** A worker's 4xx is the client's fault: relayed as it is (status and body). */
  const relay = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    ct: string | undefined,
    text: string,
  ): void => {
    res.writeHead(status, ct ? { 'content-type': ct } : {});
    res.end(text);
    access(req, status);
  };

  const completion: CompletionHandler = async (endpoint, req, res) => {
    const arrival = clock.stamp();
    let body: Record<string, unknown>;
    try {
      body = parseBody(await readRequestBody(req));
      // Validated here too, so a bad request is refused before it costs a prefill.
      parseRequest(endpoint, body, served);
    } catch (e) {
      if (e instanceof HttpError) access(req, e.status);
      throw e;
    }
    const rate = settings.faults.http500Rate;
    if (rate > 0 && faultRng() < rate) {
      logger.error('Internal server error: simulated failure (simulator.faults.http_500_rate)');
      sendError(res, serverError());
      access(req, 500);
      return;
    }
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const path = ENDPOINT_PATHS[endpoint];

    const ctxUrl = ctxUrls[ctxNext++ % ctxUrls.length] as string;
    const ctxRes = await postJson(
      `${ctxUrl}${path}`,
      {
        ...without(body, ['stream_options', 'max_completion_tokens']),
        stream: false,
        max_tokens: 1,
        disaggregated_params: { request_type: 'context_only', [SIM_ARRIVAL]: arrival },
      },
      { agent, signal: ac.signal },
    );
    const ctxText = await readResponse(ctxRes);
    const ctxStatus = ctxRes.statusCode ?? 0;
    if (ctxStatus >= 400 && ctxStatus < 500) {
      relay(req, res, ctxStatus, ctxRes.headers['content-type'], ctxText);
      return;
    }
    if (ctxStatus !== 200) {
      throw new Error(`context server ${ctxUrl} answered ${ctxStatus}: ${ctxText.slice(0, 200)}`);
    }
    const ctxBody = parseJsonObject(ctxText);
    const choice = Array.isArray(ctxBody?.choices) ? (ctxBody.choices[0] as unknown) : undefined;
    const ctxParams =
      isRecord(choice) && isRecord(choice.disaggregated_params) ? choice.disaggregated_params : {};

    const genUrl = genUrls[genNext++ % genUrls.length] as string;
    const genRes = await postJson(
      `${genUrl}${path}`,
      { ...body, disaggregated_params: { ...ctxParams, request_type: 'generation_only' } },
      { agent, signal: ac.signal },
    );
    const headers: http.OutgoingHttpHeaders = {};
    const ct = genRes.headers['content-type'];
    if (ct) headers['content-type'] = ct;
    res.writeHead(genRes.statusCode ?? 502, headers);
    access(req, genRes.statusCode ?? 502);
    genRes.pipe(res);
    await new Promise<void>((resolve, reject) => {
      genRes.on('end', resolve);
      genRes.on('error', reject);
      genRes.on('close', resolve);
    });
  };

  /**
   * Every worker's iteration stats, each tagged with the worker it came from. A worker that does not
   * answer (e.g. crashed) is left out rather than failing the whole list.
   */
  const metrics = async (): Promise<unknown[]> => {
    const one = async (url: string, serverRole: string): Promise<unknown[]> => {
      const v = await getJson(`${url}/metrics`, METRICS_TIMEOUT_MS, agent);
      return Array.isArray(v) ? v.map((s) => (isRecord(s) ? { ...s, serverRole, serverUrl: url } : s)) : [];
    };
    const lists = await Promise.allSettled([
      ...ctxUrls.map((u) => one(u, 'context')),
      ...genUrls.map((u) => one(u, 'generation')),
    ]);
    return lists.flatMap((l) => (l.status === 'fulfilled' ? l.value : []));
  };

  const server = openAiServer({
    modelId: settings.modelPath,
    version: SIM_VERSION,
    completion,
    metrics,
    onError: (req, msg) => {
      logger.error(`Error processing request: ${msg}`);
      access(req, 500);
    },
    intercept: (req) => {
      if (firstRequestSim === undefined && req.method === 'POST' && isCompletionPath(req.url)) {
        firstRequestSim = clock.simNow();
      }
      // A hung server accepts connections but never answers (held until the job is killed).
      return hanging();
    },
  });
  const port = await listen(server, opts.port ?? 0);
  logger.raw(`INFO:     Started server process [${process.pid}]`);
  logger.raw('INFO:     Application startup complete.');
  logger.raw(`INFO:     Uvicorn running on http://127.0.0.1:${port} (Press CTRL+C to quit)`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      agent.destroy();
      await closeServer(server);
    },
  };
}
