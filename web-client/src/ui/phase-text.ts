import { TASK_LABELS } from '@fl/shared/tasks';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { finalScore, scoringFinalModel } from './final-score';
import { percent } from './format';

/** What the hub's round:cancel reason means to the person at the tab. */
export function cancelText(cancelled: NonNullable<ClientSnapshot['cancelled']>, rounds: number | undefined): string {
  const at = `round ${cancelled.round}${rounds ? ` of ${rounds}` : ''}`;
  // 'run stopped' is the hub's reason when an operator presses Stop (round-reducer's 'stop').
  if (cancelled.reason === 'run stopped') return `Run stopped on the hub during ${at}; this tab's work on it was dropped. Waiting for the next run`;
  return `The hub cancelled ${at}: ${cancelled.reason}. Waiting for the hub`;
}

/** The one-line state of the training card; `testImages`: the tab's own test split, which scores the final model. */
export function phaseText(snapshot: ClientSnapshot, hasData: boolean, testImages = 0): string {
  const { round, progress, phase } = snapshot;
  if (!round || phase === 'idle') {
    if (snapshot.connection !== 'connected') return 'Not connected to the hub';
    if (!hasData) return 'Choose data below to take part in runs';
    if (snapshot.cancelled) return cancelText(snapshot.cancelled, round?.rounds);
    const last = snapshot.lastRound;
    if (!last) return 'Waiting for the hub to start a round';
    if (scoringFinalModel(snapshot, testImages)) return `Round ${last.round} of ${round!.rounds} done · scoring the final model on your test split`;
    const score = finalScore(snapshot);
    if (score) return `Run finished: the final model scored ${percent(score.accuracy)} on your ${score.samples} test images; waiting for the next run`;
    const finished = round && round.runId === last.runId && last.round === round.rounds;
    return finished ? `Run finished: round ${last.round} of ${round.rounds} done; waiting for the next run` : `Round ${last.round} done; waiting for the next round`;
  }
  const head = `Round ${round.round} of ${round.rounds} · ${TASK_LABELS[round.task]}`;
  if (round.secure && phase !== 'evaluating') return `${head} · ${secureText(snapshot)}`;
  switch (phase) {
    case 'loading':
      return `${head} · preparing data`;
    case 'evaluating':
      return `${head} · scoring the global model on your test split`;
    case 'training':
      return progress ? `${head} · epoch ${progress.epoch}/${progress.epochs} · batch ${progress.batch}/${progress.batches}` : `${head} · starting`;
    case 'submitting':
      return `${head} · sending the update`;
    default: {
      const _exhaustive: never = phase;
      return String(_exhaustive);
    }
  }
}

/** A secure round's stage as the tab sees it: keys and shares go out in 'loading', before training. */
export function secureText(snapshot: ClientSnapshot): string {
  const { progress, phase } = snapshot;
  switch (phase) {
    case 'idle':
    case 'loading':
      return 'secure round: stage keys and shares (exchanging keys and encrypted shares with the other clients)';
    case 'evaluating':
      return 'secure round: scoring the global model on your test split';
    case 'training':
      return `secure round: stage training${progress ? ` · epoch ${progress.epoch}/${progress.epochs} · batch ${progress.batch}/${progress.batches}` : ''}`;
    case 'submitting':
      return 'secure round: stage masking · sending the masked update (the hub sees only the sum)';
    default: {
      const _exhaustive: never = phase;
      return String(_exhaustive);
    }
  }
}
