/**
 * Where a process's CPU went, from a V8 .cpuprofile (node --cpu-prof): self time per function, within a span of
 * the profile's clock (monotonic microseconds, the clock of process.hrtime), the heaviest first.
 */

/** The parts of a .cpuprofile this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** Function name, or V8's bracketed pseudo-frames ("(garbage collector)", "(idle)", "(program)"). */
  name: string;
  /** Where it is defined: a path inside the repository, or a package and its file. */
  where: string;
  selfMs: number;
  /** Of the sampled time in the span, idle included. */
  share: number;
}

/** A file URL shortened to what a reader needs: the package and file, or the path inside the repository. */
export function shortLocation(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const inPackage = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  const short = inPackage ? `${inPackage[1]}/${inPackage[2]}` : path.replace(/^.*?\/(hub|shared)\/src\//, '$1/src/');
  return `${short}:${line + 1}`;
}

/** Self time per function over the samples taken in [fromUs, toUs] (the whole profile without a span), top `limit`. */
export function summariseProfile(profile: CpuProfile, options: { fromUs?: number; toUs?: number; limit?: number } = {}): { sampledMs: number; top: ProfileEntry[] } {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if ((options.fromUs !== undefined && t < options.fromUs) || (options.toUs !== undefined && t > options.toUs)) continue;
    const frame = frames.get(profile.samples[i]!);
    if (!frame) continue;
    const where = shortLocation(frame.url, frame.lineNumber);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = self.get(key) ?? { name, where, us: 0 };
    entry.us += delta;
    self.set(key, entry);
    total += delta;
  }
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, options.limit ?? 20)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: total ? e.us / total : 0 }));
  return { sampledMs: total / 1000, top };
}
