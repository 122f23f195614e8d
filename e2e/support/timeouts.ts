/**
 * Bounds a promise in time. A page.evaluate has no timeout of its own: a hung page would hang the run.
 * @example await withTimeout(page.evaluate(() => window.__flClient!.numTensors()), 10_000, 'numTensors')
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
