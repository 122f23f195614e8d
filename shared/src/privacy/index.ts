/** User-level DP-FedAvg (McMahan et al. 2018): clipping, Gaussian noise, per-round arithmetic and the RDP accountant. */
export {
  RDP_ORDERS,
  MAX_NOISE_MULTIPLIER,
  rdpSampledGaussian,
  epsilonFromRdp,
  composeRdp,
  privacySpent,
  epsilonFor,
  noiseForEpsilon,
  type PrivacyStep,
  type PrivacySpent,
} from './accountant';
export { clipL2, l2Norm } from './clip';
export {
  clientNoiseStd,
  centralNoiseStd,
  effectiveNoiseMultiplier,
  fixedPointRange,
  FIXED_POINT_NOISE_SIGMAS,
  FIXED_POINT_EXCEED_PROBABILITY,
  type DpRoundSettings,
} from './dp-round';
export { erfc, logErfc } from './erfc';
export { addGaussianNoise, gaussianNoise } from './gaussian';
