/**
 * `pnpm privacy`: the (epsilon, delta) of a DP-FedAvg run, or the smallest noise multiplier for a target epsilon.
 * Prints one JSON line on stdout; a bad or missing flag is named on stderr with exit code 2.
 *
 * @example pnpm privacy --sampling-rate 0.01 --noise-multiplier 1.1 --rounds 1000 --delta 1e-5
 * @example pnpm privacy --sampling-rate 0.01 --target-epsilon 2 --rounds 1000 --delta 1e-5
 */
import { parseArgs } from 'node:util';
import { CodedError } from '@fl/shared/errors';
import { epsilonFor, noiseForEpsilon } from '@fl/shared/privacy/index';

const USAGE =
  'usage: pnpm privacy --sampling-rate Q (--noise-multiplier Z | --target-epsilon E) --rounds T --delta D\n' +
  '  prints {"epsilon","delta","order"}, or with --target-epsilon {"noiseMultiplier","epsilon","delta","order"}';

class UsageError extends Error {}

type Flag = 'sampling-rate' | 'noise-multiplier' | 'target-epsilon' | 'rounds' | 'delta';

function readNumber(values: Partial<Record<Flag, string>>, flag: Flag, valid: (n: number) => boolean, what: string): number {
  const raw = values[flag];
  if (raw === undefined) throw new UsageError(`--${flag} is required`);
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!valid(n)) throw new UsageError(`--${flag} must be ${what}, got '${raw}'`);
  return n;
}

function run(argv: string[]): string {
  let values: Partial<Record<Flag, string>>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'sampling-rate': { type: 'string' },
        'noise-multiplier': { type: 'string' },
        'target-epsilon': { type: 'string' },
        rounds: { type: 'string' },
        delta: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const samplingRate = readNumber(values, 'sampling-rate', (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  const rounds = readNumber(values, 'rounds', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
  const delta = readNumber(values, 'delta', (n) => n > 0 && n < 1, 'a number strictly between 0 and 1');
  const hasNoise = values['noise-multiplier'] !== undefined;
  const hasTarget = values['target-epsilon'] !== undefined;
  if (hasNoise === hasTarget) throw new UsageError('give exactly one of --noise-multiplier and --target-epsilon');

  if (hasNoise) {
    const noiseMultiplier = readNumber(values, 'noise-multiplier', (n) => Number.isFinite(n) && n > 0, 'a finite number above 0 (with no noise epsilon is infinite)');
    const spent = epsilonFor({ samplingRate, noiseMultiplier, rounds, delta });
    return JSON.stringify({ epsilon: spent.epsilon, delta: spent.delta, order: spent.order });
  }
  const targetEpsilon = readNumber(values, 'target-epsilon', (n) => Number.isFinite(n) && n > 0, 'a finite number above 0');
  let noiseMultiplier: number;
  try {
    noiseMultiplier = noiseForEpsilon({ samplingRate, rounds, delta, targetEpsilon });
  } catch (error) {
    if (error instanceof CodedError) throw new UsageError(`--target-epsilon ${targetEpsilon}: ${error.message}`);
    throw error;
  }
  const spent = epsilonFor({ samplingRate, noiseMultiplier, rounds, delta });
  return JSON.stringify({ noiseMultiplier, epsilon: spent.epsilon, delta: spent.delta, order: spent.order });
}

try {
  console.log(run(process.argv.slice(2)));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
