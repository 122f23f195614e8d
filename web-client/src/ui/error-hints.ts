import type { ErrorBody, ErrorCode } from '@fl/shared';

/** What a person can do about each hub error; the code itself is always shown too. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  HUB_ERR_UNAUTHORIZED: 'This hub needs a join token: open this page with ?join=<token> (ask whoever runs the hub).',
  HUB_ERR_RATE_LIMITED: 'Too many joins from this address (many tabs or renames). Wait a minute; the tab joins again when it reconnects.',
  HUB_ERR_INVALID_PAYLOAD: 'The hub refused a message from this tab. Reload the page; if it persists, the tab and hub versions may differ.',
  HUB_ERR_NOT_JOINED: 'The hub does not know this tab (it may have restarted). The tab rejoins when it reconnects; reload if it does not.',
  HUB_ERR_STALE_ROUND: 'The round ended before this tab finished. Nothing to do: the tab joins the next round.',
  HUB_ERR_ROUND_CLOSED: 'The round closed before this update arrived (deadline passed). Nothing to do: the tab joins the next round.',
  HUB_ERR_WRONG_RUN: 'That run is over. Nothing to do: the tab joins the next run.',
  HUB_ERR_NO_RUN: 'No run is active on the hub. Nothing to do: the tab waits for the next run.',
  HUB_ERR_NOT_PARTICIPANT: 'This tab was not picked for that round. Nothing to do: it waits to be picked.',
  HUB_ERR_DUPLICATE_UPDATE: 'The hub already had this tab\'s update for the round. Nothing to do.',
  HUB_ERR_SHAPE_MISMATCH: 'The model in this tab does not match the hub\'s. Reload the page to get the hub\'s version of the client.',
  HUB_ERR_NON_FINITE: 'Training diverged (NaN or infinite weights). Ask the operator to lower the learning rate.',
  HUB_ERR_TOO_LARGE: 'The update was too large for the hub. Reload the page; the hub may run another model version.',
  HUB_ERR_BAD_FRAME: 'The hub could not read this tab\'s update. Reload the page.',
};

export function errorHint(error: ErrorBody): string {
  if (error.code === 'HUB_ERR_INTERNAL') {
    return /no answer/.test(error.message)
      ? 'The hub did not answer in time. Check that it is running; the tab reconnects by itself.'
      : 'Something failed in this tab or the hub. The tab keeps going and joins the next round; reload if it repeats.';
  }
  return HINTS[error.code] ?? 'Reload the page if this repeats.';
}
