import { io, type Socket } from 'socket.io-client';
import {
  CLIENT_NAMESPACE,
  CLIENT_HANDSHAKE_QUERY,
  MNIST_BASE_URL,
  mnistFiles,
  type ClientToHubEvents,
  type HubToClientEvents,
  type RoundStart,
} from '@fl/shared';
import { FederatedClient, type ClientSnapshot, type DataProvider } from '@fl/shared/federated-client';
import { createMnistDataset, decodeShard } from '@fl/shared/data/mnist-dataset';
import { decodeMnistSplit, type MnistSplitData } from '../data/mnist-files';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Fetches the hub's MNIST training sprite once, as a browser tab does, and decodes it with pngjs. */
export function hubMnistLoader(hubUrl: string): () => Promise<MnistSplitData> {
  let loading: Promise<MnistSplitData> | null = null;
  return () => {
    loading ??= (async () => {
      const files = mnistFiles('train');
      const base = new URL(MNIST_BASE_URL, hubUrl);
      const [png, labels] = await Promise.all([
        fetchBytes(new URL(files.images, base).href),
        fetchBytes(new URL(files.labels, base).href),
      ]);
      return decodeMnistSplit(png, labels, 'train');
    })();
    return loading;
  };
}

/** The data side of a headless MNIST client: the shard the hub assigns for each run. */
export function mnistProvider(load: () => Promise<MnistSplitData>): DataProvider {
  return {
    describe: () => ({ task: 'mnist' }),
    async trainingSet(start: RoundStart) {
      const data = await load();
      if (!start.shard) throw new Error('round:start for MNIST carried no shard');
      return createMnistDataset(data.images, data.labels, decodeShard(start.shard));
    },
  };
}

export interface HeadlessClientOptions {
  hubUrl: string;
  name: string;
  data: DataProvider;
  joinToken?: string;
  onChange?: (snapshot: ClientSnapshot) => void;
}

/** A training client in Node: real socket.io-client, the same FederatedClient as the browser tab. */
export function startHeadlessClient(options: HeadlessClientOptions): { client: FederatedClient; socket: Socket<HubToClientEvents, ClientToHubEvents> } {
  const socket: Socket<HubToClientEvents, ClientToHubEvents> = io(new URL(CLIENT_NAMESPACE, options.hubUrl).href, {
    transports: ['websocket'],
    query: CLIENT_HANDSHAKE_QUERY,
    reconnectionDelayMax: 2000,
  });
  const client = new FederatedClient({
    socket,
    name: options.name,
    kind: 'headless',
    backend: { name: 'wasm', reason: 'headless client: TF.js wasm backend in Node' },
    data: options.data,
    ...(options.joinToken ? { joinToken: options.joinToken } : {}),
    yieldEvery: () => new Promise((resolve) => setImmediate(resolve)),
    ...(options.onChange ? { onChange: options.onChange } : {}),
  });
  return { client, socket };
}
