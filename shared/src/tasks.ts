/** The learning tasks the network knows. A string-literal union, never a numeric enum. */
export type TaskId = 'mnist' | 'chest-xray';

export const TASK_IDS: readonly TaskId[] = ['mnist', 'chest-xray'];

export function isTaskId(value: unknown): value is TaskId {
  return value === 'mnist' || value === 'chest-xray';
}

/** Human names, for logs and pages. */
export const TASK_LABELS: Record<TaskId, string> = {
  mnist: 'MNIST digits',
  'chest-xray': 'Chest X-Ray (pneumonia)',
};

/** Tasks whose models only the clients can score (the hub holds no test images): they score each global model they receive. */
export function scoredByClients(task: TaskId): boolean {
  return task === 'chest-xray';
}
