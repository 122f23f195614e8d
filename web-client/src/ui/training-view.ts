import { TASK_LABELS } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { byId, h } from './dom';
import { errorHint } from './error-hints';
import { decimal, percent, seconds } from './format';

const MAX_EPOCH_LINES = 30;

export interface TrainingView {
  render(snapshot: ClientSnapshot, hasData: boolean): void;
  showTensors(numTensors: number): void;
}

function phaseText(snapshot: ClientSnapshot, hasData: boolean): string {
  const { round, progress, phase } = snapshot;
  if (!round || phase === 'idle') {
    if (snapshot.connection !== 'connected') return 'Not connected to the hub';
    if (!hasData) return 'Choose data below to take part in runs';
    const last = snapshot.lastRound;
    if (!last) return 'Waiting for the hub to start a round';
    const finished = round && round.runId === last.runId && last.round === round.rounds;
    return finished ? `Run finished: round ${last.round} of ${round.rounds} done; waiting for the next run` : `Round ${last.round} done; waiting for the next round`;
  }
  const head = `Round ${round.round} of ${round.rounds} · ${TASK_LABELS[round.task]}`;
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

/** Round/epoch/batch progress, per-epoch loss and accuracy, the last round's metrics, errors. */
export function mountTrainingView(): TrainingView {
  const box = byId('train-progress');
  const label = byId('train-label');
  const bar = byId<HTMLProgressElement>('train-bar');
  const epochLog = byId<HTMLOListElement>('epoch-log');
  const lastRound = byId('last-round');
  const errorBox = byId('client-error');
  const tensors = byId('tensor-count');
  const logged = new Set<string>();
  let shownRound = '';

  function logEpoch(snapshot: ClientSnapshot): void {
    const { round, progress } = snapshot;
    if (!round || !progress || progress.batch !== progress.batches) return;
    const key = `${round.runId}:${round.round}:${progress.epoch}`;
    if (logged.has(key)) return;
    logged.add(key);
    epochLog.prepend(
      h(
        'li',
        {},
        h('span', { class: 'epoch-at' }, `Round ${round.round} · epoch ${progress.epoch}/${progress.epochs}`),
        h('span', { class: 'epoch-metric' }, `loss ${decimal(progress.loss)}`),
        h('span', { class: 'epoch-metric' }, `accuracy ${percent(progress.accuracy)}`),
      ),
    );
    while (epochLog.children.length > MAX_EPOCH_LINES) epochLog.lastElementChild?.remove();
  }

  function renderLastRound(snapshot: ClientSnapshot): void {
    const last = snapshot.lastRound;
    const key = last ? `${last.runId}:${last.round}` : '';
    if (key === shownRound) return;
    shownRound = key;
    if (!last) {
      lastRound.replaceChildren(h('p', { class: 'muted' }, 'No round finished yet.'));
      return;
    }
    const row = (name: string, value: string) => [h('dt', {}, name), h('dd', {}, value)];
    const rows = [
      ...row('Round', `${last.round} (run ${last.runId.slice(0, 8)})`),
      ...row('Training loss', decimal(last.loss)),
      ...row('Training accuracy', percent(last.accuracy)),
      ...row('Training time', seconds(last.trainMs)),
    ];
    if (last.test) {
      rows.push(
        ...row('Test images', String(last.test.samples)),
        ...row('Test accuracy', percent(last.test.accuracy)),
        ...row('Sensitivity', percent(last.test.sensitivity)),
        ...row('Specificity', percent(last.test.specificity)),
        ...row('AUC', decimal(last.test.auc)),
      );
    }
    const note = last.test ? h('p', { class: 'muted' }, 'Test metrics: the global model received this round, scored on your own test/ split before local training.') : null;
    lastRound.replaceChildren(h('dl', { class: 'metrics' }, ...rows), ...(note ? [note] : []));
  }

  return {
    render(snapshot, hasData) {
      const { round, progress, phase } = snapshot;
      label.textContent = phaseText(snapshot, hasData);
      const training = phase === 'training' && progress;
      const fraction = training ? ((progress.epoch - 1) * progress.batches + progress.batch) / (progress.epochs * progress.batches) : phase === 'submitting' ? 1 : 0;
      bar.value = fraction;
      Object.assign(box.dataset, {
        phase,
        round: String(round?.round ?? ''),
        rounds: String(round?.rounds ?? ''),
        epoch: String(progress?.epoch ?? ''),
        epochs: String(progress?.epochs ?? ''),
        batch: String(progress?.batch ?? ''),
        batches: String(progress?.batches ?? ''),
        roundsDone: String(snapshot.roundsDone),
      });
      logEpoch(snapshot);
      renderLastRound(snapshot);
      const error = snapshot.lastError;
      errorBox.hidden = error === null;
      if (error) {
        errorBox.dataset.code = error.code;
        errorBox.replaceChildren(
          h('strong', {}, error.code),
          h('span', {}, `: ${error.message}`),
          h('p', { class: 'error-hint' }, errorHint(error)),
        );
      }
    },
    showTensors(numTensors) {
      tensors.textContent = `TF.js tensors: ${numTensors} (counted after each round)`;
    },
  };
}
