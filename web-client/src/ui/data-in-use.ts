import type { ClientData } from '@fl/shared';
import { count } from './format';

/** Which data the tab trains on now, in words: said beside a folder that could not replace it. */
export function dataInUse(data: ClientData | null): string {
  if (!data) return 'No data is in use yet: this tab does not take part in runs until a folder loads or MNIST is chosen.';
  if (data.task === 'mnist') return 'Still in use: the MNIST digits from the hub.';
  const { train, test } = data;
  return `Still in use: the chest_xray folder loaded before (train ${count(train.normal)} normal / ${count(train.pneumonia)} pneumonia, test ${count(test.normal)} / ${count(test.pneumonia)}).`;
}
