import { SERVER_OPTIMIZER_DEFAULTS, type ServerOptimizerName } from '@fl/shared/settings';
import type { LaunchFormValues, NumberField } from '../launch-rules';
import { SERVER_OPTIMIZER_CHOICES, serverFieldsOf, serverValuesOf } from '../server-optimizer-form';
import { ChoiceSetting, NumberSetting } from './setting-field';

interface ServerSettingsProps {
  values: LaunchFormValues;
  disabled: boolean;
  /** A patch to the form: a new optimiser comes with its own defaults. */
  onChange(patch: Partial<LaunchFormValues>): void;
  onNumber(field: NumberField, value: string): void;
}

/** What moving a hyperparameter does, said under the fields (a hint beside one field would misalign its row). */
const FIELD_NOTES: Partial<Record<NumberField, string>> = {
  momentum: 'Momentum: how much of earlier rounds\' steps carries over; 0 is FedAvg at this learning rate.',
  tau: 'τ: smaller gives more adaptive per-weight steps.',
};

/** The server optimiser fieldset: how the hub turns the round's combined model into the next global model. */
export function ServerSettings({ values, disabled, onChange, onNumber }: ServerSettingsProps) {
  const choice = SERVER_OPTIMIZER_CHOICES.find((c) => c.value === values.serverOptimizer);
  const fields = serverFieldsOf(values.serverOptimizer);
  const notes = fields.flatMap((f) => FIELD_NOTES[f] ?? []);
  const select = (serverOptimizer: ServerOptimizerName) => onChange({ serverOptimizer, ...serverValuesOf(SERVER_OPTIMIZER_DEFAULTS[serverOptimizer]) });
  return (
    <fieldset className="field-group">
      <legend>Server optimiser</legend>
      <div className="field-grid">
        <ChoiceSetting
          id="setting-serverOptimizer"
          label="Server optimiser"
          wide
          value={values.serverOptimizer}
          options={SERVER_OPTIMIZER_CHOICES}
          disabled={disabled}
          hint={choice?.hint}
          onChange={select}
        />
        {fields.map((field) => (
          <NumberSetting key={field} field={field} value={values[field]} disabled={disabled} onChange={onNumber} />
        ))}
      </div>
      {notes.length > 0 && <p className="muted small field-note">{notes.join(' ')}</p>}
    </fieldset>
  );
}
