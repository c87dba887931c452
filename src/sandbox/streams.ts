// Long-lived clients for zero-downtime checks: WebSockets that keep echoing and an SSE stream,
// each recording what arrived when and how it ended (close code, clean end or error). Bounded:
// every probe stops sending at stop() and is torn down by it.
import http from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import { defaultResolve, fixedLookup, sandboxCaBundle } from './http.ts';

export interface SocketProbe {
  id: number;
  openedAt?: number;
  /** Messages sent ("<id>-<n>") and echoes received (text and wall-clock ms). */
  sent: number;
  echoes: { at: number; text: string }[];
  /** How the socket ended: 1001 from a server going away; 1006 when the TCP connection just dropped. */
  close?: { at: number; code: number; reason: string };
  error?: string;
}

export interface SocketFleet {
  probes: SocketProbe[];
  /** Stop sending and close the sockets still open (code 1000). */
  stop(): void;
  /** Resolves when every socket has closed (or failed). */
  closed: Promise<void>;
}

const clientOpts = (u: URL) => {
  const address = defaultResolve(u.hostname);
  return {
    ...(address ? { lookup: fixedLookup(address) } : {}),
    ...(u.protocol === 'wss:' || u.protocol === 'https:' ? { ca: sandboxCaBundle(), servername: u.hostname } : {}),
  };
};

/** Open `count` WebSockets to `url`; each sends a message every `intervalMs` once open. Resolves when all are open. */
export async function openSockets(url: string, count: number, intervalMs: number, openTimeoutMs = 15_000): Promise<SocketFleet> {
  const u = new URL(url);
  const probes: SocketProbe[] = [];
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const ends: Promise<void>[] = [];
  const opens: Promise<void>[] = [];
  for (let id = 0; id < count; id++) {
    const p: SocketProbe = { id, sent: 0, echoes: [] };
    probes.push(p);
    const ws = new WebSocket(u, { ...clientOpts(u), handshakeTimeout: openTimeoutMs });
    sockets.push(ws);
    opens.push(
      new Promise((resolve, reject) => {
        ws.once('open', () => {
          p.openedAt = Date.now();
          const send = () => {
            if (ws.readyState === WebSocket.OPEN) ws.send(`${id}-${++p.sent}`);
          };
          send();
          timers.push(setInterval(send, intervalMs));
          resolve();
        });
        ws.once('error', (e) => reject(new Error(`websocket ${id}: ${e.message}`)));
      }),
    );
    ws.on('message', (data) => p.echoes.push({ at: Date.now(), text: String(data) }));
    ws.on('error', (e) => (p.error ??= e.message));
    ends.push(new Promise((resolve) => ws.once('close', (code, reason) => {
      p.close = { at: Date.now(), code, reason: String(reason) };
      resolve();
    })));
  }
  const stop = () => {
    timers.forEach(clearInterval);
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
  };
  try {
    await Promise.all(opens);
  } catch (e) {
    stop();
    throw e;
  }
  return { probes, stop, closed: Promise.all(ends).then(() => timers.forEach(clearInterval)) };
}

export interface SseProbe {
  openedAt?: number;
  status?: number;
  events: { at: number; event: string; data: string }[];
  /** clean: the server ended the response; otherwise the connection failed (error says how). */
  end?: { at: number; clean: boolean; error?: string };
  stop(): void;
  ended: Promise<void>;
}

/** Follow a server-sent-events stream until the server ends it, it fails, or stop(). */
export function followSse(url: string, maxMs = 120_000): SseProbe {
  const u = new URL(url);
  const probe = { events: [] } as unknown as SseProbe;
  let finish!: () => void;
  probe.ended = new Promise((r) => (finish = r));
  const done = (clean: boolean, error?: string) => {
    if (probe.end) return;
    probe.end = { at: Date.now(), clean, ...(error ? { error } : {}) };
    clearTimeout(timer);
    finish();
  };
  const req = (u.protocol === 'https:' ? https : http).request(u, { ...clientOpts(u), agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
    probe.status = res.statusCode;
    probe.openedAt = Date.now();
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { at: Date.now(), event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data = line.slice(6);
        }
        probe.events.push(ev);
      }
    });
    res.on('end', () => done(res.complete, res.complete ? undefined : 'response ended incomplete'));
    res.on('aborted', () => done(false, 'aborted'));
    res.on('error', (e) => done(false, e.message));
  });
  req.on('error', (e) => done(false, e.message));
  req.end();
  const timer = setTimeout(() => {
    req.destroy(new Error(`stopped after ${maxMs} ms`));
  }, maxMs);
  probe.stop = () => req.destroy(new Error('stopped'));
  return probe;
}
