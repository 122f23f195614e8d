interface ProgressBarProps {
  value: number;
  max: number;
  label: string;
  testId?: string;
  tone?: 'accent' | 'muted' | 'done';
  size?: 'thin' | 'thick';
  /** Drawn share when it should run ahead of `value` (a round partly trained); defaults to value / max. */
  fill?: number;
  data?: Record<`data-${string}`, number | string>;
}

/** An accessible bar; the numbers are in aria-valuenow/aria-valuemax so tests and screen readers can read them. */
export function ProgressBar({ value, max, label, testId, tone = 'accent', size = 'thin', fill, data }: ProgressBarProps) {
  const fraction = Math.min(1, Math.max(0, fill ?? (max > 0 ? value / max : 0)));
  return (
    <div
      className={`progress progress-${size} progress-${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      data-testid={testId}
      {...data}
    >
      <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
    </div>
  );
}
