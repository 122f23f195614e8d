import proxyAddr from '@fastify/proxy-addr';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { IncomingMessage } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient, type RedisClientType } from 'redis';
import { CLIENT_HANDSHAKE_QUERY, CLIENT_NAMESPACE, CodedError, DASHBOARD_NAMESPACE, STATUS_ROWS, encodeWeights, type FlatWeights, type HubStatus, type TaskId } from '@fl/shared';
import { ClusterNodes } from './cluster/cluster-nodes';
import { EngineLease } from './cluster/engine-lease';
import { RelayHub } from './cluster/relay-hub';
import { RelayLink } from './cluster/relay-link';
import { RELAY_NAMESPACE } from './cluster/relay-protocol';
import { Coordinator, systemClock, type Clock } from './engine/coordinator';
import type { Evaluator } from './engine/ports';
import { HubStore, type SqliteSynchronous } from './store/store';
import type { RunStore } from './store/store-port';
import { SqliteRunStore } from './store/sqlite-run-store';
import { PgRunStore } from './store/pg-store';
import { ModelService } from './model/model-service';
import { loadMnistSplit } from './data/mnist-files';
import { socketPlugin } from './socket/socket-plugin';
import { registerClientHandlers, SocketTransport } from './socket/client-handlers';
import { apiRoutes } from './http/api-routes';
import { installErrorHandler } from './http/errors';
import { securityPlugin } from './http/security';
import { setClientPageHeaders } from './http/client-page-headers';
import { WindowCounter } from './socket/window-counter';
import type { EventBudgetConfig } from './socket/event-budget';
import { FoldWorker } from './engine/fold-worker';
import { redactedLogger } from './http/security';

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: Coordinator;
    /** SQLite in DATA_DIR, or PostgreSQL with DATABASE_URL. */
    store: RunStore;
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
  /** Origins of pages elsewhere allowed to use this hub (CORS for HTTP and Socket.IO). */
  corsOrigins?: string[];
  /** HTTP requests per minute per address (default 1200). */
  rateLimitPerMinute?: number;
  /** Joins per minute per address (default 60). */
  joinsPerMinute?: number;
  /** Proxies whose X-Forwarded-For gives the client's address for the per-address limits (config.ts, TRUST_PROXY). */
  trustProxy?: number | string[];
  /** Per-connection budget of client events (default DEFAULT_EVENT_BUDGET). */
  eventBudget?: EventBudgetConfig;
  /** Wraps the hub's model service as the engine's evaluator (tests hold an evaluation back to stop the hub inside it). */
  evaluator?: (models: ModelService) => Evaluator;
  /**
   * Start the fold and evaluation threads with the hub rather than with its first round, so that the first round
   * does not wait for their code to load (server.ts; tests leave them to start when first needed).
   */
  startThreads?: boolean;
  /** Checkpoints kept per run (the last K rounds'; default 10). */
  keepCheckpoints?: number;
  /**
   * PostgreSQL (postgresql://user[:password]@host:port/db) instead of SQLite in dataDir: several hub nodes share
   * it, and the one holding the engine lease runs the rounds (the others stand by).
   */
  databaseUrl?: string;
  /** Redis (redis://host:port): Socket.IO events reach the sockets of every hub node (@socket.io/redis-streams-adapter). */
  redisUrl?: string;
  /** This node's id in the cluster (default: a random UUID per process). */
  nodeId?: string;
  /** Where the other nodes reach this one (a standby forwards engine requests to the leader's URL). */
  nodeUrl?: string;
  /** How often a standby tries to take the engine lease (default 1000 ms). */
  leasePollMs?: number;
  /** This node held the engine lease and lost it (its database session failed): server.ts exits, to be restarted. */
  onLeadershipLost?: (error: Error) => void;
  /** SQLite durability: FULL (default) survives power loss; NORMAL may lose the last commits then. */
  sqliteSynchronous?: SqliteSynchronous;
  /** Serve HTTPS and WSS with this certificate (PEM). */
  https?: { cert: Buffer; key: Buffer };
  clock?: Clock;
  /** Ids for clients and runs (default: random UUIDs); benchmarks pass a counter to repeat runs exactly. */
  newId?: () => string;
  /** Weights of a fresh model (default: TF.js initialisers); benchmarks pass the same ones to every hub. */
  initialWeights?: (task: TaskId) => FlatWeights;
  logger?: FastifyServerOptions['logger'];
  /**
   * Where updates are decoded, checked and folded: a FoldWorker of the hub's own (default) or one passed in (closed
   * with the hub), or false: on the event loop, as before the fold worker (the bench's "before").
   */
  folds?: FoldWorker | false;
}

