import { SETTING_LIMITS } from '@fl/shared/settings';
import { FIELD_LABELS, INTEGER_FIELDS, type NumberField } from '../launch-rules';

interface NumberSettingProps {
  field: NumberField;
  value: string;
  disabled: boolean;
  /** One line under the field: what it does. */
  hint?: string;
  /** Spans the whole row (a field with a hint). */
  wide?: boolean;
  onChange(field: NumberField, value: string): void;
}

/** What an empty optional field means, shown inside it. */
const PLACEHOLDERS: Partial<Record<NumberField, string>> = { clipNorm: 'off', clientsPerRound: 'all', targetEpsilon: 'none' };

/** The HTML bounds come from the shared limits, so the browser's spinner agrees with the hub. */
function bounds(field: NumberField): { min?: number; max?: number; step: number | 'any' } {
  const limits: Partial<Record<'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum', number>> = SETTING_LIMITS[field];
  const step = INTEGER_FIELDS.has(field) ? 1 : 'any';
  // Exclusive bounds (learning rate, clip norm, delta) cannot be said in HTML; the checker enforces them.
  return {
    ...(limits.minimum !== undefined ? { min: limits.minimum } : {}),
    ...(limits.maximum !== undefined ? { max: limits.maximum } : {}),
    step,
  };
}

export function NumberSetting({ field, value, disabled, hint, wide = false, onChange }: NumberSettingProps) {
  const id = `setting-${field}`;
  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label htmlFor={id}>{FIELD_LABELS[field]}</label>
      <input
        id={id}
        name={field}
        data-testid={id}
        type="number"
        inputMode={INTEGER_FIELDS.has(field) ? 'numeric' : 'decimal'}
        {...bounds(field)}
        value={value}
        placeholder={PLACEHOLDERS[field]}
        disabled={disabled}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onChange(field, e.target.value)}
      />
      {hint && (
        <span id={`${id}-hint`} className="field-hint muted small">
          {hint}
        </span>
      )}
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
