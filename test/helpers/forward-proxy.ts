import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** A request as the proxy saw it: the absolute URI a client sends to a forward proxy. */
export interface ProxiedRequest {
  method: string;
  url: string;
}

export interface ForwardProxy {
  url: string;
  requests: ProxiedRequest[];
  /** CONNECT attempts: answered 405, since plain-http targets must not be tunnelled. */
  connects: number;
  close: () => Promise<void>;
}

/**
 * The smallest HTTP forward proxy that does the job: takes absolute-URI requests
 * (`GET http://host:port/path HTTP/1.1`), replays them to the origin, streams the answer back,
 * and counts what went through it.
 */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = [];
  let connects = 0;
  const server = http.createServer((req, res) => {
    const target = req.url ?? '';
    if (!/^http:\/\//.test(target)) {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    requests.push({ method: req.method ?? 'GET', url: target });
    const url = new URL(target);
    const headers: http.OutgoingHttpHeaders = { ...req.headers, connection: 'close' };
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    connects += 1;
    socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connects() {
      return connects;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