/**
 * The largest update the hub accepts: the largest model's frame with headroom. Socket.IO's own limit is
 * set 4x higher so that a message over the hub's limit gets HUB_ERR_TOO_LARGE, not a silent disconnect.
 */
function maxUpdateBytes(models: ModelService): number {
  const tasks: TaskId[] = ['mnist', 'chest-xray'];
  const largest = Math.max(...tasks.map((t) => encodeWeights(models.freshWeights(t)).byteLength));
  return Math.ceil(largest * 1.5) + 64 * 1024;
}

/**
 * Which hops are proxies to believe (TRUST_PROXY): a number counts hops from this server (the peer and the next
 * n - 1 addresses to the left in X-Forwarded-For), a list names the proxies' addresses. Fastify uses it for
 * request.ip (the HTTP rate limit's key), the client namespace for the address its joins count against.
 */
function trustedHops(trustProxy: number | string[] | undefined): ((address: string, hop: number) => boolean) | undefined {
  if (trustProxy === undefined) return undefined;
  return typeof trustProxy === 'number' ? (_address, hop) => hop < trustProxy : proxyAddr.compile(trustProxy);
}

/** Builds the hub: HTTP API, Socket.IO namespaces, static pages. `server.ts` only listens. */
export async function buildApp(options: HubOptions): Promise<FastifyInstance> {
  const trusted = trustedHops(options.trustProxy);
  const app = Fastify({
    logger: redactedLogger(options.logger ?? false),
    // One line per API request, without its query string, is logged by the security plugin instead.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.https ? { https: options.https } : {}),
    // Unknown settings are refused, not silently stripped (Fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
    // request.ip, which the HTTP rate limit counts by: the client's address as the trusted proxies forwarded it.
    ...(trusted ? { trustProxy: trusted } : {}),
  });
  installErrorHandler(app);

  const store = await openStore(options, app.log);
  const models = await ModelService.create(options.mnistDir, options.initialWeights);
  const trainLabels = (await loadMnistSplit(options.mnistDir, 'train')).labels;
  const corsOrigins = options.corsOrigins ?? [];
  await app.register(securityPlugin, { corsOrigins, rateLimitPerMinute: options.rateLimitPerMinute ?? 1200 });
  const updateLimit = maxUpdateBytes(models);
  const redis = options.redisUrl ? await connectRedis(options.redisUrl, app.log) : null;
  /** The round engine: from the start on one node; on a node sharing PostgreSQL, once it holds the engine lease. */
  let engine: Coordinator | null = null;
  /** A cluster node without the engine relays its training clients to the leader (README, "Several hub nodes"). */
  let relay: RelayLink | null = null;
  /** Where a training client's messages go now: the engine here, the relay to it, or nowhere. */
  const clientEngine = () => engine ?? (relay?.up ? relay : null);
  const serving = () => clientEngine() !== null;
  await app.register(socketPlugin, {
    allowedOrigins: corsOrigins,
    serverOptions: {
      maxHttpBufferSize: Math.max(1_000_000, updateLimit * 4),
      serveClient: false,
      connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
      ...(corsOrigins.length ? { cors: { origin: corsOrigins } } : {}),
      // Several nodes: events reach every node's sockets through Redis streams, and WebSocket only, so that the
      // load balancer in front needs no sticky sessions.
      ...(redis ? { adapter: createAdapter(redis), transports: ['websocket'] as const } : {}),
    },
    refuseUpgrade: (request) =>
      !serving() && isClientHandshake(request) ? 'this hub node neither runs the round engine nor reaches the node that does: connect through the cluster address' : null,
  });

  const transport = new SocketTransport(redis !== null);
  const folds = options.folds === false ? null : (options.folds ?? new FoldWorker(app.log));
  const clients = app.io.of(CLIENT_NAMESPACE);
  const dashboards = app.io.of(DASHBOARD_NAMESPACE);
  // A client that reached a node without the engine or a relay to it (no load balancer in front) is told why; it retries by itself.
  clients.use((_socket, next) => (serving() ? next() : next(Object.assign(new Error('HUB_ERR_NO_LEADER'), { data: { code: 'HUB_ERR_NO_LEADER' } }))));
  const clustered = options.databaseUrl !== undefined && store instanceof PgRunStore;
  const relayHub = clustered
    ? new RelayHub(app.io.of(RELAY_NAMESPACE) as unknown as ConstructorParameters<typeof RelayHub>[0], { token: options.adminToken, engine: () => engine, local: transport, log: app.log })
    : null;
  registerClientHandlers(clients, {
    engine: clientEngine,
    transport,
    log: app.log,
    maxUpdateBytes: updateLimit,
    joinLimiter: new WindowCounter(options.joinsPerMinute ?? 60, 60_000, () => (options.clock ?? systemClock).now()),
    ...(trusted ? { clientAddress: (request: IncomingMessage) => proxyAddr(request, trusted) } : {}),
    identities: { claim: (clientId, secret) => store.claimIdentity(clientId, secret) },
    ...(options.eventBudget ? { eventBudget: options.eventBudget } : {}),
    ...(options.joinToken ? { joinToken: options.joinToken } : {}),
  });
  // Read in order, so that a dashboard never gets an older state of a run after a newer one.
  let runUpdates = Promise.resolve();

  /** Builds the round engine on this node (it resumes what the store holds) and starts serving training clients. */
  async function startEngine(): Promise<void> {
    const coordinator = new Coordinator({
      store,
      models: options.evaluator ? options.evaluator(models) : models,
      mnistTrainLabels: trainLabels,
      transport: relayHub ? relayHub.transport : transport,
      ...(relayHub ? { partials: relayHub } : {}),
      clock: options.clock ?? systemClock,
      log: app.log,
      newId: options.newId ?? (() => randomUUID()),
      maxUpdateBytes: updateLimit,
      ...(folds ? { folds } : {}),
    });
    try {
      await coordinator.ready;
    } catch (error) {
      coordinator.close();
      throw error;
    }
    coordinator.onStatus((status) => dashboards.emit('hub:status', status));
    coordinator.onRunChanged((runId) => {
      runUpdates = runUpdates
        .then(() => store.run(runId))
        .then((run) => {
          if (run) dashboards.emit('run:update', run);
        })
        .catch((err: unknown) => app.log.error({ err, runId }, 'run update not read'));
    });
    engine = coordinator;
  }

  const node = { id: options.nodeId ?? randomUUID(), url: options.nodeUrl ?? '', pid: process.pid };
  let cluster: { nodes: ClusterNodes; lease: EngineLease } | null = null;
  let nodes: ClusterNodes | null = null;
  try {
    if (store instanceof PgRunStore) {
      const databaseUrl = options.databaseUrl!;
      nodes = await ClusterNodes.join({ databaseUrl, node, clients: () => clients.sockets.size, log: app.log });
      const known = nodes;
      relay = new RelayLink({
        nodeId: node.id,
        token: options.adminToken,
        leaderUrl: () => known.leaderUrl(),
        transport,
        shapes: (task) => models.shapes(task),
        maxUpdateBytes: updateLimit,
        log: app.log,
        onDown: () => clients.disconnectSockets(true),
      });
      let leading: Promise<void> = Promise.resolve();
      const lease = await EngineLease.start({
        databaseUrl,
        nodeId: node.id,
        log: app.log,
        ...(options.leasePollMs ? { pollMs: options.leasePollMs } : {}),
        onAcquired: (epoch) => {
          store.fenceWith(epoch);
          // The clients relayed so far joined the old leader's engine: they go, and join this one's.
          relay?.stop();
          leading = startEngine();
          return leading;
        },
        onLost: (error) => {
          // Another node may lead already: this one's engine must stop at once (its writes are fenced anyway).
          engine?.close();
          engine = null;
          clients.disconnectSockets(true);
          (options.onLeadershipLost ?? ((err: Error) => app.log.error({ err }, 'this node stopped leading')))(error);
        },
      });
      await leading;
      cluster = { nodes, lease };
      if (!engine) relay.start();
    } else {
      await startEngine();
    }
  } catch (error) {
    await nodes?.close().catch(() => {});
    await folds?.close();
    await models.close();
    await redis?.quit().catch(() => {});
    await store.close();
    throw error;
  }
  if (options.startThreads) {
    folds?.warm();
    models.warm();
  }
  app.decorate('coordinator', {
    getter(): Coordinator {
      if (!engine) throw new CodedError('HUB_ERR_NO_LEADER', 'this hub node does not run the round engine');
      return engine;
    },
  });
  app.decorate('store', store);

  const leaderUrl = async () => (cluster ? cluster.nodes.leaderUrl() : null);
  dashboards.on('connection', (socket) => {
    if (engine) {
      socket.emit('hub:status', engine.status());
      return;
    }
    // A standby's dashboards get the leader's pushes through Redis; the first status they ask the leader for.
    void leaderStatus(leaderUrl)
      .then((status) => status && socket.emit('hub:status', status))
      .catch((err: unknown) => app.log.warn({ err }, "the leader's status could not be read for a dashboard"));
  });

  await app.register(apiRoutes, {
    store,
    engine: () => engine,
    leaderUrl,
    cluster: async () =>
      cluster ? cluster.nodes.list() : [{ id: node.id, url: node.url, pid: node.pid, leader: true, clients: clients.sockets.size }],
    models,
    adminToken: options.adminToken,
    relayStats: () => (relayHub ? { sent: relay ? { ...relay.stats } : null, received: { ...relayHub.stats } } : null),
  });

  await app.register(fastifyStatic, { root: options.mnistDir, prefix: '/data/mnist/', decorateReply: false });
  if (options.clientDir && existsSync(options.clientDir)) {
    await app.register(fastifyStatic, { root: options.clientDir, prefix: '/client/', decorateReply: false, setHeaders: setClientPageHeaders });
  }
  if (options.dashboardDir && existsSync(options.dashboardDir)) {
    await app.register(fastifyStatic, { root: options.dashboardDir, prefix: '/', decorateReply: false });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain').send(`Federated Learning hub running. Status: ${engine ? engine.status().status.toUpperCase() : 'STANDBY'}\n`),
    );
  }

  app.addHook('onClose', async () => {
    // After close() the coordinator arms no timer and decides no write; those already decided settle first.
    const coordinator = engine;
    engine = null;
    relay?.stop();
    coordinator?.close();
    await coordinator?.written();
    // Giving the lease up after the last write lets a standby take over at once.
    await cluster?.lease.close();
    await cluster?.nodes.close();
    await folds?.close();
    await models.close();
    await runUpdates;
    await redis?.quit().catch(() => {});
    await store.close();
  });
  return app;
}

