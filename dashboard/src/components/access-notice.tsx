/** Shown without an admin token: the page is read-only until opened with the hub's start-up URL. */
export function AccessNotice({ refused }: { refused: boolean }) {
  return (
    <div className={`notice${refused ? ' notice-error' : ''}`} role="status" data-testid="access-notice">
      {refused && <strong>Token refused. </strong>}
      {refused ? 'The hub did not accept this session’s admin token, so the page is read-only now. ' : 'Read-only view. '}
      To launch and stop runs, open the dashboard URL printed in the hub’s start-up log; it ends with <code>?token=…</code>
    </div>
  );
}
