import { useState, type FormEvent } from 'react';
import type { HubStatus } from '@fl/shared/api';
import { TASK_IDS, TASK_LABELS, type TaskId } from '@fl/shared/tasks';
import { api, ApiError } from '../api';
import { SECURE_MIN_CLIENTS } from '@fl/shared/settings';
import {
  defaultValues,
  launchBlocker,
  settingsConflictOf,
  takePartLine,
  toLaunchRequest,
  type LaunchFormValues,
  type NumberField,
} from '../launch-rules';
import { PrivacySettings } from './privacy-settings';
import { ServerSettings } from './server-settings';
import { ChoiceSetting, NumberSetting } from './setting-field';

interface LaunchFormProps {
  status: HubStatus | null;
  token: string;
  onUnauthorized(): void;
}

const TASK_OPTIONS = TASK_IDS.map((t) => ({ value: t, label: TASK_LABELS[t] }));
const PARTITIONS = [
  { value: 'iid', label: 'IID' },
  { value: 'by-label', label: 'By label' },
  { value: 'dirichlet', label: 'Dirichlet (label skew)' },
] as const;
const PARTITION_HINTS: Record<LaunchFormValues['partition'], string> = {
  iid: 'Each client gets a random, equal share of the digits.',
  'by-label': 'Each client holds mostly two digits.',
  dirichlet: 'Each digit is split across the clients in random proportions; shard sizes vary too.',
};
const INITS = [
  { value: 'continue', label: 'Last model' },
  { value: 'fresh', label: 'Fresh model' },
] as const;
const OPTIMIZERS = [
  { value: 'adam', label: 'Adam' },
  { value: 'sgd', label: 'SGD' },
] as const;
const STRATEGIES = [
  { value: 'fedavg', label: 'FedAvg' },
  { value: 'median', label: 'Median' },
  { value: 'trimmed-mean', label: 'Trimmed mean' },
  { value: 'krum', label: 'Krum' },
  { value: 'multi-krum', label: 'Multi-Krum' },
] as const;
const COMPRESSIONS = [
  { value: 'float32', label: 'float32 (exact)' },
  { value: 'float16', label: 'float16' },
  { value: 'int8', label: 'int8' },
] as const;
const TRAINING_FIELDS: NumberField[] = ['rounds', 'epochs', 'batchSize', 'learningRate', 'minClients', 'roundTimeoutSec'];

