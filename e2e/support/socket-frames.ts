/**
 * Socket.IO events rebuilt from recorded WebSocket frames: a text frame `45<n>-[...]` (a binary event)
 * is followed by its n attachments as binary frames, which replace the `{ _placeholder, num }` marks.
 */
import type { SentMessage } from './traffic';

export interface SocketEvent {
  /** The event name; '(ack)' for an acknowledgement. */
  name: string;
  args: unknown[];
  /** The binary attachments in order (num 0, 1, ...). */
  attachments: Buffer[];
}

// Engine.IO message '4', then the Socket.IO type (2 event, 3 ack, 5 binary event, 6 binary ack).
const HEADER = /^4([2356])(?:(\d+)-)?(?:(\/[^,[]*),)?(\d*)([[{].*)$/s;

function fill(value: unknown, attachments: Buffer[]): unknown {
  if (Array.isArray(value)) return value.map((v) => fill(v, attachments));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record._placeholder === true && typeof record.num === 'number') return attachments[record.num];
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fill(v, attachments)]));
  }
  return value;
}

/** The events in one tab's frames, in order; frames must start at a packet boundary. */
export function socketEvents(frames: SentMessage[]): SocketEvent[] {
  const events: SocketEvent[] = [];
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    if (!frame.text) continue;
    const match = HEADER.exec(frame.bytes.toString('utf8'));
    if (!match) continue;
    const [, type, count, , , json] = match;
    const n = count ? Number(count) : 0;
    const attachments = frames.slice(i + 1, i + 1 + n).map((f) => f.bytes);
    if (attachments.length !== n || frames.slice(i + 1, i + 1 + n).some((f) => f.text)) throw new Error(`packet ${i} expects ${n} binary attachments`);
    i += n;
    const data = fill(JSON.parse(json!), attachments) as unknown[];
    const ack = type === '3' || type === '6';
    events.push({ name: ack ? '(ack)' : String(data[0]), args: ack ? data : data.slice(1), attachments });
  }
  return events;
}

/** The named event's first argument, once per emit. */
export function eventPayloads<T = Record<string, unknown>>(events: SocketEvent[], name: string): T[] {
  return events.filter((e) => e.name === name).map((e) => e.args[0] as T);
}
