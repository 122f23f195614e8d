import type { ClusterState } from '../hooks/use-cluster';

/** Which hub node runs the rounds and how many training clients each holds. */
export function ClusterNodes({ cluster }: { cluster: ClusterState }) {
  if (cluster.state === 'loading') return <p className="muted">Asking the hub for its nodes…</p>;
  if (cluster.state === 'error') return <p className="form-error">Could not read the nodes: {cluster.reason}</p>;
  const { nodes } = cluster;
  if (!nodes.some((n) => n.leader)) {
    return <p className="form-error" data-testid="no-leader">No node runs the rounds right now; another node takes over within seconds, and the clients reconnect by themselves.</p>;
  }
  return (
    <ul className="node-list" data-testid="cluster-nodes">
      {nodes.map((node) => (
        <li key={node.id} className={`node-row${node.leader ? ' is-leader' : ''}`} data-testid={`node-${node.id}`} data-leader={node.leader}>
          <span className="node-id">{node.id.length > 12 ? `${node.id.slice(0, 8)}…` : node.id}</span>
          <span className={`node-role${node.leader ? ' leader' : ''}`}>{node.leader ? 'leads the rounds' : 'relays its clients to the leader'}</span>
          <span className="node-clients">
            {node.clients} client{node.clients === 1 ? '' : 's'}
          </span>
          <span className="muted small node-url" title={`pid ${node.pid}`}>
            {node.url}
          </span>
        </li>
      ))}
    </ul>
  );
}
