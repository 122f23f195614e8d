import { SETTING_LIMITS } from '@fl/shared/settings';
import { FIELD_LABELS, INTEGER_FIELDS, type NumberField } from '../launch-rules';

interface NumberSettingProps {
  field: NumberField;
  value: string;
  disabled: boolean;
  onChange(field: NumberField, value: string): void;
}

/** The HTML bounds come from the shared limits, so the browser's spinner agrees with the hub. */
function bounds(field: NumberField): { min?: number; max: number; step: number | 'any' } {
  const limits = SETTING_LIMITS[field];
  const step = INTEGER_FIELDS.has(field) ? 1 : 'any';
  // An exclusive minimum (learning rate, clip norm) cannot be said in HTML; the checker enforces it.
  return 'minimum' in limits ? { min: limits.minimum, max: limits.maximum, step } : { max: limits.maximum, step };
}

export function NumberSetting({ field, value, disabled, onChange }: NumberSettingProps) {
  const id = `setting-${field}`;
  return (
    <div className="field">
      <label htmlFor={id}>{FIELD_LABELS[field]}</label>
      <input
        id={id}
        name={field}
        data-testid={id}
        type="number"
        inputMode={INTEGER_FIELDS.has(field) ? 'numeric' : 'decimal'}
        {...bounds(field)}
        value={value}
        placeholder={field === 'clipNorm' ? 'off' : undefined}
        disabled={disabled}
        onChange={(e) => onChange(field, e.target.value)}
      />
    </div>
  );
}

interface ChoiceSettingProps<T extends string> {
  id: string;
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  disabled: boolean;
  onChange(value: T): void;
}

export function ChoiceSetting<T extends string>({ id, label, value, options, disabled, onChange }: ChoiceSettingProps<T>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={id}
        data-testid={id}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(options.find((o) => o.value === e.target.value)?.value ?? value)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
