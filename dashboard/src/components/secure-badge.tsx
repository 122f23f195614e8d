/** Marks a secure-aggregation run: the hub saw only the sum of each round's updates. */
export function SecureBadge() {
  return (
    <span className="badge badge-secure" data-testid="secure-badge" title="Secure aggregation: the hub sees only the sum of each round's updates">
      secure
    </span>
  );
}
