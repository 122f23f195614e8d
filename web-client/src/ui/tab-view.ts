import type { BackendInfo, ErrorBody, WebGpuReport } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import type { LinkState } from '../worker-protocol';
import { normalizeTabName } from '../tab-name';
import { byId, h } from './dom';

export interface TabViewOptions {
  hubUrl: string;
  name: string;
  warnings: string[];
  /** Resolves with the hub's refusal of the new name, or null. */
  onRename: (name: string) => Promise<ErrorBody | null>;
}

export interface TabView {
  showConnection(snapshot: ClientSnapshot | null, link: LinkState): void;
  showBackend(info: BackendInfo): void;
  showBackendError(message: string): void;
}

/** Header, the tab's name, its connection to the hub and its TF.js backend. */
export function mountTabView(options: TabViewOptions): TabView {
  const hubLink = byId<HTMLAnchorElement>('hub-url');
  hubLink.href = options.hubUrl;
  hubLink.textContent = options.hubUrl.replace(/^https?:\/\//, '');
  const warnings = byId('page-warnings');
  warnings.hidden = options.warnings.length === 0;
  warnings.textContent = options.warnings.join(' · ');

  const status = byId('client-status');
  const nameInput = byId<HTMLInputElement>('tab-name');
  const nameHint = byId('name-hint');
  let currentName = options.name;
  let lastConnection: [ClientSnapshot | null, LinkState] | null = null;
  nameInput.value = currentName;
  const commit = () => {
    const name = normalizeTabName(nameInput.value);
    if (name === null) {
      nameInput.value = currentName;
      return;
    }
    nameInput.value = name;
    if (name === currentName) return;
    currentName = name;
    nameHint.textContent = '';
    if (lastConnection) view.showConnection(...lastConnection);
    void options.onRename(name).then((refusal) => {
      if (refusal && name === currentName) nameHint.textContent = `The hub did not take the new name: ${refusal.code}: ${refusal.message}`;
    });
  };
  nameInput.addEventListener('change', commit);
  nameInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') nameInput.blur();
  });

  const backend = byId('backend');

  const view: TabView = {
    showConnection(snapshot, link) {
      lastConnection = [snapshot, link];
      const connection = snapshot?.connection ?? 'connecting';
      status.dataset.state = connection;
      const joinRefused = connection === 'disconnected' && snapshot?.lastError && !link.error;
      let text: string;
      if (connection === 'connected') text = `Connected as ${currentName}`;
      else if (joinRefused) text = `Not joined: ${snapshot.lastError!.code}`;
      else if (connection === 'disconnected') {
        // Not "Disconnected": tests and people scan for "Connected".
        text = `Lost the hub, reconnecting${link.reconnectAttempts ? ` (attempt ${link.reconnectAttempts})` : ''}…`;
      } else text = link.error ? `Cannot reach the hub (${link.error}), retrying…` : 'Connecting to the hub…';
      status.textContent = text;
      status.title = snapshot?.clientId ? `client id ${snapshot.clientId}` : '';
    },
    showBackend(info) {
      backend.dataset.backend = info.name;
      const software = info.software ? h('span', { class: 'tag' }, info.name === 'webgpu' ? 'software WebGPU' : 'software WebGL') : null;
      backend.replaceChildren(
        h('div', { class: 'backend-name' }, h('span', { class: 'badge' }, info.name), software),
        h('p', { class: 'backend-reason' }, info.reason ?? ''),
        h('p', { class: 'backend-renderer', title: 'WebGL renderer (WEBGL_debug_renderer_info)' }, `Renderer: ${info.renderer ?? 'no WebGL 2'}`),
        ...(info.webgpu ? [webGpuLine(info.webgpu)] : []),
      );
    },
    showBackendError(message) {
      backend.dataset.backend = 'none';
      backend.replaceChildren(h('p', { class: 'error-text' }, `No TF.js backend could start: ${message}`));
    },
  };
  return view;
}

/** WebGPU's adapter and why it is or is not used; data-webgpu: unavailable, software or gpu. */
function webGpuLine(report: WebGpuReport): HTMLElement {
  const adapter = report.adapter === 'unavailable' ? 'unavailable' : `${report.description ?? 'adapter'}${report.adapter === 'software' ? ', software' : ''}`;
  const line = h('p', { class: 'backend-renderer', testid: 'backend-webgpu', title: 'WebGPU adapter (navigator.gpu.requestAdapter())' }, `WebGPU: ${adapter}: ${report.reason}`);
  line.dataset.webgpu = report.adapter;
  return line;
}
