import { useState } from 'preact/hooks';
import { type Action, ICONS } from './form-state.js';
import type { StepProps } from './form-step.js';
import { TextInput } from './text-input.js';
import { Field } from './ui.js';

export type Personalisable = 'title' | 'body' | 'deeplink';

interface WhatStepProps extends StepProps {
  knownProperties: string[];
  /** Inserts a snippet where the cursor last was in a personalisable field. */
  insert: (target: Personalisable, snippet: string) => void;
  /** Keeps the cursor position of a personalisable field. */
  remember: (target: Personalisable) => (event: Event) => void;
  /** Typing `@` in a personalisable field jumps to its property picker. */
  atShortcut: (target: Personalisable) => (event: KeyboardEvent) => void;
}

/** 3. What: title, body, deeplink (personalised), image, icon, TTL, require interaction, buttons. */
export function WhatStep(props: WhatStepProps) {
  const { form, set, issues, knownProperties, insert, remember, atShortcut } = props;
  /** What every TextInput of this step is bound to. */
  const bound = { form, set, issues };
  return (
    <fieldset class="step">
      <legend>3. What</legend>
      <Field label="Title" path="what.title" issues={issues} hint="Type @ to insert a user property">
        {(props) => (
          <input
            {...props}
            value={form.title}
            onKeyDown={atShortcut('title')}
            onKeyUp={remember('title')}
            onClick={remember('title')}
            onInput={(e) => {
              remember('title')(e);
              set('title', e.currentTarget.value);
            }}
          />
        )}
      </Field>
      <Personalise target="title" properties={knownProperties} insert={insert} />
      <Field label="Body" path="what.body" issues={issues}>
        {(props) => (
          <textarea
            {...props}
            rows={3}
            value={form.body}
            onKeyDown={atShortcut('body')}
            onKeyUp={remember('body')}
            onClick={remember('body')}
            onInput={(e) => {
              remember('body')(e);
              set('body', e.currentTarget.value);
            }}
          />
        )}
      </Field>
      <Personalise target="body" properties={knownProperties} insert={insert} />
      <Field
        label="Deeplink"
        path="what.deeplink"
        issues={issues}
        hint="https://…; values inserted are URL-encoded"
      >
        {(props) => (
          <input
            {...props}
            type="url"
            value={form.deeplink}
            onKeyUp={remember('deeplink')}
            onClick={remember('deeplink')}
            onInput={(e) => {
              remember('deeplink')(e);
              set('deeplink', e.currentTarget.value);
            }}
          />
        )}
      </Field>
      <Personalise target="deeplink" properties={knownProperties} insert={insert} />
      <TextInput {...bound} label="Image URL (optional)" path="what.image" field="image" type="url" />
      <Field label="Icon" path="what.icon" issues={issues}>
        {(props) => (
          <select
            {...props}
            value={ICONS.includes(form.icon) || !form.icon ? form.icon : 'custom'}
            onChange={(e) =>
              set('icon', e.currentTarget.value === 'custom' ? 'https://' : e.currentTarget.value)
            }
          >
            <option value="">Site default</option>
            {ICONS.map((icon) => (
              <option value={icon} key={icon}>
                {icon}
              </option>
            ))}
            <option value="custom">Custom URL…</option>
          </select>
        )}
      </Field>
      {form.icon && !ICONS.includes(form.icon) && (
        <TextInput {...bound} label="Icon URL" path="what.icon.url" field="icon" issues={[]} type="url" />
      )}
      <TextInput
        {...bound}
        label="Time to live (hours)"
        path="what.ttlSeconds"
        field="ttlHours"
        type="number"
        min={0}
        step="any"
      />
      <Field
        label="Require interaction (stays until dismissed)"
        path="what.requireInteraction"
        issues={issues}
      >
        {(props) => (
          <input
            {...props}
            type="checkbox"
            checked={form.requireInteraction}
            onChange={(e) => set('requireInteraction', e.currentTarget.checked)}
          />
        )}
      </Field>
      <fieldset class="actions-editor" data-path="what.actions">
        <legend>Action buttons (up to 2)</legend>
        {form.actions.map((action, index) => {
          const update = (patch: Partial<Action>) =>
            set(
              'actions',
              form.actions.map((existing, i) => (i === index ? { ...existing, ...patch } : existing)),
            );
          return (
            <div class="pair" key={index}>
              <Field label={`Button ${index + 1} id`} path={`what.actions[${index}].id`} issues={issues}>
                {(props) => (
                  <input
                    {...props}
                    value={action.id}
                    onInput={(e) => update({ id: e.currentTarget.value })}
                  />
                )}
              </Field>
              <Field
                label={`Button ${index + 1} title`}
                path={`what.actions[${index}].title`}
                issues={issues}
              >
                {(props) => (
                  <input
                    {...props}
                    value={action.title}
                    onInput={(e) => update({ title: e.currentTarget.value })}
                  />
                )}
              </Field>
              <Field
                label={`Button ${index + 1} link (optional)`}
                path={`what.actions[${index}].url`}
                issues={issues}
              >
                {(props) => (
                  <input
                    {...props}
                    type="url"
                    value={action.url}
                    onInput={(e) => update({ url: e.currentTarget.value })}
                  />
                )}
              </Field>
              <button
                type="button"
                class="link"
                onClick={() =>
                  set(
                    'actions',
                    form.actions.filter((_, i) => i !== index),
                  )
                }
              >
                Remove button {index + 1}
              </button>
            </div>
          );
        })}
        {form.actions.length < 2 && (
          <button
            type="button"
            onClick={() =>
              set('actions', [
                ...form.actions,
                { id: `action-${form.actions.length + 1}`, title: '', url: '' },
              ])
            }
          >
            Add button
          </button>
        )}
        {issues
          .filter((issue) => issue.path === 'what.actions')
          .map((issue) => (
            <span class="field-error" key={issue.path}>
              {issue.message}
            </span>
          ))}
      </fieldset>
    </fieldset>
  );
}

interface PersonaliseProps {
  target: Personalisable;
  properties: string[];
  insert: (target: Personalisable, snippet: string) => void;
}

/** Inserts `{{ user.<property> }}` where the cursor was in a field (also opened by typing `@` there). */
function Personalise({ target, properties, insert }: PersonaliseProps) {
  const [property, setProperty] = useState(properties[0] ?? 'first_name');
  const id = `personalise-${target}`;
  return (
    <div class="personalise">
      <label for={id}>Insert property into {target}</label>
      <input
        id={id}
        list="known-properties"
        value={property}
        onInput={(e) => setProperty(e.currentTarget.value)}
      />
      <button
        type="button"
        onClick={() =>
          property &&
          insert(
            target,
            target === 'deeplink' ? `{{ user.${property} }}` : `{{ user.${property} | default: "" }}`,
          )
        }
      >
        Insert
      </button>
    </div>
  );
}
