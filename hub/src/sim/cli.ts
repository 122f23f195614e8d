import { parseArgs } from 'node:util';
import { initWasmBackend } from '@fl/shared/tfjs/wasm-backend';
import { hubMnistLoader, mnistProvider, startHeadlessClient } from './headless-client';

const { values } = parseArgs({
  options: {
    hub: { type: 'string', default: 'http://localhost:5000' },
    clients: { type: 'string', default: '1' },
    task: { type: 'string', default: 'mnist' },
    name: { type: 'string', default: 'headless' },
    'join-token': { type: 'string' },
  },
});

const count = Number(values.clients);
if (!Number.isInteger(count) || count < 1 || count > 1000) {
  console.error('--clients must be a whole number from 1 to 1000');
  process.exit(2);
}
if (values.task !== 'mnist') {
  console.error(`--task ${values.task}: headless clients train MNIST only; chest X-rays are loaded in a browser tab (${values.hub}/client/)`);
  process.exit(2);
}

await initWasmBackend();
const load = hubMnistLoader(values.hub);
const data = mnistProvider(load);
const clients = Array.from({ length: count }, (_, i) => {
  const name = `${values.name}-${i + 1}`;
  let last = '';
  return startHeadlessClient({
    hubUrl: values.hub,
    name,
    data,
    ...(values['join-token'] ? { joinToken: values['join-token'] } : {}),
    onChange: (s) => {
      const line = s.lastError
        ? `error ${s.lastError.code}: ${s.lastError.message}`
        : s.phase === 'training' && s.progress
          ? `round ${s.round?.round}/${s.round?.rounds} epoch ${s.progress.epoch}/${s.progress.epochs}`
          : `${s.connection}, ${s.phase}${s.lastRound ? `, last round ${s.lastRound.round}: loss ${s.lastRound.loss.toFixed(3)} acc ${s.lastRound.accuracy.toFixed(3)}` : ''}`;
      if (line !== last) console.log(`[${name}] ${line}`);
      last = line;
    },
  });
});
console.log(`${count} headless client(s) connecting to ${values.hub}; Ctrl-C to stop.`);

process.once('SIGINT', () => {
  for (const { client } of clients) client.close();
  process.exit(0);
});
