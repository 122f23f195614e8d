/** Secure aggregation (SecAgg with the SecAgg+ neighbour graph): both roles as pure state machines over bytes. */
export type { SecAggParams } from './params';
export { planSecAgg, degreeFor, thresholdFor } from './graph';
export { encodeSetup, decodeSetup } from './setup-frame';
export { SecAggClient } from './client-role';
export { SecAggHub, type HubStage } from './hub-role';
export { expandMask } from './prg';
export { fracBitsFor } from './fixed-point';
export { PRG_KNOWN_ANSWER } from './known-answer';
