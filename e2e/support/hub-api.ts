/** The shared e2e hub's HTTP API, as the tests use it. */
import { expect, type APIRequestContext } from '@playwright/test';
import type { HubStatus, ParticipationRecord, RunDetail } from '../../shared/src/api';
import type { LaunchRequest } from '../../shared/src/settings';
import { E2E_ADMIN_TOKEN, E2E_PORT } from '../../playwright.config';

export const hubUrl = `http://localhost:${E2E_PORT}`;

export async function hubStatus(request: APIRequestContext): Promise<HubStatus> {
  const response = await request.get('/api/status', { timeout: 10_000 });
  expect(response.ok()).toBe(true);
  return (await response.json()) as HubStatus;
}

/** The tests share one hub: nothing is launched while another run is still active. */
export async function waitUntilIdle(request: APIRequestContext): Promise<void> {
  await expect.poll(async () => (await hubStatus(request)).status, { timeout: 120_000 }).toBe('idle');
}

/** Launches a run with the admin token; returns its id. */
export async function launchRun(request: APIRequestContext, body: LaunchRequest): Promise<string> {
  const response = await request.post('/api/runs', {
    data: body,
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    timeout: 10_000,
  });
  expect(response.status(), await response.text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

export async function getRun(request: APIRequestContext, id: string): Promise<RunDetail> {
  const response = await request.get(`/api/runs/${id}`, { timeout: 10_000 });
  expect(response.ok()).toBe(true);
  return (await response.json()) as RunDetail;
}

/**
 * Waits for the run to leave 'running', whatever its end, and for its held-out evaluations (scored in the hub's
 * evaluation thread after each commit) to be stored; returns it.
 */
export async function waitForRunEnd(request: APIRequestContext, id: string, timeout: number): Promise<RunDetail> {
  await expect
    .poll(
      async () => {
        const run = await getRun(request, id);
        return run.status !== 'running' && run.rounds.every((r) => r.evaluation !== 'pending');
      },
      { timeout, intervals: [500, 1000] },
    )
    .toBe(true);
  return getRun(request, id);
}

/** Each participant's report for one round: its training metrics and, for chest-xray, its test metrics. */
export async function roundClients(request: APIRequestContext, id: string, round: number): Promise<ParticipationRecord[]> {
  const response = await request.get(`/api/runs/${id}/rounds/${round}/clients`, { timeout: 10_000 });
  expect(response.ok()).toBe(true);
  return (await response.json()) as ParticipationRecord[];
}

/** Stops a run with the admin token, as the dashboard's Stop button does. */
export async function stopRun(request: APIRequestContext, id: string): Promise<void> {
  const response = await request.post(`/api/runs/${id}/stop`, {
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    timeout: 10_000,
  });
  expect(response.status(), await response.text()).toBe(200);
}
