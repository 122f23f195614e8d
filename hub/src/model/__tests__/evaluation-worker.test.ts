import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMnistSprites } from '../../../scripts/build-mnist';
import { defaultMnistDir } from '../../data/mnist-files';
import { ModelService } from '../model-service';

// The held-out evaluation in its own thread scores exactly as on the event loop, and a closing hub fails what is left.
describe('held-out evaluation thread', () => {
  let threaded: ModelService;
  let inline: ModelService;

  beforeAll(async () => {
    const mnistDir = defaultMnistDir();
    await buildMnistSprites(mnistDir, { log: () => {} });
    threaded = await ModelService.create(mnistDir);
    inline = await ModelService.create(mnistDir, undefined, { evaluationThread: false });
  }, 120_000);

  afterAll(async () => {
    await threaded?.close();
    await inline?.close();
  });

  it('gives the same accuracy and loss as the event loop for the same weights, job after job', async () => {
    const a = inline.freshWeights('mnist');
    const b = inline.freshWeights('mnist');
    const [inThreadA, inThreadB] = await Promise.all([threaded.evaluate('mnist', a), threaded.evaluate('mnist', b)]);
    const [hereA, hereB] = [await inline.evaluate('mnist', a), await inline.evaluate('mnist', b)];
    expect(inThreadA!.accuracy).toBe(hereA!.accuracy);
    expect(inThreadA!.loss).toBeCloseTo(hereA!.loss, 5);
    expect(inThreadB!.accuracy).toBe(hereB!.accuracy);
    expect(inThreadB!.loss).toBeCloseTo(hereB!.loss, 5);
    // Untrained weights score near chance: a model that was really evaluated, not a constant.
    expect(inThreadA!.accuracy).toBeLessThan(0.3);
    expect(await threaded.evaluate('chest-xray', a)).toBeNull();
  }, 120_000);

  it('fails an evaluation still waiting when the service closes, and refuses new ones', async () => {
    const own = await ModelService.create(defaultMnistDir());
    // Handled from the start: tfjs-backend-wasm's Emscripten glue makes an unhandled rejection end the process.
    const pending = own.evaluate('mnist', own.freshWeights('mnist')).then(
      () => 'scored',
      (error: Error) => error.message,
    );
    await own.close();
    expect(await pending).toMatch(/closing/);
    await expect(own.evaluate('mnist', own.freshWeights('mnist'))).rejects.toThrow(/closed/);
  }, 120_000);
});
