import { privacyMeter, type PrivacySpent } from '../run-privacy';

/** Epsilon spent against the run's target: a bar with the numbers, or the numbers alone when there is no target. */
export function PrivacyMeter({ spent }: { spent: PrivacySpent }) {
  const meter = privacyMeter(spent);
  return (
    <div className={`privacy-meter${meter.nearlySpent ? ' nearly-spent' : ''}`} data-testid="privacy-meter" data-epsilon={spent.epsilon} data-target={spent.targetEpsilon ?? ''}>
      <div className="privacy-meter-line small">
        <span className="privacy-meter-label">Privacy spent</span>
        <span className="privacy-meter-value" data-testid="privacy-meter-text">
          {meter.text}
        </span>
      </div>
      {meter.fraction !== null && (
        <div
          className="progress progress-thin progress-privacy"
          role="meter"
          aria-label="Epsilon spent of the target"
          aria-valuemin={0}
          aria-valuemax={spent.targetEpsilon ?? 0}
          aria-valuenow={spent.epsilon}
          aria-valuetext={meter.text}
        >
          <div className="progress-fill" style={{ width: `${(meter.fraction * 100).toFixed(1)}%` }} />
        </div>
      )}
    </div>
  );
}