/** A training client's Socket.IO handshake (CLIENT_HANDSHAKE_QUERY), not a dashboard's. */
function isClientHandshake(request: IncomingMessage): boolean {
  const query = new URL(request.url ?? '/', 'http://hub').searchParams;
  return Object.entries(CLIENT_HANDSHAKE_QUERY).every(([key, value]) => query.get(key) === value);
}

async function connectRedis(url: string, log: FastifyBaseLogger): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url });
  client.on('error', (err: unknown) => log.warn({ err }, 'Redis connection error; reconnecting'));
  await client.connect();
  return client;
}

/** The leader's status for a dashboard on a standby (null when no node leads). */
async function leaderStatus(leaderUrl: () => Promise<string | null>): Promise<HubStatus | null> {
  const url = await leaderUrl();
  if (!url) return null;
  const response = await fetch(`${url}/api/status?clients=${STATUS_ROWS}`);
  return response.ok ? ((await response.json()) as HubStatus) : null;
}

async function openStore(options: HubOptions, log: { warn(obj: object, msg?: string): void }): Promise<RunStore> {
  const identity = { newId: options.newId ?? (() => randomUUID()) };
  const keep = options.keepCheckpoints ? { keepCheckpoints: options.keepCheckpoints } : {};
  if (options.databaseUrl) {
    return PgRunStore.open(options.databaseUrl, identity, { ...keep, onIdleError: (err) => log.warn({ err }, 'an idle PostgreSQL connection failed; the next query reconnects') });
  }
  return new SqliteRunStore(new HubStore(options.dataDir, { ...keep, ...(options.sqliteSynchronous ? { synchronous: options.sqliteSynchronous } : {}) }), identity);
}

/** The SQLite store under a hub's RunStore (tests and benches that inspect or time it synchronously). */
export function sqliteOf(app: FastifyInstance): HubStore {
  if (!(app.store instanceof SqliteRunStore)) throw new Error('this hub keeps its records in PostgreSQL, not SQLite');
  return app.store.sqlite;
}
