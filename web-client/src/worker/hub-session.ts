import { io, type Socket } from 'socket.io-client';
import {
  CLIENT_NAMESPACE,
  CLIENT_HANDSHAKE_QUERY,
  isErrorResponse,
  type BackendInfo,
  type ClientToHubEvents,
  type ErrorBody,
  type HubToClientEvents,
  type JoinRequest,
} from '@fl/shared';
import { FederatedClient, type ClientSnapshot, type CredentialStore, type DataProvider } from '@fl/shared/federated-client';
import type { LinkState } from '../worker-protocol';

export interface HubSessionOptions {
  hubUrl: string;
  name: string;
  joinToken: string | undefined;
  backend: BackendInfo;
  data: DataProvider;
  /** The id and secret the hub issued: the page keeps them in sessionStorage, which workers lack. */
  credentials: CredentialStore;
  onSnapshot: (snapshot: ClientSnapshot) => void;
  onLink: (link: LinkState) => void;
}

/**
 * A yield to the worker's event loop: the socket's messages (a round:cancel among them) are handled
 * here. A MessageChannel task costs microseconds, where a timer is clamped and rAF is the page's.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** The tab's FederatedClient over one socket.io connection, which reconnects by itself; runs in the training worker. */
export class HubSession {
  private readonly socket: Socket<HubToClientEvents, ClientToHubEvents>;
  private readonly client: FederatedClient;
  /** Held in an object the client's options read from, so a later join sees a new name. */
  private readonly identity: { name: string };
  private link: LinkState = { error: null, reconnectAttempts: 0 };
  private readonly credentials: CredentialStore;

  constructor(private readonly options: HubSessionOptions) {
    const identity = (this.identity = { name: options.name });
    this.credentials = options.credentials;
    // WebSocket only: the hub sends no CORS headers, which long-polling from a ?hub= page would need.
    this.socket = io(new URL(CLIENT_NAMESPACE, options.hubUrl).href, { transports: ['websocket'], query: CLIENT_HANDSHAKE_QUERY, reconnectionDelayMax: 5000 });
    this.client = new FederatedClient({
      socket: this.socket,
      // Read at every join, so a reconnect announces the current name under the same client id.
      get name() {
        return identity.name;
      },
      kind: 'browser',
      backend: options.backend,
      data: options.data,
      ...(options.joinToken ? { joinToken: options.joinToken } : {}),
      credentials: this.credentials,
      yieldEvery: yieldToEventLoop,
      // In the worker a yield is nearly free: after every batch, so a round:cancel stops the round within one.
      yieldIntervalMs: 0,
      onChange: options.onSnapshot,
    });
    this.socket.on('connect', () => this.setLink({ error: null, reconnectAttempts: 0 }));
    // Reconnecting after a server-side disconnect is FederatedClient's job, for tabs and headless clients alike.
    this.socket.on('connect_error', (error) => this.setLink({ ...this.link, error: error.message }));
    this.socket.io.on('reconnect_attempt', (attempt) => this.setLink({ ...this.link, reconnectAttempts: attempt }));
    options.onSnapshot(this.client.state);
  }

  get snapshot(): ClientSnapshot {
    return this.client.state;
  }

  /**
   * Announces a new name by joining again on the live connection, under the same client id.
   * Not by reconnecting: a round:start in flight would be lost, and with it the round.
   * Resolves with the hub's refusal, or null.
   */
  async rename(name: string): Promise<ErrorBody | null> {
    this.identity.name = name;
    const clientId = this.client.state.clientId;
    // Not joined yet: the coming join reads the new name.
    if (!this.socket.connected || !clientId) return null;
    const { backend, data, joinToken } = this.options;
    // The secret too: after a reconnect this may reach the hub before the new connection's own join.
    const held = this.credentials.load();
    const secret = held?.clientId === clientId ? { clientSecret: held.secret } : {};
    const request: JoinRequest = { name, kind: 'browser', backend, data: data.describe(), clientId, ...secret, ...(joinToken ? { joinToken } : {}) };
    try {
      const response = await this.socket.timeout(10_000).emitWithAck('client:join', request);
      return isErrorResponse(response) ? response.error : null;
    } catch (error) {
      return { code: 'HUB_ERR_INTERNAL', message: `no answer from the hub to client:join: ${String(error)}` };
    }
  }

  /** Tells the hub what data the tab now holds. */
  async announceData(): Promise<void> {
    await this.client.announceData(this.options.backend);
  }

  private setLink(link: LinkState): void {
    this.link = link;
    this.options.onLink(link);
  }
}
