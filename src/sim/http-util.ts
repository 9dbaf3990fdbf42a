// Small node:http helpers shared by the workers, the router and the clients. Only 127.0.0.1 is used.
import http from 'node:http';

export const LOOPBACK = '127.0.0.1';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function errorBody(message: string, code: number): Record<string, unknown> {
  return { object: 'error', message, type: code >= 500 ? 'InternalServerError' : 'BadRequestError', code };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Listen on 127.0.0.1 (port 0 = a free port chosen by the OS) and return the bound port. */
export function listen(server: http.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') reject(new Error('no TCP address'));
      else resolve(addr.port);
    });
  });
}

/** Close a server and every connection it holds (keep-alive and hung ones included). */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface PostOptions {
  agent?: http.Agent;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** POST a JSON body; resolves with the response once headers arrive (body not consumed). */
export function postJson(url: string, body: unknown, opts: PostOptions = {}): Promise<http.IncomingMessage> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: opts.agent,
        signal: opts.signal,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      resolve,
    );
    if (opts.timeoutMs !== undefined) {
      req.setTimeout(opts.timeoutMs, () =>
        req.destroy(new Error(`request timed out after ${opts.timeoutMs} ms`)),
      );
    }
    req.on('error', reject);
    req.end(text);
  });
}

/** Whole response body as text (bounded in size). */
export function readResponse(res: http.IncomingMessage): Promise<string> {
  return readBody(res);
}

/** GET a URL; resolves with status code (rejects on connection errors / timeout). */
export function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export type CompletionHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * The OpenAI-style server both the workers and the router are: `/health`, `/v1/models`,
 * `/v1/completions`; a completion that throws gets a 500 (or a cut connection once streaming started).
 * `intercept` sees every request first and may answer it itself (returns true), e.g. a hang.
 */
export function openAiServer(opts: {
  modelPath: string;
  completion: CompletionHandler;
  onError: (req: http.IncomingMessage, res: http.ServerResponse, message: string) => void;
  intercept?: (req: http.IncomingMessage) => boolean;
}): http.Server {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (opts.intercept?.(req)) return;
    if (req.method === 'GET' && url === '/health') {
      res.writeHead(200).end();
    } else if (req.method === 'GET' && url === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: opts.modelPath, object: 'model', created: 0, owned_by: 'tensorrt_llm' }],
      });
    } else if (req.method === 'POST' && url === '/v1/completions') {
      opts.completion(req, res).catch((e: unknown) => {
        if (res.destroyed) return;
        opts.onError(req, res, e instanceof Error ? e.message : String(e));
        if (!res.headersSent) sendJson(res, 500, errorBody('Internal server error', 500));
        else res.destroy();
      });
    } else {
      sendJson(res, 404, errorBody(`not found: ${req.method ?? ''} ${url}`, 404));
    }
  });
  server.keepAliveTimeout = 60_000;
  return server;
}
