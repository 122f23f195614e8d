/** Records everything client tabs send: HTTP request bodies and WebSocket frames. */
import type { Page } from '@playwright/test';

export interface SentMessage {
  tab: string;
  kind: 'http' | 'ws';
  url: string;
  bytes: Buffer;
  /** A WebSocket text frame (Socket.IO's packet headers); binary frames carry the attachments. */
  text?: boolean;
}

export class TrafficLog {
  readonly sent: SentMessage[] = [];
  /** WebSocket frames the tabs received, when the log was made with `{ received: true }`. */
  readonly received: SentMessage[] = [];

  constructor(private readonly options: { received?: boolean } = {}) {}

  /** Attach before the page loads, or the socket's first frames are missed. */
  attach(page: Page, tab: string): void {
    page.on('request', (request) => {
      this.sent.push({ tab, kind: 'http', url: request.url(), bytes: request.postDataBuffer() ?? Buffer.alloc(0) });
    });
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => {
        this.sent.push({ tab, kind: 'ws', url: ws.url(), bytes: typeof payload === 'string' ? Buffer.from(payload) : payload, text: typeof payload === 'string' });
      });
      if (this.options.received) {
        ws.on('framereceived', ({ payload }) => {
          this.received.push({ tab, kind: 'ws', url: ws.url(), bytes: typeof payload === 'string' ? Buffer.from(payload) : payload, text: typeof payload === 'string' });
        });
      }
    });
  }

  from(tab: string): SentMessage[] {
    return this.sent.filter((m) => m.tab === tab);
  }
}

/** Every JPEG starts with SOI (FF D8) and a marker (FF Cx/Dx/Ex/FE). */
const JPEG_START = /\xff\xd8\xff[\xc0-\xef\xfe]/;

/** Where a JPEG's start appears in the bytes, or -1. */
export function jpegStartAt(bytes: Buffer): number {
  return bytes.toString('latin1').search(JPEG_START);
}
