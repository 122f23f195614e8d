import { useRef, useState } from 'react';

/** What a newcomer sees before any client joins: where to point a browser, and the headless alternative. */
export function EmptyClients() {
  const clientUrl = `${window.location.origin}/client/`;
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'manual'>('idle');

  async function copy() {
    try {
      await navigator.clipboard.writeText(clientUrl);
      setCopied('copied');
    } catch {
      // The clipboard API needs a secure context; on a LAN address (plain http) selecting is the fallback.
      input.current?.select();
      setCopied('manual');
    }
  }

  return (
    <div className="empty-clients" data-testid="clients-empty">
      <p className="empty-title">No clients connected yet</p>
      <p>
        Open <a href={clientUrl} target="_blank" rel="noreferrer">{clientUrl}</a> in a browser tab to add a client.
      </p>
      <div className="copy-line">
        <input ref={input} readOnly value={clientUrl} aria-label="Client URL" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copy()} data-testid="copy-client-url">
          {copied === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'manual' && <p className="muted small">Selected: press Ctrl+C (⌘C) to copy.</p>}
      <ol className="steps">
        <li>Open the client URL in one or more browser tabs, on this computer or any other on the network. Each tab is one client.</li>
        <li>In each tab, keep <strong>MNIST digits</strong> (the hub sends them) or load a chest X-ray folder.</li>
        <li>Come back here, choose the settings and press <strong>Launch run</strong>: rounds, accuracy and loss appear live.</li>
      </ol>
      <p className="muted small">
        No browser at hand? <code>pnpm sim --hub {window.location.origin} --clients 3</code> starts three headless clients.
      </p>
    </div>
  );
}