/** Settings of the next run, checked with the hub's own schema before they are sent. */
export function LaunchForm({ status, token, onUnauthorized }: LaunchFormProps) {
  const [values, setValues] = useState<LaunchFormValues>(() => defaultValues('mnist'));
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const blocker = launchBlocker(status, values.task, Number(values.minClients));
  const conflict = settingsConflictOf(values);
  const takePart = takePartLine(status, values.task);
  const set = (patch: Partial<LaunchFormValues>) => {
    setValues((v) => ({ ...v, ...patch }));
    setProblem(null);
  };
  const setNumber = (field: NumberField, value: string) => set({ [field]: value });
  // A new task brings its own defaults; the number of rounds is the operator's, so it stays.
  const setTask = (task: TaskId) => set(defaultValues(task, values.rounds));
  // Turning it on lifts a smaller client minimum to the protocol's, so the toggle alone gives a launchable form.
  const setSecure = (secureAggregation: boolean) =>
    set(secureAggregation && Number(values.minClients) < SECURE_MIN_CLIENTS ? { secureAggregation, minClients: String(SECURE_MIN_CLIENTS) } : { secureAggregation });
  // DP's own clip bounds every change, so turning it on moves a top-level clip there instead of leaving a conflict.
  const setDp = (dp: boolean) => set(dp && values.clipNorm.trim() !== '' ? { dp, dpClipNorm: values.clipNorm, clipNorm: '' } : { dp });

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (blocker || conflict || sending) return;
    const checked = toLaunchRequest(values);
    if (!checked.ok) {
      setProblem(checked.reason);
      return;
    }
    setSending(true);
    try {
      // The run reaches the page through the hub's status push, like a run launched elsewhere.
      await api.launch(token, checked.value);
      setProblem(null);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) onUnauthorized();
      else setProblem(error instanceof ApiError ? `The hub refused: ${error.message}` : String(error));
    } finally {
      setSending(false);
    }
  }

  return (
    <form className="launch-form" onSubmit={(e) => void submit(e)} noValidate>
      <div className="field-grid">
        <ChoiceSetting id="setting-task" label="Task" value={values.task} options={TASK_OPTIONS} disabled={sending} onChange={setTask} />
        {TRAINING_FIELDS.map((field) => (
          <NumberSetting key={field} field={field} value={values[field]} disabled={sending} onChange={setNumber} />
        ))}
        <NumberSetting
          field="minLocalSteps"
          wide
          value={values.minLocalSteps}
          disabled={sending}
          hint="Clients with little data train more whole epochs until they take this many batches a round (a small folder still learns). 0: epochs only."
          onChange={setNumber}
        />
        <NumberSetting
          field="clientsPerRound"
          wide
          value={values.clientsPerRound}
          disabled={sending}
          hint="Draws this many of the connected clients each round, seeded; the rest wait. Empty: every eligible client."
          onChange={setNumber}
        />
        {values.task === 'mnist' && (
          <ChoiceSetting
            id="setting-partition"
            label="Partition"
            wide
            value={values.partition}
            hint={PARTITION_HINTS[values.partition]}
            options={PARTITIONS}
            disabled={sending}
            onChange={(partition) => set({ partition })}
          />
        )}
        {values.task === 'mnist' && values.partition === 'dirichlet' && (
          <NumberSetting
            field="dirichletAlpha"
            wide
            value={values.dirichletAlpha}
            disabled={sending}
            hint="Smaller is more uneven: at 0.1 most clients hold one or two digits, at 100 the shards are nearly IID."
            onChange={setNumber}
          />
        )}
        <ChoiceSetting id="setting-init" label="Start from" value={values.init} options={INITS} disabled={sending} onChange={(init) => set({ init })} />
        <ChoiceSetting
          id="setting-optimizer"
          label="Optimizer"
          value={values.optimizer}
          options={OPTIMIZERS}
          disabled={sending}
          onChange={(optimizer) => set({ optimizer })}
        />
        <NumberSetting
          field="proximalMu"
          wide
          value={values.proximalMu}
          disabled={sending}
          hint="Pulls each client's local training toward the global model; helps when clients' data differ a lot. 0: off."
          onChange={setNumber}
        />
      </div>
      <fieldset className="field-group">
        <legend>Aggregation</legend>
        <div className="field-grid">
          <ChoiceSetting
            id="setting-strategy"
            label="Strategy"
            value={values.strategy}
            options={STRATEGIES}
            disabled={sending}
            onChange={(strategy) => set({ strategy })}
          />
          <ChoiceSetting
            id="setting-compression"
            label="Update format"
            value={values.compression}
            options={COMPRESSIONS}
            disabled={sending}
            onChange={(compression) => set({ compression })}
          />
          {values.strategy === 'trimmed-mean' && (
            <NumberSetting field="trimFraction" value={values.trimFraction} disabled={sending} onChange={setNumber} />
          )}
          {(values.strategy === 'krum' || values.strategy === 'multi-krum') && (
            <NumberSetting field="byzantine" value={values.byzantine} disabled={sending} onChange={setNumber} />
          )}
          <NumberSetting field="clipNorm" value={values.clipNorm} disabled={sending} onChange={setNumber} />
        </div>
        <div className="secure-setting">
          <label className="toggle" htmlFor="setting-secureAggregation">
            <input
              id="setting-secureAggregation"
              data-testid="setting-secureAggregation"
              type="checkbox"
              checked={values.secureAggregation}
              disabled={sending}
              onChange={(e) => setSecure(e.target.checked)}
            />
            Secure aggregation
          </label>
          <p className="muted small hint">
            The hub sees only the sum of the round's updates; needs {SECURE_MIN_CLIENTS}+ clients, FedAvg, float32.
            {values.secureAggregation && values.dp && ' With DP its fixed-point range follows the DP clip norm and noise.'}
          </p>
          {values.secureAggregation && !values.dp && (
            <div className="field-grid">
              <NumberSetting field="secAggClip" value={values.secAggClip} disabled={sending} onChange={setNumber} />
            </div>
          )}
        </div>
      </fieldset>
      <ServerSettings values={values} disabled={sending} onChange={set} onNumber={setNumber} />
      <PrivacySettings
        values={values}
        eligible={takePart?.eligible ?? 0}
        disabled={sending}
        onToggle={setDp}
        onNumber={setNumber}
        onNoise={(dpNoise) => set({ dpNoise })}
      />
      {conflict && (
        <p className="form-error small" role="alert" data-testid="launch-conflict">
          {conflict}
        </p>
      )}
      {problem && (
        <p className="form-error" role="alert" data-testid="launch-error">
          {problem}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="launch" disabled={blocker !== null || conflict !== null || sending} aria-describedby="launch-reason">
          {sending ? 'Launching…' : 'Launch run'}
        </button>
        <button type="button" className="link" onClick={() => set(defaultValues(values.task, values.rounds))} disabled={sending}>
          Reset to defaults
        </button>
      </div>
      {takePart && !status?.run && (
        <p className="small take-part" data-testid="launch-eligible" data-eligible={takePart.eligible} data-total={takePart.total}>
          {takePart.text}
        </p>
      )}
      {blocker && (
        <p id="launch-reason" className="muted small" data-testid="launch-blocked">
          {blocker}
        </p>
      )}
    </form>
  );
}
