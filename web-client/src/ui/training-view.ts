import { TASK_LABELS, type ClientData } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { byId, h } from './dom';
import { addEpoch, type RunGroup } from './epoch-log';
import { errorHint } from './error-hints';
import { decimal, percent, seconds } from './format';
import { phaseText } from './phase-text';
import { finalScore, finalScoreText, scoringFinalModel, testImages, type FinalScore } from './final-score';

export interface TrainingView {
  /** `data`: what the tab holds now (null: nothing chosen yet). */
  render(snapshot: ClientSnapshot, data: ClientData | null): void;
  showTensors(numTensors: number): void;
}

/** Round/epoch/batch progress, per-epoch loss and accuracy, the last round's metrics, the final model's score, errors. */
export function mountTrainingView(): TrainingView {
  const box = byId('train-progress');
  const label = byId('train-label');
  const bar = byId<HTMLProgressElement>('train-bar');
  const epochLog = byId<HTMLOListElement>('epoch-log');
  const lastRound = byId('last-round');
  const errorBox = byId('client-error');
  const tensors = byId('tensor-count');
  // Built here, beside the progress line it belongs to, so index.html keeps only the static cards.
  const finalLine = h('p', { class: 'summary final-score', testid: 'final-score' });
  finalLine.hidden = true;
  finalLine.setAttribute('role', 'status');
  box.after(finalLine);
  let groups: RunGroup[] = [];
  let shownRound = '';
  /** The last final score seen: kept while the next run trains, so the person still sees how the last one ended. */
  let lastFinal: FinalScore | null = null;

  function logEpoch(snapshot: ClientSnapshot): void {
    const { round, progress } = snapshot;
    if (!round || !progress || progress.batch !== progress.batches) return;
    const next = addEpoch(groups, { ...round, epoch: progress.epoch, epochs: progress.epochs, loss: progress.loss, accuracy: progress.accuracy });
    if (next === groups) return;
    groups = next;
    epochLog.replaceChildren(
      ...groups.map((group, i) => {
        const item = h(
          'li',
          { class: `epoch-run${i === 0 ? ' current' : ''}`, testid: 'epoch-run' },
          h('div', { class: 'epoch-run-title' }, `Run ${group.runId.slice(0, 8)} · ${TASK_LABELS[group.task]} · ${group.rounds} round${group.rounds === 1 ? '' : 's'}`),
          h(
            'ol',
            { class: 'epoch-lines' },
            ...group.entries.map((e) =>
              h(
                'li',
                { class: 'epoch-line', testid: 'epoch-line' },
                h('span', { class: 'epoch-at' }, `Round ${e.round} · epoch ${e.epoch}/${e.epochs}`),
                h('span', { class: 'epoch-metric' }, `loss ${decimal(e.loss)}`),
                h('span', { class: 'epoch-metric' }, `accuracy ${percent(e.accuracy)}`),
              ),
            ),
          ),
          group.dropped > 0 ? h('p', { class: 'epoch-dropped muted' }, `${group.dropped} older epoch${group.dropped === 1 ? '' : 's'} not shown`) : null,
        );
        item.dataset.runId = group.runId;
        return item;
      }),
    );
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

  function renderFinalScore(snapshot: ClientSnapshot, images: number): string {
    lastFinal = finalScore(snapshot) ?? lastFinal;
    const scoring = scoringFinalModel(snapshot, images);
    const state = scoring ? 'scoring' : lastFinal ? 'scored' : '';
    finalLine.hidden = state === '';
    finalLine.dataset.state = state;
    finalLine.dataset.runId = scoring ? snapshot.round!.runId : (lastFinal?.runId ?? '');
    finalLine.dataset.accuracy = !scoring && lastFinal ? String(lastFinal.accuracy) : '';
    finalLine.dataset.samples = !scoring && lastFinal ? String(lastFinal.samples) : '';
    if (scoring) finalLine.textContent = `Scoring the final model of run ${snapshot.round!.runId.slice(0, 8)} on your ${images} test images…`;
    else if (lastFinal) finalLine.textContent = finalScoreText(lastFinal);
    return state;
  }

  return {
    render(snapshot, data) {
      const { round, progress, phase } = snapshot;
      const images = testImages(data);
      label.textContent = phaseText(snapshot, data !== null, images);
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
        cancelled: snapshot.cancelled?.reason ?? '',
        secure: String(round?.secure === true && phase !== 'idle'),
      });
      box.dataset.finalScore = renderFinalScore(snapshot, images);
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
