import pg from 'pg';
import type { Logger } from '../engine/ports';

/** The advisory lock that makes a node the leader: held by one session at a time, released when it ends. */
const LEASE_LOCK = "hashtext('fl-hub-engine-lease')";

export interface EngineLeaseOptions {
  databaseUrl: string;
  nodeId: string;
  /** How often a node without the lease tries to take it (default 1000 ms): the failover time is at most this plus a resume. */
  pollMs?: number;
  log: Logger;
  now?: () => number;
  /** Taken, with the fencing epoch every engine write must carry from now on; a rejection gives the lease back. */
  onAcquired(epoch: number): void | Promise<void>;
  /** The session that held the lock failed: another node may lead already, so this node's engine must stop. */
  onLost(error: Error): void;
}

/**
 * Which hub node runs the round engine: a PostgreSQL session-level advisory lock, which the server releases the
 * moment the holder's connection ends (a killed process, a lost network), so a standby polling for it takes
 * over within `pollMs`. Each taking bumps the lease row's epoch: the fencing token that PgRunStore checks in
 * every engine write, so a node that lost the lease but does not know it yet cannot commit anything.
 */
export class EngineLease {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private held = false;
  private closed = false;
  private trying = false;

  private constructor(private readonly options: EngineLeaseOptions) {}

  /**
   * Starts trying to take the lease: at once (resolving after that first try, and after `onAcquired` when it was
   * taken), then every `pollMs` until it is taken or `close()`.
   */
  static async start(options: EngineLeaseOptions): Promise<EngineLease> {
    const lease = new EngineLease(options);
    await lease.attempt();
    return lease;
  }

  get leader(): boolean {
    return this.held;
  }

  private schedule(): void {
    if (this.closed || this.held) return;
    this.timer = setTimeout(() => void this.attempt(), this.options.pollMs ?? 1000);
  }

  private async attempt(): Promise<void> {
    if (this.closed || this.held || this.trying) return;
    this.trying = true;
    try {
      const client = await this.connection();
      const { rows } = await client.query<{ taken: boolean }>(`SELECT pg_try_advisory_lock(${LEASE_LOCK}) AS taken`);
      if (!rows[0]?.taken || this.closed) return;
      const now = (this.options.now ?? Date.now)();
      const bumped = await client.query<{ epoch: string }>(
        "UPDATE cluster_lease SET epoch = epoch + 1, holder = $1, acquired_at = $2 WHERE name = 'engine' RETURNING epoch::text",
        [this.options.nodeId, now],
      );
      this.held = true;
      const epoch = Number(bumped.rows[0]!.epoch);
      this.options.log.info({ node: this.options.nodeId, epoch }, 'this node took the engine lease and leads');
      try {
        await this.options.onAcquired(epoch);
      } catch (error) {
        this.options.log.error({ err: error }, 'the engine did not start; giving the lease back');
        this.held = false;
        this.drop();
      }
    } catch (error) {
      if (!this.closed) this.options.log.warn({ err: error }, 'the engine lease could not be tried; trying again');
      this.drop();
    } finally {
      this.trying = false;
      this.schedule();
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true, keepAliveInitialDelayMillis: 5000 });
    client.on('error', (error) => this.failed(client, error));
    client.on('end', () => this.failed(client, new Error('the lease connection ended')));
    await client.connect();
    // A holder whose machine vanished sends nothing: these make the server drop its session (and the lock) after
    // about 5 + 3 x 2 s of silence on TCP. (On a Unix socket they do not apply; the session ends with the process.)
    await client.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3');
    this.client = client;
    return client;
  }

  /** The session ended under us. A holder is told and not tried again: the node stops its engine and exits (server.ts). */
  private failed(client: pg.Client, error: Error): void {
    if (client !== this.client || this.closed) return;
    this.client = null;
    if (this.held) {
      this.held = false;
      this.options.log.error({ err: error }, 'the engine lease was lost');
      this.options.onLost(error);
    }
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => {});
  }

  /** Gives the lease up (the session ends, so the server releases the lock at once). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.held = false;
    await client?.end().catch(() => {});
  }
}
