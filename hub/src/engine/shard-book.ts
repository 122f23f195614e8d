import { MNIST_CLASSES, partitionByLabel, partitionDirichlet, partitionIid, type RunSettings } from '@fl/shared';

/**
 * The fewest samples a hub-served MNIST shard holds. With more clients than the training set has shards of
 * this size (10,000 tabs on 8,000 digits), the partition has that many parts and clients share them in turn:
 * owner i trains on part i mod parts, so every client gets a shard it can learn from, and none is empty.
 */
export const MIN_SHARD_SAMPLES = 8;

/**
 * MNIST shards of the active run: a pure function of the run's seed, the owners in order and the
 * labels, recomputed only when the owners change. Kept after the run ends, until the next launch.
 */
export class ShardBook {
  private shards = new Map<string, Uint16Array>();
  private counts = new Map<string, number[]>();
  private key = '';

  constructor(private readonly labels: Uint8Array) {}

  /** Returns each owner's shard size when the partition changed, or null when it is the same as before. */
  assign(runId: string, owners: string[], settings: Pick<RunSettings, 'partition' | 'seed' | 'dirichletAlpha'>): Record<string, number> | null {
    const key = `${runId}:${owners.join(',')}`;
    if (this.key === key) return null;
    this.key = key;
    const parts = this.partition(Math.min(owners.length, Math.max(1, Math.floor(this.labels.length / MIN_SHARD_SAMPLES))), settings);
    const counts = parts.map((part) => this.labelCounts(part));
    this.shards = new Map(owners.map((id, i) => [id, parts[i % parts.length]!]));
    this.counts = new Map(owners.map((id, i) => [id, counts[i % parts.length]!]));
    return Object.fromEntries(owners.map((id, i) => [id, parts[i % parts.length]!.length]));
  }

  shard(clientId: string): Uint16Array | undefined {
    return this.shards.get(clientId);
  }

  /** How many digits of each label (0..9) the client's shard holds; undefined for a client without one. */
  labelsOf(clientId: string): number[] | undefined {
    return this.counts.get(clientId);
  }

  clear(): void {
    this.shards.clear();
    this.counts.clear();
    this.key = '';
  }

  private partition(clients: number, settings: Pick<RunSettings, 'partition' | 'seed' | 'dirichletAlpha'>): Uint16Array[] {
    switch (settings.partition) {
      case 'iid':
        return partitionIid(this.labels.length, clients, settings.seed);
      case 'by-label':
        return partitionByLabel(this.labels, clients, settings.seed);
      case 'dirichlet':
        return partitionDirichlet(this.labels, clients, settings.dirichletAlpha, settings.seed);
      default: {
        const _exhaustive: never = settings.partition;
        throw new Error(`unknown partition ${String(_exhaustive)}`);
      }
    }
  }

  private labelCounts(shard: Uint16Array): number[] {
    const counts = new Array<number>(MNIST_CLASSES).fill(0);
    for (const row of shard) counts[this.labels[row]!]!++;
    return counts;
  }
}
