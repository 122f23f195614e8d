import { epsilonText } from '../format';

/** Marks a differentially private run, with the epsilon it spent when known. */
export function DpBadge({ epsilon }: { epsilon?: number | null }) {
  const spent = epsilon === null || epsilon === undefined ? '' : ` ε ${epsilonText(epsilon)}`;
  return (
    <span className="badge badge-dp" data-testid="dp-badge" title="Differential privacy (DP-FedAvg): clipped changes, Gaussian noise, an epsilon accountant">
      DP{spent}
    </span>
  );
}
