const numberFormat = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return numberFormat.format(n);
}

export function percent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(1)}%`;
}

export function decimal(value: number | undefined, digits = 3): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
