import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { CodedError, LaunchRequest, TaskSchema, type TaskId } from '@fl/shared';
import { requireAdmin } from './auth';
import type { RunStore } from '../store/store-port';
import type { Coordinator } from '../engine/coordinator';
import type { ExportedModel, ModelService } from '../model/model-service';
import type { ClusterNodeView } from '../cluster/cluster-nodes';

export interface ApiRoutesOptions {
  store: RunStore;
  /** The round engine when this node runs it; null on a standby, which forwards engine requests to the leader. */
  engine: () => Coordinator | null;
  /** The leading node's URL (null: none leads now, or a single hub). */
  leaderUrl: () => Promise<string | null>;
  /** The hub nodes sharing this hub's database (one: a single hub). */
  cluster: () => Promise<ClusterNodeView[]>;
  models: ModelService;
  adminToken: string;
  /** What crossed this node's relay links (to the leader on a relay, from the relays on the leader); null on one node. */
  relayStats?: () => object | null;
}

const RunParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const TaskParams = Type.Object({ task: TaskSchema });

/** The JSON API: status, runs, launch/stop (admin token), and the global model in TF.js format. */
export const apiRoutes: FastifyPluginAsync<ApiRoutesOptions> = async (fastify, { store, engine, leaderUrl, cluster, models, adminToken, relayStats }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = requireAdmin(adminToken);

  /** What this node passed on to the leader and got back (GET /api/cluster/forwarded; the cluster bench reads it). */
  const forwarded = { requests: 0, bytes: 0 };

  /**
   * Runs `handle` with the engine on the node that runs it; a standby passes the request on to the leader and
   * answers what it answered (so a dashboard may be served by any node).
   */
  async function onEngine<T>(request: FastifyRequest, reply: FastifyReply, handle: (coordinator: Coordinator) => Promise<T> | T): Promise<T | FastifyReply> {
    const coordinator = engine();
    if (coordinator) return handle(coordinator);
    const url = await leaderUrl();
    if (!url) throw new CodedError('HUB_ERR_NO_LEADER', 'no hub node runs the round engine right now (one takes over within seconds): try again shortly');
    const body = request.body !== undefined ? JSON.stringify(request.body) : undefined;
    const answer = await fetch(`${url}${request.url}`, {
      method: request.method,
      headers: {
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => {
      throw new CodedError('HUB_ERR_NO_LEADER', `the leading hub node at ${url} did not answer: try again shortly`);
    });
    const answered = Buffer.from(await answer.arrayBuffer());
    forwarded.requests += 1;
    forwarded.bytes += request.url.length + (body === undefined ? 0 : Buffer.byteLength(body)) + answered.byteLength;
    return reply
      .status(answer.status)
      .type(answer.headers.get('content-type') ?? 'application/json')
      .send(answered);
  }

  /** Every client row by default (scripts count them); `?clients=N` takes the first N, as dashboards get. */
  app.get(
    '/api/status',
    { schema: { querystring: Type.Object({ clients: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }) } },
    async (request, reply) => onEngine(request, reply, (coordinator) => coordinator.status(request.query.clients ?? Infinity)),
  );

  /** Lets a page check its token before the first action: 204, or 401 with the reason. */
  app.get('/api/auth', { preHandler: admin }, async (_request, reply) => reply.status(204).send());

  /** The newest global model of each task, without fetching it. */
  app.get('/api/models', async () => store.modelSummaries());

  app.get('/api/runs', async () => store.runs());

  app.get('/api/runs/:id', { schema: { params: RunParams } }, async (request) => {
    const run = await store.run(request.params.id);
    if (!run) throw new CodedError('HUB_ERR_NOT_FOUND', `no run ${request.params.id}`);
    return run;
  });

  app.get('/api/runs/:id/rounds/:round/clients', { schema: { params: Type.Object({ id: Type.String(), round: Type.Integer({ minimum: 0 }) }) } }, async (request) =>
    store.participation(request.params.id, request.params.round),
  );

  app.post('/api/runs', { schema: { body: LaunchRequest }, preHandler: admin }, async (request, reply) =>
    onEngine(request, reply, async (coordinator) => {
      const { id } = await coordinator.launch(request.body);
      return reply.status(201).send({ id });
    }),
  );

  app.post('/api/runs/:id/stop', { schema: { params: RunParams }, preHandler: admin }, async (request, reply) => {
    if (!(await store.run(request.params.id))) throw new CodedError('HUB_ERR_NOT_FOUND', `no run ${request.params.id}`);
    return onEngine(request, reply, async (coordinator) => {
      // The answer is the run as stored with its end; evaluations still running fill in its rounds later.
      coordinator.stop(request.params.id);
      await coordinator.written();
      return store.run(request.params.id);
    });
  });

  /** The hub nodes, which one runs the round engine, and each one's training clients. */
  app.get('/api/cluster', { preHandler: admin }, async () => ({ nodes: await cluster() }));

  /** Requests this node passed on to the leader, and their bytes (path, body and answer); what crossed its relay links. */
  app.get('/api/cluster/forwarded', { preHandler: admin }, async () => ({ ...forwarded, relay: relayStats?.() ?? null }));

  // The export is rebuilt only when the task's newest checkpoint changes.
  const exports = new Map<TaskId, { checkpointId: number; model: ExportedModel }>();
  async function exported(task: TaskId): Promise<ExportedModel> {
    const checkpoint = await store.latestCheckpoint(task);
    if (!checkpoint) throw new CodedError('HUB_ERR_NOT_FOUND', `no ${task} model has been trained yet: launch a run first`);
    const cached = exports.get(task);
    if (cached?.checkpointId === checkpoint.id) return cached.model;
    const model = await models.export(task, checkpoint);
    exports.set(task, { checkpointId: checkpoint.id, model });
    return model;
  }

  app.get('/api/models/:task/model.json', { schema: { params: TaskParams } }, async (request, reply) => {
    const model = await exported(request.params.task);
    return reply.header('cache-control', 'no-store').send(model.modelJson);
  });

  app.get('/api/models/:task/weights.bin', { schema: { params: TaskParams } }, async (request, reply) => {
    const model = await exported(request.params.task);
    return reply
      .header('cache-control', 'no-store')
      // The name model.json's manifest refers to, so the two downloaded files load together.
      .header('content-disposition', 'attachment; filename="weights.bin"')
      .type('application/octet-stream')
      .send(Buffer.from(model.weightsBin.buffer, model.weightsBin.byteOffset, model.weightsBin.byteLength));
  });
};
