import { useState } from 'preact/hooks';
import { ApiError, call, type FieldIssue, get } from './api.js';
import { count, dateTime } from './format.js';
import { useLoad } from './hooks.js';
import {
  type BuilderState,
  builderDefinition,
  builderFrom,
  propertiesIn,
  SegmentBuilder,
} from './segment-builder.js';
import type { Reach, SavedSegment } from './types.js';
import { Card, ErrorBox, Field, Notice } from './ui.js';

function SegmentReach({ id }: { id: string }) {
  const reach = useLoad(() => get<Reach>(`/segments/${encodeURIComponent(id)}/reach`), id);
  if (reach.error) return <span>{reach.error.message}</span>;
  if (!reach.data) return <span aria-busy="true">…</span>;
  return (
    <span>
      {count(reach.data.qualified)} users, {count(reach.data.reachable.total)} reachable
    </span>
  );
}

/** Saved segments with their reach now, and a builder to save a new one. */
export function Segments() {
  const list = useLoad(async () => {
    const answer = await get<SavedSegment[] | { items: SavedSegment[] }>('/segments');
    return Array.isArray(answer) ? answer : answer.items;
  }, 'segments');
  const [name, setName] = useState('');
  const [builder, setBuilder] = useState<BuilderState>({ combine: 'and', rules: [] });
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [error, setError] = useState<Error>();
  const [message, setMessage] = useState<string>();

  async function save(event: Event) {
    event.preventDefault();
    setIssues([]);
    setError(undefined);
    try {
      await call('POST', '/segments', { body: { name, definition: builderDefinition(builder) } });
      setMessage(`Segment “${name}” saved.`);
      setName('');
      setBuilder({ combine: 'and', rules: [] });
      list.reload();
    } catch (caught) {
      if (caught instanceof ApiError && caught.issues.length) setIssues(caught.issues);
      else setError(caught as Error);
    }
  }
  async function remove(segment: SavedSegment) {
    if (!confirm(`Delete the segment “${segment.name}”?`)) return;
    setError(undefined);
    try {
      await call('DELETE', `/segments/${encodeURIComponent(segment.id)}`);
      setMessage(`Segment “${segment.name}” deleted.`);
      list.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  }

  const known = [
    ...propertiesIn((list.data ?? []).map((segment) => segment.definition)).add('first_name'),
  ].sort();
  return (
    <>
      <h1 tabIndex={-1}>Segments</h1>
      <Notice message={message} />
      <ErrorBox error={list.error ?? error} />
      {list.data && list.data.length === 0 && <p>No saved segment yet.</p>}
      {list.data && list.data.length > 0 && (
        <table>
          <caption class="visually-hidden">Saved segments and their reach now</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Definition</th>
              <th scope="col">Reach now</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((segment) => (
              <tr key={segment.id}>
                <th scope="row">
                  {segment.name}
                  {segment.description && <small class="hint"> {segment.description}</small>}
                </th>
                <td>
                  <code>
                    {builderFrom(segment.definition) ? describe(segment) : JSON.stringify(segment.definition)}
                  </code>
                </td>
                <td>
                  <SegmentReach id={segment.id} />
                </td>
                <td>{dateTime(segment.createdAt)}</td>
                <td>
                  <button type="button" class="link" onClick={() => remove(segment)}>
                    Delete {segment.name}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Card title="New segment" id="new-segment">
        <form onSubmit={save} noValidate>
          <Field label="Segment name" path="name" issues={issues}>
            {(props) => <input {...props} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
          <SegmentBuilder
            state={builder}
            onChange={setBuilder}
            issues={issues
              .filter((issue) => issue.path.startsWith('definition'))
              .map((issue) => ({ ...issue, path: issue.path.replace(/^definition\.?/, '') }))}
            idPrefix="segment"
            knownProperties={known}
          />
          <button type="submit" class="primary">
            Save segment
          </button>
        </form>
      </Card>
    </>
  );
}

function describe(segment: SavedSegment): string {
  const state = builderFrom(segment.definition);
  if (!state || state.rules.length === 0) return 'everyone';
  return state.rules
    .map((rule) =>
      rule.kind === 'property'
        ? `${rule.property} ${rule.op} ${rule.value}`.trim()
        : `${rule.kind === 'did' ? 'did' : 'did not do'} ${rule.event}${rule.days ? ` in the last ${rule.days} days` : ''}`,
    )
    .join(state.combine === 'and' ? ' and ' : ' or ');
}
