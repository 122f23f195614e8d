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

/** Fields whose shared limits go by another name (both betas share one bound). */
const LIMIT_KEYS: Partial<Record<NumberField, keyof typeof SETTING_LIMITS>> = { beta1: 'beta', beta2: 'beta' };

/** The HTML bounds come from the shared limits, so the browser's spinner agrees with the hub. */
function bounds(field: NumberField): { min?: number; max?: number; step: number | 'any' } {
  const key = LIMIT_KEYS[field] ?? (field as Exclude<NumberField, 'beta1' | 'beta2'>);
  const limits: Partial<Record<'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum', number>> = SETTING_LIMITS[key];
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
  /** One line under the choice: what the chosen option is for. */
  hint?: string;
  /** Spans the whole row (a choice with a hint). */
  wide?: boolean;
  onChange(value: T): void;
}

export function ChoiceSetting<T extends string>({ id, label, value, options, disabled, hint, wide = false, onChange }: ChoiceSettingProps<T>) {
  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={id}
        data-testid={id}
        value={value}
        disabled={disabled}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onChange(options.find((o) => o.value === e.target.value)?.value ?? value)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && (
        <span id={`${id}-hint`} className="field-hint muted small" data-testid={`${id}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}
