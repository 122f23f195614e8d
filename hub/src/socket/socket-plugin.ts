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
}

/** Attaches one Socket.IO server to Fastify's HTTP server and closes it with the app. */
export const socketPlugin = fp<SocketPluginOptions>(
  async (fastify, { serverOptions, allowedOrigins }) => {
    const io: HubServer = new Server(fastify.server, { ...serverOptions, allowRequest: originCheck(allowedOrigins) });
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
