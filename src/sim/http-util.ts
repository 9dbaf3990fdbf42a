// Small node:http helpers shared by the workers, the router and the clients. Only 127.0.0.1 is used.
import http from 'node:http';
import { HttpError } from './openai-errors.js';

export const LOOPBACK = '127.0.0.1';
/** Largest request (and relayed response) body: far above any context length, far below memory trouble. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** An oversized request is drained (so its client reads the 413) up to this much, then cut off. */
const MAX_DRAIN_BYTES = 4 * MAX_BODY_BYTES;

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

/**
 * A request body as text; over MAX_BODY_BYTES it rejects with a 413 HttpError once the client finished
 * sending, since answering mid-upload would reach most clients as a reset connection instead.
 */
export function readRequestBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_DRAIN_BYTES) req.destroy();
      else if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      ended = true;
      if (size > MAX_BODY_BYTES) {
        reject(
          new HttpError(
            413,
            `request body of ${size} bytes is over the limit of ${MAX_BODY_BYTES} bytes (8 MiB)`,
            'request_too_large',
          ),
        );
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(new Error('client closed the connection while sending the request'));
    });
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
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

/** GET a JSON document (bounded by `timeoutMs`); rejects on a non-200 answer. */
export function getJson(url: string, timeoutMs: number, agent?: http.Agent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: agent ?? false }, (res) => {
      readResponse(res).then((text) => {
        if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode ?? 0}`));
        else {
          try {
            resolve(JSON.parse(text));
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        }
      }, reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
