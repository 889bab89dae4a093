/**
 * Differential privacy of fedrec's rounds (DP-FedAvg, McMahan et al. 2018): client-side clipping, secure
 * Gaussian noise, and a Rényi-DP accountant for the (Poisson-)sampled Gaussian mechanism that turns the
 * rounds run so far into an (ε, δ) guarantee. Pure TypeScript: no tfjs, no DOM, no Node.
 * @example
 * const accountant = createRdpAccountant()
 * accountant.compose({ sampleRate: 1, noiseMultiplier: 1.2 }, 10)
 * accountant.epsilon(1e-5)
 * @module
 */
export { createRdpAccountant, type GaussianRound, type RdpAccountant } from './accountant.ts'
export { clipDeltas, deltasNorm } from './clip.ts'
export { PrivacyError, type PrivacyErrorCode } from './errors.ts'
export { addGaussianNoise, type RandomWords } from './gaussian-noise.ts'
export {
  classicRdpToEpsilon,
  computeRdp,
  DEFAULT_ORDERS,
  rdpToEpsilon,
  sampledGaussianRdp,
} from './rdp.ts'
