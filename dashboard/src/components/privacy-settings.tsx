import { useMemo } from 'react';
import type { DpNoise } from '@fl/shared/settings';
import type { LaunchFormValues, NumberField } from '../launch-rules';
import { projectionInputOf, projectionLines, projectNoise, projectSpend } from '../privacy-projection';
import { ChoiceSetting, NumberSetting } from './setting-field';

interface PrivacySettingsProps {
  values: LaunchFormValues;
  /** Connected clients holding the task's data: the population the projection's sampling rate is drawn from. */
  eligible: number;
  disabled: boolean;
  onToggle(dp: boolean): void;
  onNumber(field: NumberField, value: string): void;
  onNoise(noise: DpNoise): void;
}

const NOISES = [
  { value: 'central', label: 'Central (the hub adds it)' },
  { value: 'distributed', label: 'Distributed (each client adds a share; needs secure aggregation)' },
] as const;
const DP_NUMBER_FIELDS: NumberField[] = ['noiseMultiplier', 'dpClipNorm', 'delta', 'targetEpsilon'];

/** The DP fieldset: off by default; when on, its settings and the epsilon they would spend, projected before launch. */
export function PrivacySettings({ values, eligible, disabled, onToggle, onNumber, onNoise }: PrivacySettingsProps) {
  const input = values.dp ? projectionInputOf(values, eligible) : null;
  // Finding the noise multiplier takes the accountant up to a few hundred ms: once per change of what it depends on, not per keystroke in z.
  const noiseKey = input && JSON.stringify([input.rounds, input.clientsPerRound, input.eligible, input.delta, input.targetEpsilon]);
  const noiseForTarget = useMemo(() => {
    if (!noiseKey) return null;
    const [rounds, clientsPerRound, eligible, delta, targetEpsilon] = JSON.parse(noiseKey) as [number, number | null, number, number, number | null];
    return projectNoise({ rounds, clientsPerRound, eligible, delta, targetEpsilon });
  }, [noiseKey]);
  const projection = input ? { input, result: { ...projectSpend(input), noiseForTarget } } : null;
  const lines = projection ? projectionLines(projection.result, projection.input) : null;
  const offer = projection?.result.noiseForTarget ?? null;

  return (
    <fieldset className="field-group">
      <legend>Differential privacy</legend>
      <div className="secure-setting">
        <label className="toggle" htmlFor="setting-dp">
          <input id="setting-dp" data-testid="setting-dp" type="checkbox" checked={values.dp} disabled={disabled} onChange={(e) => onToggle(e.target.checked)} />
          Differential privacy (DP-FedAvg)
        </label>
        <p className="muted small hint">
          Each client's change is clipped, the round's sum gets Gaussian noise, and an accountant adds up the ε the run spends.
        </p>
        {values.dp && (
          <>
            <div className="field-grid">
              {DP_NUMBER_FIELDS.map((field) => (
                <NumberSetting key={field} field={field} value={values[field]} disabled={disabled} onChange={onNumber} />
              ))}
            </div>
            <ChoiceSetting id="setting-dpNoise" label="Noise" value={values.dpNoise} options={NOISES} disabled={disabled} onChange={onNoise} />
            <p className="muted small hint" data-testid="dp-uniform">
              With DP every drawn client weighs the same (not by its samples, unlike FedAvg), as DP-FedAvg requires for bounded
              sensitivity.
            </p>
            <div className="dp-projection small" data-testid="dp-projection" role="status" data-epsilon={projection?.result.epsilon ?? ''}
              data-rounds-within={projection?.result.roundsWithin ?? ''} data-noise-for-target={offer ?? ''}>
              {lines ? (
                <>
                  <p className="dp-spend">{lines.spend}</p>
                  <p className="muted">{lines.sampling}</p>
                  {lines.target && <p data-testid="dp-target-line">{lines.target}</p>}
                  {offer !== null && String(offer) !== values.noiseMultiplier.trim() && (
                    <button type="button" className="dp-use-noise" data-testid="dp-use-noise" disabled={disabled} onClick={() => onNumber('noiseMultiplier', String(offer))}>
                      Use z = {offer}
                    </button>
                  )}
                </>
              ) : (
                <p className="muted">Enter the rounds and a delta between 0 and 1 to see the projected ε.</p>
              )}
            </div>
          </>
        )}
      </div>
    </fieldset>
  );
}
