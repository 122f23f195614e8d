import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/test-hub';
import { connectRaw, emitAck, joinRaw, outcome, type RawSocket } from './support/raw-client';
import { waitFor } from './support/wait-for';

const progress = { runId: 'no-such-run', round: 1, epoch: 1, epochs: 1, batch: 1, batches: 10 };

describe('per-connection budget of client events', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('refuses events over the budget with HUB_ERR_RATE_LIMITED and disconnects a connection that keeps flooding', async () => {
    hub = await startTestHub({
      eventBudget: { events: { 'round:progress': { burst: 3, perSecond: 0.001 }, '*': { burst: 100, perSecond: 100 } }, flood: { refusals: 4, windowMs: 60_000 } },
    });
    const client = await joinRaw(hub.url, 'flooder');
    const other = await joinRaw(hub.url, 'bystander');
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(outcome(await emitAck(client.socket, 'round:progress', progress)));
    expect(codes).toEqual(['HUB_ERR_STALE_ROUND', 'HUB_ERR_STALE_ROUND', 'HUB_ERR_STALE_ROUND', 'HUB_ERR_RATE_LIMITED', 'HUB_ERR_RATE_LIMITED', 'HUB_ERR_RATE_LIMITED']);
    // The 4th refusal is the flood threshold: answered, then the connection is closed.
    client.socket.emit('round:progress', progress);
    await waitFor(() => !client.socket.connected, { what: 'the flooding connection to be closed' });
    // Budgets are per connection: another client is untouched.
    expect(outcome(await emitAck(other.socket, 'round:progress', progress))).toBe('HUB_ERR_STALE_ROUND');
    other.close();
  });

  it('with the default budget, disconnects a connection that floods unknown events', async () => {
    hub = await startTestHub();
    const socket: RawSocket = await connectRaw(hub.url);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => emitAck(socket, `junk:${i}`, {}).then(outcome, () => 'no answer')),
    );
    expect(answers.slice(0, 10)).toEqual(Array(10).fill('HUB_ERR_UNKNOWN_EVENT'));
    expect(answers.slice(10)).toEqual(Array(30).fill('HUB_ERR_RATE_LIMITED'));
    for (let i = 0; i < 30; i++) socket.emit(`junk:${i}`, {});
    await waitFor(() => !socket.connected, { what: 'the flooding connection to be closed' });
  });
});
