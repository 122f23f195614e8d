import type { ClientView, HubStatus } from '@fl/shared/api';
import { useNow } from '../hooks/use-now';
import { Card } from './card';
import { ClientRow } from './client-row';
import { EmptyClients } from './empty-clients';

/**
 * The clients the hub knows, in join order; lost ones fade until the hub forgets them. A large hub sends only
 * its first rows: `total` and `states` count every client, and the list says how many it leaves out.
 */
export function ClientList({ clients, total = clients.length, states }: { clients: ClientView[]; total?: number; states?: HubStatus['clientStates'] }) {
  const now = useNow();
  const browsers = clients.filter((c) => c.kind === 'browser').length;
  const hidden = total - clients.length;
  return (
    <Card
      area="clients"
      title="Connected clients"
      aside={
        clients.length > 0 && (
          <span className="muted small" data-testid="client-count">
            {hidden > 0 && states
              ? `${total.toLocaleString('en-US')} clients · ${states.training.toLocaleString('en-US')} training · ${states.done.toLocaleString('en-US')} done · ${states.idle.toLocaleString('en-US')} idle`
              : `${clients.length} client${clients.length === 1 ? '' : 's'} · ${browsers} browser · ${clients.length - browsers} headless`}
          </span>
        )
      }
    >
      {clients.length === 0 ? (
        <EmptyClients />
      ) : (
        <ul className="client-list">
          {clients.map((c) => (
            <ClientRow key={c.id} client={c} now={now} />
          ))}
          {hidden > 0 && (
            <li className="muted small" data-testid="clients-hidden">
              and {hidden.toLocaleString('en-US')} more (the hub sends its first {clients.length} rows; the counts above cover all)
            </li>
          )}
        </ul>
      )}
    </Card>
  );
}
