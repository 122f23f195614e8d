import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import { CLIENT_NAMESPACE, DASHBOARD_NAMESPACE, encodeWeights, type ClientSocketData, type ClientToHubEvents, type HubToClientEvents, type HubToDashboardEvents, type TaskId } from '@fl/shared';
import { Coordinator, systemClock, type Clock } from './engine/coordinator';
import { HubStore } from './store/store';
import { ModelService } from './model/model-service';
import { loadMnistSplit } from './data/mnist-files';
import { socketPlugin } from './socket/socket-plugin';
import { registerClientHandlers, SocketTransport } from './socket/client-handlers';
import { apiRoutes } from './http/api-routes';
import { installErrorHandler } from './http/errors';
import type { Namespace } from 'socket.io';

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: Coordinator;
    store: HubStore;
  }
}

export interface HubOptions {
  dataDir: string;
  adminToken: string;
  /** Folder with the MNIST sprites (hub/generated/mnist). */
  mnistDir: string;
  /** Built dashboard and client pages; absent folders are skipped. */
  dashboardDir?: string;
  clientDir?: string;
  joinToken?: string;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
}

/** Socket.IO refuses bigger messages; sized from the largest model's frame, with headroom. */
function maxMessageBytes(models: ModelService): number {
  const tasks: TaskId[] = ['mnist', 'chest-xray'];
  const largest = Math.max(...tasks.map((t) => encodeWeights(models.freshWeights(t)).byteLength));
  return Math.max(1_000_000, largest * 2 + 64 * 1024);
}

/** Builds the hub: HTTP API, Socket.IO namespaces, static pages. `server.ts` only listens. */
export async function buildApp(options: HubOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Unknown settings are refused, not silently stripped (Fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(app);

  const store = new HubStore(options.dataDir);
  const models = await ModelService.create(options.mnistDir);
  const trainLabels = (await loadMnistSplit(options.mnistDir, 'train')).labels;
  await app.register(socketPlugin, {
    serverOptions: { maxHttpBufferSize: maxMessageBytes(models), serveClient: false },
  });

  const transport = new SocketTransport();
  const coordinator = new Coordinator({
    store,
    models,
    mnistTrainLabels: trainLabels,
    transport,
    clock: options.clock ?? systemClock,
    log: app.log,
    newId: () => randomUUID(),
  });
  app.decorate('coordinator', coordinator);
  app.decorate('store', store);

  const clients = app.io.of(CLIENT_NAMESPACE) as Namespace<ClientToHubEvents, HubToClientEvents, Record<string, never>, ClientSocketData>;
  registerClientHandlers(clients, { coordinator, transport, log: app.log, ...(options.joinToken ? { joinToken: options.joinToken } : {}) });

  const dashboards = app.io.of(DASHBOARD_NAMESPACE) as Namespace<Record<string, never>, HubToDashboardEvents>;
  dashboards.on('connection', (socket) => socket.emit('hub:status', coordinator.status()));
  coordinator.onStatus((status) => dashboards.emit('hub:status', status));
  coordinator.onRunChanged((runId) => {
    const run = store.run(runId);
    if (run) dashboards.emit('run:update', run);
  });

  await app.register(apiRoutes, { store, coordinator, models, adminToken: options.adminToken });

  await app.register(fastifyStatic, { root: options.mnistDir, prefix: '/data/mnist/', decorateReply: false });
  if (options.clientDir && existsSync(options.clientDir)) {
    await app.register(fastifyStatic, { root: options.clientDir, prefix: '/client/', decorateReply: false });
  }
  if (options.dashboardDir && existsSync(options.dashboardDir)) {
    await app.register(fastifyStatic, { root: options.dashboardDir, prefix: '/', decorateReply: false });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain').send(`Federated Learning hub running. Status: ${coordinator.status().status.toUpperCase()}\n`),
    );
  }

  app.addHook('onClose', async () => {
    coordinator.close();
    await coordinator.idle();
    store.close();
  });
  return app;
}
