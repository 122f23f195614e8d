import Type, { type Static } from 'typebox';
import { Binary, LocalMetrics, checker, type Ack, type AckResponse, type HubToClientEvents, type RunSettings, type UpdateReceipt } from '@fl/shared';

/**
 * How a relaying hub node and the leader talk (one Socket.IO connection from each relay to the leader's RELAY_NAMESPACE,
 * authenticated with the cluster's admin token). Only hub nodes speak it, so it lives in the hub. The relay checks
 * its clients' messages against the shared contract and hands them on; the leader's engine decides; what the engine
 * sends to a relayed client goes back on the same connection, once per node for a broadcast. A plain-FedAvg update
 * stays on its relay, folded into the node's partial sum; the leader takes one partial per node when the round closes.
 */
export const RELAY_NAMESPACE = '/relay';

export const RelayEvent = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: 64 }),
    event: Type.Union([
      Type.Literal('client:join'),
      Type.Literal('client:data'),
      Type.Literal('round:progress'),
      Type.Literal('update:submit'),
      Type.Literal('eval:submit'),
      Type.Literal('secagg:keys'),
      Type.Literal('secagg:shares'),
      Type.Literal('secagg:masked'),
      Type.Literal('secagg:reveal'),
      Type.Literal('update:held'),
      Type.Literal('secagg:masked-held'),
      Type.Literal('client:leave'),
    ]),
    payload: Type.Unknown(),
  },
  { additionalProperties: false },
);
export type RelayEvent = Static<typeof RelayEvent>;
/**
 * Client events a relay hands on (after the shared contract's checks), and three of its own: `update:held` and
 * `secagg:masked-held`, an update or masked input it checked and keeps for its partial sum (the leader gets the
 * envelope, not the values), and `client:leave`.
 */
export type RelayedEvent = RelayEvent['event'];
export const relayEventChecker = checker(RelayEvent);

/** The envelope of an update a relay holds: what the engine's checks need, without the weights. */
export const HeldUpdate = Type.Object(
  {
    runId: Type.String({ minLength: 1, maxLength: 64 }),
    round: Type.Integer({ minimum: 1, maximum: 100_000 }),
    samples: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    metrics: LocalMetrics,
    /** The frame's size, for the hub's size limit. */
    bytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type HeldUpdate = Static<typeof HeldUpdate>;
export const heldUpdateChecker = checker(HeldUpdate);

/** The envelope of a masked input a relay keeps in its sum of masked inputs (secure rounds). */
export const HeldMasked = Type.Object(
  {
    runId: Type.String({ minLength: 1, maxLength: 64 }),
    round: Type.Integer({ minimum: 1, maximum: 100_000 }),
    metrics: LocalMetrics,
  },
  { additionalProperties: false },
);
export type HeldMasked = Static<typeof HeldMasked>;
export const heldMaskedChecker = checker(HeldMasked);

/** The leader's answer to a held update: the client's receipt, the weight to fold it with, and the partial it goes into. */
export interface HeldReceipt extends UpdateReceipt {
  weight: number;
  /** The round attempt's partial sum (a retried round starts a new one). */
  partial: string;
}

/**
 * One node's partial sum of a round. `fedavg`: the weighted sum of its clients' updates, float64 little-endian (8
 * bytes per model value: the leader adds it to its own float64 sum, so the mean equals a one-node run's), and their
 * total weight. `masked` (secure rounds): the sum of its clients' masked inputs modulo 2^32, uint32 little-endian
 * (the model's length plus the weight word, like a masked input), still masked; `weight` is the number of inputs.
 */
export const PartialSum = Type.Object(
  {
    kind: Type.Union([Type.Literal('fedavg'), Type.Literal('masked')]),
    partial: Type.String({ minLength: 1, maxLength: 200 }),
    clients: Type.Array(Type.String({ minLength: 1, maxLength: 64 })),
    weight: Type.Number({ exclusiveMinimum: 0 }),
    sum: Binary,
  },
  { additionalProperties: false },
);
export type PartialSum = Static<typeof PartialSum>;
export const partialSumChecker = checker(PartialSum);

/** Engine messages for relayed clients: `to` are client ids on the receiving node; a broadcast's bytes cross once. */
export interface RelaySend {
  to: string[];
  event: keyof HubToClientEvents;
  args: unknown[];
}

export interface RelayToLeaderEvents {
  'relay:event': (message: RelayEvent, ack: Ack<unknown>) => void;
  /** The answer to `relay:partial` `id`. */
  'relay:partial-sum': (answer: { id: number; response: AckResponse<PartialSum> }) => void;
}

export interface LeaderToRelayEvents {
  'relay:send': (message: RelaySend) => void;
  /** The client joined elsewhere (it proved its secret on another connection): this node's connection of it is stale. */
  'relay:drop': (message: { clientId: string }) => void;
  /**
   * Asks for a partial sum; answered with `relay:partial-sum`. Not an acknowledgement: the leader's messages are local
   * broadcasts (no Redis), and Socket.IO waits for every node's answer to a broadcast's acknowledgement.
   */
  'relay:partial': (request: { id: number; partial: string; clients: string[] }) => void;
}

/**
 * Rounds whose updates a relay folds into one partial sum: plain weighted FedAvg. The robust strategies need every
 * update, clipping and differential privacy treat each update on its own, and secure rounds send masked inputs, so
 * those are handed on one by one (still only to the leader).
 */
export function foldsOnRelay(settings: Pick<RunSettings, 'strategy' | 'clipNorm' | 'dp' | 'secureAggregation'>): boolean {
  return settings.strategy === 'fedavg' && settings.clipNorm === null && settings.dp === null && !settings.secureAggregation;
}
