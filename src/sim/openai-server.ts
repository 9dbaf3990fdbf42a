// The OpenAI-compatible HTTP surface both the workers and the router are (trtllm-serve's routes):
// /health, /health_generate, /version, /metrics, /v1/models[/{id}], /v1/completions, /v1/chat/completions.
// Unknown paths answer 404 and known paths with the wrong method 405, both OpenAI-shaped; a completion
// handler's HttpError becomes its 4xx; anything else thrown is logged and answered with a 500.
import http from 'node:http';
import { LOOPBACK, postJson, readResponse, sendJson } from './http-util.js';
import { HttpError, sendError, serverError } from './openai-errors.js';
import { ENDPOINT_PATHS, type Endpoint } from './openai-request.js';

export type CompletionHandler = (
  endpoint: Endpoint,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => Promise<void>;

export interface OpenAiServerOptions {
  modelId: string;
  version: string;
  completion: CompletionHandler;
  /** JSON list for `/metrics` (trtllm-serve: the iteration stats since the last call). */
  metrics: () => Promise<unknown[]>;
  /** False once the server can no longer serve (e.g. a simulated crash): `/health` then answers 503. */
  healthy?: () => boolean;
  onError: (req: http.IncomingMessage, message: string) => void;
  /** Sees every request first and may answer it itself (returns true), e.g. a hang. */
  intercept?: (req: http.IncomingMessage) => boolean;
}

const ROUTES: Record<string, 'GET' | 'POST'> = {
  '/health': 'GET',
  '/health_generate': 'GET',
  '/version': 'GET',
  '/metrics': 'GET',
  '/v1/models': 'GET',
  [ENDPOINT_PATHS.completions]: 'POST',
  [ENDPOINT_PATHS.chat]: 'POST',
};
const MODEL_PREFIX = '/v1/models/';
const HEALTH_GENERATE_TIMEOUT_MS = 30_000;

function modelCard(id: string): Record<string, unknown> {
  return { id, object: 'model', created: 0, owned_by: 'tensorrt_llm' };
}

export function openAiServer(opts: OpenAiServerOptions): http.Server {
  let selfUrl = '';

  /** trtllm-serve's generation health check: a one-token chat through this very server. */
  const healthGenerate = async (res: http.ServerResponse): Promise<void> => {
    try {
      const r = await postJson(
        `${selfUrl}${ENDPOINT_PATHS.chat}`,
        { messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 1, temperature: 0 },
        { timeoutMs: HEALTH_GENERATE_TIMEOUT_MS },
      );
      const text = await readResponse(r);
      if (r.statusCode === 200) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Generation health check OK');
      } else {
        sendError(
          res,
          new HttpError(
            503,
            `Generation health check failed: HTTP ${r.statusCode ?? 0}: ${text.slice(0, 200)}`,
            'unhealthy',
          ),
        );
      }
    } catch (e) {
      sendError(
        res,
        new HttpError(
          503,
          `Generation health check failed: ${e instanceof Error ? e.message : String(e)}`,
          'unhealthy',
        ),
      );
    }
  };

  const completion = (endpoint: Endpoint, req: http.IncomingMessage, res: http.ServerResponse): void => {
    opts.completion(endpoint, req, res).catch((e: unknown) => {
      if (res.destroyed) return;
      const err = e instanceof HttpError ? e : undefined;
      if (!err || err.status >= 500) opts.onError(req, e instanceof Error ? e.message : String(e));
      if (!res.headersSent) sendError(res, err ?? serverError());
      else res.destroy();
    });
  };

  const server = http.createServer((req, res) => {
    if (opts.intercept?.(req)) return;
    const path = (req.url ?? '/').split('?')[0] as string;
    const method = req.method ?? '';
    const allowed = ROUTES[path] ?? (path.startsWith(MODEL_PREFIX) ? 'GET' : undefined);
    if (allowed === undefined) {
      sendError(res, new HttpError(404, `Not found: ${method} ${path.slice(0, 200)}`, 'not_found'));
      return;
    }
    if (method !== allowed) {
      const err = new HttpError(
        405,
        `Method ${method} not allowed on ${path}; use ${allowed}`,
        'method_not_allowed',
      );
      sendError(res, err, { allow: allowed });
      return;
    }
    // The body of a GET is never read: drain it so the connection stays usable.
    if (method === 'GET') req.resume();
    switch (path) {
      case '/health':
        if (opts.healthy?.() === false)
          sendError(res, new HttpError(503, 'server is not healthy', 'unhealthy'));
        else res.writeHead(200).end();
        return;
      case '/health_generate':
        void healthGenerate(res);
        return;
      case '/version':
        sendJson(res, 200, { version: opts.version });
        return;
      case '/metrics':
        opts.metrics().then(
          (stats) => sendJson(res, 200, stats),
          (e: unknown) =>
            sendError(res, serverError(`metrics: ${e instanceof Error ? e.message : String(e)}`)),
        );
        return;
      case '/v1/models':
        sendJson(res, 200, { object: 'list', data: [modelCard(opts.modelId)] });
        return;
      case ENDPOINT_PATHS.completions:
        completion('completions', req, res);
        return;
      case ENDPOINT_PATHS.chat:
        completion('chat', req, res);
        return;
      default: {
        const id = decodeURIComponentSafe(path.slice(MODEL_PREFIX.length));
        if (id === opts.modelId) sendJson(res, 200, modelCard(id));
        else
          sendError(
            res,
            new HttpError(404, `The model '${id.slice(0, 200)}' does not exist`, 'model_not_found', 'model'),
          );
      }
    }
  });
  server.keepAliveTimeout = 60_000;
  server.on('listening', () => {
    const addr = server.address();
    if (addr !== null && typeof addr !== 'string') selfUrl = `http://${LOOPBACK}:${addr.port}`;
  });
  return server;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
