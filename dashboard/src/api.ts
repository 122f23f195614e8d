import type { ClusterNode, HubStatus, RunDetail } from '@fl/shared/api';
import type { LaunchRequest } from '@fl/shared/settings';
import type { TaskId } from '@fl/shared/tasks';

/** A refused request, with the hub's error code and reason (`{ error: { code, message } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function errorBody(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', `the hub could not be reached (${String(cause)})`);
  }
  if (!response.ok) {
    const body = errorBody(await response.json().catch(() => null));
    throw new ApiError(response.status, body?.code ?? `HTTP_${response.status}`, body?.message ?? response.statusText);
  }
  // The hub's answers follow the shared API types; the hub validates what it stores.
  return (await response.json()) as T;
}

function withToken(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } };
}

export const api = {
  status: () => request<HubStatus>('/api/status'),
  runs: () => request<RunDetail[]>('/api/runs'),
  run: (id: string) => request<RunDetail>(`/api/runs/${encodeURIComponent(id)}`),

  launch: (token: string, body: LaunchRequest) =>
    request<{ id: string }>(
      '/api/runs',
      withToken(token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    ),

  /** The hub nodes and which one runs the rounds (admin token). */
  cluster: (token: string) => request<{ nodes: ClusterNode[] }>('/api/cluster', withToken(token)),

  stop: (token: string, id: string) =>
    request<RunDetail>(`/api/runs/${encodeURIComponent(id)}/stop`, withToken(token, { method: 'POST' })),

  /** Whether the hub has a global model of the task yet; HEAD so nothing big is downloaded. */
  async modelAvailable(task: TaskId): Promise<{ ok: true } | { ok: false; reason: string }> {
    const response = await fetch(modelUrls(task).modelJson, { method: 'HEAD', cache: 'no-store' }).catch(() => null);
    if (response?.ok) return { ok: true };
    if (response?.status === 404) return { ok: false, reason: 'no model yet: launch a run of this task first' };
    return { ok: false, reason: response ? `the hub answered ${response.status}` : 'the hub could not be reached' };
  },
};

export function modelUrls(task: TaskId): { modelJson: string; weightsBin: string } {
  const base = `/api/models/${encodeURIComponent(task)}`;
  return { modelJson: `${base}/model.json`, weightsBin: `${base}/weights.bin` };
}
