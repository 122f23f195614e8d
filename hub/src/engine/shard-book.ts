import { partitionByLabel, partitionIid, type RunSettings } from '@fl/shared';

/**
 * MNIST shards of the active run: a pure function of the run's seed, the owners in order and the
 * labels, recomputed only when the owners change.
 */
export class ShardBook {
  private shards = new Map<string, Uint16Array>();
  private key = '';

  constructor(private readonly labels: Uint8Array) {}

  /** Returns each owner's shard size when the partition changed, or null when it is the same as before. */
  assign(runId: string, owners: string[], settings: Pick<RunSettings, 'partition' | 'seed'>): Record<string, number> | null {
    const key = `${runId}:${owners.join(',')}`;
    if (this.key === key) return null;
    this.key = key;
    const parts =
      settings.partition === 'by-label'
        ? partitionByLabel(this.labels, owners.length, settings.seed)
        : partitionIid(this.labels.length, owners.length, settings.seed);
    this.shards = new Map(owners.map((id, i) => [id, parts[i]!]));
    return Object.fromEntries(owners.map((id, i) => [id, parts[i]!.length]));
  }

  shard(clientId: string): Uint16Array | undefined {
    return this.shards.get(clientId);
  }

  /** The owner's position in the partition, so each client's batch order has its own seed. */
  index(clientId: string): number {
    return [...this.shards.keys()].indexOf(clientId);
  }

  clear(): void {
    this.shards.clear();
    this.key = '';
  }
}
