import type { ReactNode } from 'react';

/** A titled panel placed in one area of the page grid. */
export function Card({ area, title, aside, children }: { area: string; title: string; aside?: ReactNode; children: ReactNode }) {
  const id = `${area}-title`;
  return (
    <section className={`card area-${area}`} aria-labelledby={id}>
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {aside}
      </header>
      {children}
    </section>
  );
}
