/** The dashboard's building blocks: cards, badges, progress bars, sortable tables. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function Card(props: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`} id={props.id}>
      {(props.title || props.actions) && (
        <header class="card-head">
          <h2>{props.title}</h2>
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

const STATUS_CLASS: Record<string, string> = {
  RUNNING: 'running',
  ACTIVE: 'running',
  SUCCEEDED: 'ok',
  COMPLETE: 'ok',
  SUCCESS: 'ok',
  FAILED: 'bad',
  KILLED: 'muted',
  SKIPPED: 'muted',
  PENDING: 'pending',
  UNKNOWN: 'muted',
};

const STATUS_LABEL: Record<string, string> = { ACTIVE: 'running', COMPLETE: 'succeeded', SUCCESS: 'succeeded' };

export function Status(props: { status: string }) {
  const cls = STATUS_CLASS[props.status] ?? 'muted';
  return (
    <span class={`status status-${cls}`} data-status={props.status}>
      {cls === 'running' && <span class="pulse" />}
      {(STATUS_LABEL[props.status] ?? props.status).toLowerCase()}
    </span>
  );
}

export function Kind(props: { kind: string }) {
  return <span class={`kind kind-${props.kind}`}>{props.kind}</span>;
}

/** Succeeded, running and failed parts of `total`, with the count as text. */
export function Progress(props: { done: number; running: number; failed?: number; total: number; skipped?: number; label?: boolean }) {
  const total = Math.max(1, props.total);
  const pct = (n: number) => `${Math.min(100, (100 * n) / total)}%`;
  return (
    <div class="progress-wrap">
      <div class="progress" role="progressbar" aria-valuenow={props.done} aria-valuemax={props.total}>
        <div class="progress-done" style={{ width: pct(props.done) }} />
        <div class="progress-running" style={{ width: pct(props.running) }} />
      </div>
      {props.label !== false && (
        <span class="progress-label">
          <span class="num" data-field="done">{props.done.toLocaleString('en-US')}</span>/<span class="num">{props.total.toLocaleString('en-US')}</span>
          {props.running > 0 && <span class="muted"> ({props.running} running)</span>}
          {!!props.failed && <span class="bad-text"> ({props.failed} failed)</span>}
          {!!props.skipped && <span class="muted"> ({props.skipped} skipped)</span>}
        </span>
      )}
    </div>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; sub?: ComponentChildren; tone?: 'bad' | 'warn' | 'ok'; field?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value num" data-field={props.field}>
        {props.value}
      </div>
      {props.sub && <div class="stat-sub">{props.sub}</div>}
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function ErrorBox(props: { error: string }) {
  return <div class="error-box">{props.error}</div>;
}

export function Loading() {
  return <div class="loading">Loading…</div>;
}

export interface Column<T> {
  key: string;
  title: ComponentChildren;
  render: (row: T) => ComponentChildren;
  /** Present: the column sorts by this value. */
  sort?: (row: T) => number | string;
  numeric?: boolean;
  title_?: string;
}

/** A table sorted in the page (for lists of at most a few thousand rows). */
export function Table<T>(props: { columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string | number; initialSort?: string; initialDesc?: boolean; empty?: string; id?: string }) {
  const [sortKey, setSortKey] = useState(props.initialSort ?? null);
  const [desc, setDesc] = useState(props.initialDesc ?? false);
  let rows = props.rows;
  const col = props.columns.find((c) => c.key === sortKey);
  if (col?.sort) {
    const f = col.sort;
    rows = rows.slice().sort((a, b) => {
      const x = f(a);
      const y = f(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en', { numeric: true });
      return desc ? -c : c;
    });
  }
  if (rows.length === 0) return <Empty>{props.empty ?? 'Nothing here yet.'}</Empty>;
  return (
    <div class="table-wrap">
      <table class="table" id={props.id}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                key={c.key}
                class={`${c.numeric ? 'numeric' : ''} ${c.sort ? 'sortable' : ''} ${c.key === sortKey ? (desc ? 'sorted-desc' : 'sorted-asc') : ''}`}
                title={c.title_}
                onClick={() => {
                  if (!c.sort) return;
                  if (sortKey === c.key) setDesc(!desc);
                  else {
                    setSortKey(c.key);
                    setDesc(!!c.numeric);
                  }
                }}
              >
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'numeric num' : ''} data-col={c.key}>
                  {c.render(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Tabs(props: { tabs: Array<{ key: string; label: ComponentChildren }>; active: string; onChange: (key: string) => void }) {
  return (
    <div class="tabs" role="tablist">
      {props.tabs.map((t) => (
        <button key={t.key} role="tab" class={t.key === props.active ? 'tab active' : 'tab'} aria-selected={t.key === props.active} onClick={() => props.onChange(t.key)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}
