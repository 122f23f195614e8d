import fp from 'fastify-plugin';
import { Server, type ServerOptions } from 'socket.io';

declare module 'fastify' {
  interface FastifyInstance {
    io: Server;
  }
}

export interface SocketPluginOptions {
  serverOptions: Partial<ServerOptions>;
}

/** Attaches one Socket.IO server to Fastify's HTTP server and closes it with the app. */
export const socketPlugin = fp<SocketPluginOptions>(
  async (fastify, { serverOptions }) => {
    const io = new Server(fastify.server, serverOptions);
    fastify.decorate('io', io);
    fastify.addHook('preClose', async () => {
      io.local.disconnectSockets(true);
      for (const nsp of io._nsps.values()) nsp.disconnectSockets(true);
    });
    fastify.addHook('onClose', async () => {
      await io.close();
    });
  },
  { name: 'socket-io' },
);
