import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import fp from 'fastify-plugin';
import { Server, type ServerOptions } from 'socket.io';
import type { ClientSocketData, ClientToHubEvents, HubToClientEvents, HubToDashboardEvents } from '@fl/shared';
import { originCheck } from './origin-check';

/**
 * The hub's Socket.IO server, typed by the shared contract. Its two namespaces share these maps:
 * clients send ClientToHubEvents and get HubToClientEvents; dashboards only receive HubToDashboardEvents.
 */
export type HubServer = Server<ClientToHubEvents, HubToClientEvents & HubToDashboardEvents, Record<string, never>, ClientSocketData>;
export type HubNamespace = ReturnType<HubServer['of']>;

declare module 'fastify' {
  interface FastifyInstance {
    io: HubServer;
  }
}

export interface SocketPluginOptions {
  serverOptions: Partial<ServerOptions>;
  /** Origins of pages elsewhere allowed to open sockets, beside the hub's own. */
  allowedOrigins: readonly string[];
  /**
   * Why this node refuses a WebSocket upgrade now (answered 503 before Socket.IO sees it, so that a load balancer
   * tries the next node), or null to let it through.
   */
  refuseUpgrade?: (request: IncomingMessage) => string | null;
}

/** Puts `refuse` in front of the server's upgrade listeners (Socket.IO's): a refused upgrade never reaches them. */
function guardUpgrades(server: HttpServer, refuse: (request: IncomingMessage) => string | null): void {
  const listeners = server.listeners('upgrade') as ((request: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reason = refuse(request);
    if (reason === null) {
      for (const listener of listeners) listener.call(server, request, socket, head);
      return;
    }
    const body = JSON.stringify({ error: { code: 'HUB_ERR_NO_LEADER', message: reason } });
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

/** Attaches one Socket.IO server to Fastify's HTTP server and closes it with the app. */
export const socketPlugin = fp<SocketPluginOptions>(
  async (fastify, { serverOptions, allowedOrigins, refuseUpgrade }) => {
    const io: HubServer = new Server(fastify.server, { ...serverOptions, allowRequest: originCheck(allowedOrigins) });
    if (refuseUpgrade) guardUpgrades(fastify.server as HttpServer, refuseUpgrade);
    fastify.decorate('io', io);
    // Closing the connections (not a Socket.IO "disconnect") lets clients reconnect by themselves when
    // the hub comes back; an explicit server disconnect would tell them not to.
    fastify.addHook('preClose', async () => {
      io.engine.close();
    });
    fastify.addHook('onClose', async () => {
      await io.close();
    });
  },
  { name: 'socket-io' },
);
