import type { ComponentChildren } from 'preact';
import { ApiError, type FieldIssue } from './api.js';
import type { CampaignStatus } from './types.js';

export function StatusBadge({ status }: { status: CampaignStatus }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = error instanceof ApiError ? ` (${error.code})` : '';
  return (
    <p class="error-box" role="alert">
      {error.message}
      {code}
    </p>
  );
}

/** The live region status messages go to, so a screen reader hears "Campaign paused". */
export function Notice({ message }: { message: string | undefined }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}

/** An issue belongs to a field when its path is the field's or below it (`what.actions[0].url` under `what.actions`). */
export const issueBelongs = (issuePath: string, fieldPath: string) =>
  issuePath === fieldPath || issuePath.startsWith(`${fieldPath}.`) || issuePath.startsWith(`${fieldPath}[`);

export const fieldId = (path: string) => `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

interface FieldProps {
  label: string;
  path: string;
  issues: FieldIssue[];
  hint?: string;
  children: (props: {
    id: string;
    'aria-invalid'?: 'true';
    'aria-describedby'?: string;
  }) => ComponentChildren;
}

/**
 * A labelled control with its hint and its errors from the API, tied together for assistive
 * technology: the control gets `aria-invalid` and `aria-describedby` naming the error text.
 */
export function Field({ label, path, issues, hint, children }: FieldProps) {
  const id = fieldId(path);
  const mine = issues.filter((issue) => issueBelongs(issue.path, path));
  const describedBy = [hint ? `${id}-hint` : '', mine.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${mine.length ? ' field-invalid' : ''}`} data-path={path}>
      <label for={id}>{label}</label>
      {children({
        id,
        ...(mine.length ? { 'aria-invalid': 'true' as const } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {mine.length > 0 && (
        <span id={`${id}-error`} class="field-error">
          {mine.map((issue) => issue.message).join('; ')}
        </span>
      )}
    </div>
  );
}

export function Card({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.replace(/\W+/g, '-').toLowerCase()}-heading`;
  return (
    <section class="card" aria-labelledby={headingId} id={id}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

export function Metric({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div class="metric">
      <dt>{label}</dt>
      <dd>
        <span class="metric-value">{value}</span>
        {detail && <span class="metric-detail">{detail}</span>}
      </dd>
    </div>
  );
}
