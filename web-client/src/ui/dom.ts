/** The element with this id; the page's static structure lives in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

type Child = Node | string | null | undefined | false;

/** A small element factory for the few dynamic parts (lists, metric tables). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; testid?: string; title?: string } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.testid) element.dataset.testid = props.testid;
  if (props.title) element.title = props.title;
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
