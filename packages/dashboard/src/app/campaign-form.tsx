import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, type FieldIssue, get, newIdempotencyKey } from './api.js';
import {
  AudienceJsonError,
  emptyForm,
  FIELD_PATHS,
  type FormState,
  formFrom,
  inputOf,
} from './form-state.js';
import { navigate } from './router.js';
import { propertiesIn } from './segment-builder.js';
import { SetupStep } from './step-setup.js';
import { type Personalisable, WhatStep } from './step-what.js';
import { WhenStep } from './step-when.js';
import { WhoStep } from './step-who.js';
import type { Campaign, SavedSegment } from './types.js';
import { ErrorBox, Field, fieldId, issueBelongs } from './ui.js';

/**
 * Create or edit a campaign in the four steps the product describes (WHEN, WHO, WHAT, SETUP).
 * The API validates; its issues are shown at the field their path names, the rest in a summary.
 */
export function CampaignForm({ id }: { id?: string }) {
  const [form, setForm] = useState<FormState>(emptyForm);
  const [etag, setEtag] = useState<string | null>(null);
  const [status, setStatus] = useState<string>('draft');
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [error, setError] = useState<Error>();
  const [saving, setSaving] = useState(false);
  const [segments, setSegments] = useState<SavedSegment[]>([]);
  const [loaded, setLoaded] = useState(!id);
  const idempotencyKey = useRef(newIdempotencyKey());
  const cursor = useRef<Record<string, number>>({});
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    get<SavedSegment[] | { items: SavedSegment[] }>('/segments').then(
      (answer) => setSegments(Array.isArray(answer) ? answer : answer.items),
      () => setSegments([]),
    );
    if (!id) return;
    call<Campaign>('GET', `/campaigns/${encodeURIComponent(id)}`).then(
      (answer) => {
        setForm(formFrom(answer.data));
        setEtag(answer.etag);
        setStatus(answer.data.status);
        setLoaded(true);
      },
      (caught: Error) => setError(caught),
    );
  }, [id]);

  const knownProperties = [
    ...propertiesIn(segments.map((segment) => segment.definition)).add('first_name'),
  ].sort();
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((previous) => ({ ...previous, [key]: value }));
  const remember = (target: string) => (event: Event) => {
    cursor.current[target] = (event.currentTarget as HTMLInputElement).selectionStart ?? 0;
  };
  const insert = (target: Personalisable, snippet: string) => {
    setForm((previous) => {
      const current = previous[target];
      const at = Math.min(cursor.current[target] ?? current.length, current.length);
      cursor.current[target] = at + snippet.length;
      return { ...previous, [target]: current.slice(0, at) + snippet + current.slice(at) };
    });
    document.getElementById(fieldId(`what.${target}`))?.focus();
  };
  // Typing `@` in a personalisable field jumps to its property picker (keyboard-first insertion).
  const atShortcut = (target: Personalisable) => (event: KeyboardEvent) => {
    if (event.key !== '@') return;
    event.preventDefault();
    cursor.current[target] = (event.currentTarget as HTMLInputElement).selectionStart ?? 0;
    document.getElementById(`personalise-${target}`)?.focus();
  };

  const unplaced = issues.filter((issue) => !FIELD_PATHS.some((path) => issueBelongs(issue.path, path)));

  async function submit(event: Event) {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    setIssues([]);
    try {
      const input = inputOf(form);
      if (id) {
        // What a running campaign may change is the engine's rule; send what changed in sections it allows.
        const body =
          status === 'running'
            ? { name: input.name, labels: input.labels, what: input.what, setup: input.setup }
            : input;
        await call<Campaign>('PATCH', `/campaigns/${encodeURIComponent(id)}`, { body, ifMatch: etag });
        navigate(`/campaigns/${encodeURIComponent(id)}`);
      } else {
        const created = await call<Campaign>('POST', '/campaigns', {
          body: input,
          idempotencyKey: idempotencyKey.current,
        });
        navigate(`/campaigns/${encodeURIComponent(created.data.id)}`);
      }
    } catch (caught) {
      if (caught instanceof AudienceJsonError) {
        setIssues([{ path: 'who', message: `not JSON: ${caught.message}` }]);
      } else if (caught instanceof ApiError && caught.issues.length > 0) {
        setIssues(caught.issues);
        // A refused create may be fixed and sent again: it needs a fresh key (a 4xx released the old one anyway).
        idempotencyKey.current = newIdempotencyKey();
        requestAnimationFrame(() => {
          const first = caught.issues.find((issue) =>
            FIELD_PATHS.some((path) => issueBelongs(issue.path, path)),
          );
          const path = first && FIELD_PATHS.find((candidate) => issueBelongs(first.path, candidate));
          const field = path
            ? document.querySelector<HTMLElement>(`[data-path="${path}"] :is(input, select, textarea)`)
            : null;
          (field ?? summary.current)?.focus();
        });
      } else setError(caught as Error);
    } finally {
      setSaving(false);
    }
  }

  if (!loaded) return error ? <ErrorBox error={error} /> : <p aria-busy="true">Loading…</p>;
  const runningLocked = status === 'running';

  return (
    <form class="campaign-form" noValidate onSubmit={submit}>
      <h1 tabIndex={-1}>{id ? `Edit ${form.name || 'campaign'}` : 'New campaign'}</h1>
      <datalist id="known-properties">
        {knownProperties.map((name) => (
          <option value={name} key={name} />
        ))}
      </datalist>
      <div
        ref={summary}
        tabIndex={-1}
        class={issues.length ? 'issue-summary' : ''}
        role={issues.length ? 'alert' : undefined}
      >
        {issues.length > 0 && (
          <>
            <p>
              {issues.length} field{issues.length === 1 ? '' : 's'} to fix before saving.
            </p>
            {unplaced.length > 0 && (
              <ul>
                {unplaced.map((issue) => (
                  <li key={issue.path}>
                    {issue.path || 'campaign'}: {issue.message}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      <ErrorBox error={error} />
      <Field label="Name" path="name" issues={issues}>
        {(props) => (
          <input {...props} value={form.name} onInput={(e) => set('name', e.currentTarget.value)} />
        )}
      </Field>
      <Field label="Labels" path="labels" issues={issues} hint="Comma-separated, e.g. promo, spring">
        {(props) => (
          <input {...props} value={form.labels} onInput={(e) => set('labels', e.currentTarget.value)} />
        )}
      </Field>

      <WhenStep form={form} set={set} issues={issues} locked={runningLocked} editing={Boolean(id)} />
      <WhoStep
        form={form}
        set={set}
        issues={issues}
        locked={runningLocked}
        segments={segments}
        knownProperties={knownProperties}
      />
      <WhatStep
        form={form}
        set={set}
        issues={issues}
        locked={runningLocked}
        knownProperties={knownProperties}
        insert={insert}
        remember={remember}
        atShortcut={atShortcut}
      />
      <SetupStep form={form} set={set} issues={issues} locked={runningLocked} />
      <div class="actions">
        <button type="submit" class="primary" disabled={saving}>
          {id ? 'Save changes' : 'Create draft'}
        </button>
        <a class="button" href={id ? `#/campaigns/${encodeURIComponent(id)}` : '#/campaigns'}>
          Cancel
        </a>
      </div>
    </form>
  );
}
