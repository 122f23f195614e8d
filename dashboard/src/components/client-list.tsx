import type { ClientView } from '@fl/shared/api';
import { useNow } from '../hooks/use-now';
import { Card } from './card';
import { ClientRow } from './client-row';
import { EmptyClients } from './empty-clients';

/** Every client the hub knows, in join order; lost ones fade until the hub forgets them. */
export function ClientList({ clients }: { clients: ClientView[] }) {
  const now = useNow();
  const browsers = clients.filter((c) => c.kind === 'browser').length;
  return (
    <Card
      area="clients"
      title="Connected clients"
      aside={
        clients.length > 0 && (
          <span className="muted small" data-testid="client-count">
            {clients.length} client{clients.length === 1 ? '' : 's'} · {browsers} browser · {clients.length - browsers} headless
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
        </ul>
      )}
    </Card>
  );
}
