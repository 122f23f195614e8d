import { weightedEvalMean, type EvalMetrics } from '@fl/shared';

/** The clients' scores of the one global model being scored now (the model after `round` of `runId`). */
export class ClientScores {
  private current: { runId: string; round: number; byClient: Map<string, EvalMetrics> } | null = null;

  has(runId: string, round: number, clientId: string): boolean {
    return this.matches(runId, round) && this.current!.byClient.has(clientId);
  }

  /** The client's score of that model, if it sent one. */
  of(runId: string, round: number, clientId: string): EvalMetrics | null {
    return this.matches(runId, round) ? (this.current!.byClient.get(clientId) ?? null) : null;
  }

  /** Records a score and returns the sample-weighted mean of every score of that model so far. */
  add(runId: string, round: number, clientId: string, metrics: EvalMetrics): EvalMetrics | null {
    if (!this.matches(runId, round)) this.current = { runId, round, byClient: new Map() };
    this.current!.byClient.set(clientId, metrics);
    return weightedEvalMean([...this.current!.byClient.values()]);
  }

  /** Forgets scores of any other model: at most one model's scores are held. */
  keepOnly(runId: string, round: number): void {
    if (!this.matches(runId, round)) this.current = null;
  }

  clear(): void {
    this.current = null;
  }

  private matches(runId: string, round: number): boolean {
    return this.current?.runId === runId && this.current.round === round;
  }
}
