import pg from 'pg';
import type { ClusterNode } from '@fl/shared';
import type { Logger } from '../engine/ports';

/** One hub node as GET /api/cluster shows it. */
export type ClusterNodeView = ClusterNode;

export interface ClusterNodesOptions {
  databaseUrl: string;
  node: { id: string; url: string; pid: number };
  /** How often this node says it is alive (default 2000 ms); a node silent for 3 of these is left out. */
  heartbeatMs?: number;
  clients(): number;
  log: Logger;
  now?: () => number;
}

/**
 * The hub nodes sharing one database, each registered in `cluster_nodes` with its URL (where the others reach
 * it: a standby forwards engine requests to the leader's) and a heartbeat. The leader is the lease's holder.
 */
export class ClusterNodes {
  private readonly pool: pg.Pool;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly heartbeatMs: number;
  private beat: Promise<void> = Promise.resolve();

  private constructor(private readonly options: ClusterNodesOptions) {
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
    this.pool.on('error', (err) => options.log.warn({ err }, 'an idle cluster connection failed; the next query reconnects'));
    this.now = options.now ?? Date.now;
    this.heartbeatMs = options.heartbeatMs ?? 2000;
    this.timer = setInterval(() => {
      this.beat = this.heartbeat().catch((err: unknown) => options.log.warn({ err }, 'cluster heartbeat failed'));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** Registers this node (its first heartbeat) before it serves. */
  static async join(options: ClusterNodesOptions): Promise<ClusterNodes> {
    const nodes = new ClusterNodes(options);
    try {
      await nodes.heartbeat();
    } catch (error) {
      await nodes.close();
      throw error;
    }
    return nodes;
  }

  private async heartbeat(): Promise<void> {
    const { id, url, pid } = this.options.node;
    const now = this.now();
    await this.pool.query(
      `INSERT INTO cluster_nodes (id, url, pid, started_at, seen_at, clients) VALUES ($1, $2, $3, $4, $4, $5)
       ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, pid = EXCLUDED.pid, seen_at = EXCLUDED.seen_at, clients = EXCLUDED.clients`,
      [id, url, pid, now, this.options.clients()],
    );
  }

  /** The nodes heard from lately, oldest first, with the lease holder marked as leader and each node's clients. */
  async list(): Promise<ClusterNodeView[]> {
    const { rows } = await this.pool.query<{ id: string; url: string; pid: number; clients: number; leader: boolean }>(
      `SELECT n.id, n.url, n.pid, n.clients, (l.holder = n.id) AS leader
       FROM cluster_nodes n LEFT JOIN cluster_lease l ON l.name = 'engine'
       WHERE n.seen_at >= $1 ORDER BY n.started_at, n.id`,
      [this.now() - 3 * this.heartbeatMs],
    );
    // This node's count is read now; the others' are as of their last heartbeat.
    const self = this.options.node.id;
    return rows.map((r) => ({ id: r.id, url: r.url, pid: r.pid, leader: r.leader === true, clients: r.id === self ? this.options.clients() : r.clients }));
  }

  /** The leader's URL when it is alive and not this node; null when no live node leads. */
  async leaderUrl(): Promise<string | null> {
    // Not this node: one that holds the lease but is still starting its engine must not forward to itself.
    const leader = (await this.list()).find((n) => n.leader && n.id !== this.options.node.id);
    return leader ? leader.url : null;
  }

  /** Stops the heartbeat and takes this node off the list. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.beat;
    await this.pool.query('DELETE FROM cluster_nodes WHERE id = $1', [this.options.node.id]).catch(() => {});
    await this.pool.end();
  }
}
