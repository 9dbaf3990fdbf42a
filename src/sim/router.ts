// The disaggregated server (trtllm-serve disaggregated): /v1/completions sends the prompt to a ctx worker
// (context_only), then to a gen worker (generation_only) and relays the gen worker's answer; round-robin
// over both pools. Also owns the HTTP-500 and hang faults, which act on the client-facing endpoint.
import http from 'node:http';
import type { SimClock } from './engine.js';
import {
  closeServer,
  errorBody,
  isRecord,
  listen,
  parseJsonObject,
  postJson,
  readBody,
  readResponse,
  sendJson,
  openAiServer,
} from './http-util.js';
import type { SimLogger } from './logger.js';
import { createRng } from './rng.js';
import type { SimSettings } from './settings.js';
import { SIM_ARRIVAL, type RunningServer } from './worker.js';

export interface RouterOptions {
  settings: SimSettings;
  clock: SimClock;
  logger: SimLogger;
  ctxUrls: string[];
  genUrls: string[];
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

  const completion = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const arrival = clock.stamp();
    const body = parseJsonObject(await readBody(req));
    if (!body) {
      sendJson(res, 400, errorBody('invalid JSON body', 400));
      access(req, 400);
      return;
    }
    const rate = settings.faults.http500Rate;
    if (rate > 0 && faultRng() < rate) {
      logger.error('Internal server error: simulated failure (simulator.faults.http_500_rate)');
      sendJson(res, 500, errorBody('Internal server error', 500));
      access(req, 500);
      return;
    }
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });

    const ctxUrl = ctxUrls[ctxNext++ % ctxUrls.length] as string;
    const ctxRes = await postJson(
      `${ctxUrl}/v1/completions`,
      {
        ...body,
        stream: false,
        max_tokens: 1,
        disaggregated_params: { request_type: 'context_only', [SIM_ARRIVAL]: arrival },
      },
      { agent, signal: ac.signal },
    );
    const ctxText = await readResponse(ctxRes);
    if (ctxRes.statusCode !== 200) {
      throw new Error(
        `context server ${ctxUrl} answered ${ctxRes.statusCode ?? 0}: ${ctxText.slice(0, 200)}`,
      );
    }
    const ctxBody = parseJsonObject(ctxText);
    const choice = Array.isArray(ctxBody?.choices) ? (ctxBody.choices[0] as unknown) : undefined;
    const ctxParams =
      isRecord(choice) && isRecord(choice.disaggregated_params) ? choice.disaggregated_params : {};

    const genUrl = genUrls[genNext++ % genUrls.length] as string;
    const genRes = await postJson(
      `${genUrl}/v1/completions`,
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

  const server = openAiServer({
    modelPath: settings.modelPath,
    completion,
    onError: (req, _res, msg) => {
      logger.error(`Error processing request: ${msg}`);
      access(req, 500);
    },
    intercept: (req) => {
      if (firstRequestSim === undefined && req.url === '/v1/completions') firstRequestSim = clock.simNow();
      // A hung server accepts connections but never answers (held until the job is killed).
      return hanging();
    },
  });
  const port = await listen(server);
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
