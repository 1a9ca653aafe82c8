import { useState } from 'preact/hooks';
import { call, type FieldIssue } from './api.js';
import { count } from './format.js';
import type { Json, JsonObject, Reach } from './types.js';
import { ErrorBox, issueBelongs } from './ui.js';

const OPERATORS = [
  ['eq', 'is'],
  ['neq', 'is not'],
  ['in', 'is one of (comma-separated)'],
  ['contains', 'contains'],
  ['startsWith', 'starts with'],
  ['gt', '>'],
  ['gte', '≥'],
  ['lt', '<'],
  ['lte', '≤'],
  ['exists', 'is set'],
  ['notExists', 'is not set'],
] as const;
type Operator = (typeof OPERATORS)[number][0];
const NUMERIC: Operator[] = ['gt', 'gte', 'lt', 'lte'];

/** One line of the ad-hoc builder: a profile property, or what the user did (not do) lately. */
export type Rule =
  | { kind: 'property'; property: string; op: Operator; value: string }
  | { kind: 'did' | 'didNot'; event: string; days: string };

export interface BuilderState {
  combine: 'and' | 'or';
  rules: Rule[];
}

/** A value typed in a text box, as the JSON a condition compares with: numbers and booleans as such. */
function scalar(text: string): string | number | boolean {
  const trimmed = text.trim();
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  return text;
}

function ruleDefinition(rule: Rule): JsonObject {
  if (rule.kind === 'property') {
    const base = { op: rule.op, property: rule.property };
    if (rule.op === 'exists' || rule.op === 'notExists') return { type: 'property', condition: base };
    if (rule.op === 'in')
      return {
        type: 'property',
        condition: { ...base, values: rule.value.split(',').map((v) => scalar(v.trim())) },
      };
    const value = NUMERIC.includes(rule.op) ? Number(rule.value) : scalar(rule.value);
    return {
      type: 'property',
      condition: { ...base, value: rule.op === 'contains' || rule.op === 'startsWith' ? rule.value : value },
    };
  }
  const days = Number(rule.days);
  return {
    type: rule.kind,
    event: { name: rule.event, where: [] },
    ...(rule.days ? { window: { inLast: { amount: Number.isFinite(days) ? days : 0, unit: 'days' } } } : {}),
  };
}

export function builderDefinition(state: BuilderState): JsonObject {
  if (state.rules.length === 0) return { type: 'all' };
  if (state.rules.length === 1) return ruleDefinition(state.rules[0] as Rule);
  return { type: state.combine, of: state.rules.map(ruleDefinition) };
}

function ruleFrom(definition: JsonObject): Rule | null {
  if (definition.type === 'property') {
    const condition = definition.condition as JsonObject;
    const op = condition.op as Operator;
    if (!OPERATORS.some(([name]) => name === op)) return null;
    const value =
      op === 'in'
        ? (condition.values as Json[]).join(', ')
        : condition.value === undefined
          ? ''
          : String(condition.value);
    return { kind: 'property', property: String(condition.property), op, value };
  }
  if (definition.type === 'did' || definition.type === 'didNot') {
    const event = definition.event as JsonObject;
    const window = definition.window as JsonObject | undefined;
    const inLast = window?.inLast as JsonObject | undefined;
    if (definition.count || (event.where as Json[] | undefined)?.length) return null;
    if (window && inLast?.unit !== 'days') return null;
    return { kind: definition.type, event: String(event.name), days: inLast ? String(inLast.amount) : '' };
  }
  return null;
}

/** The builder's state for a definition it can show, or null (the form then offers the JSON). */
export function builderFrom(definition: JsonObject): BuilderState | null {
  if (definition.type === 'all') return { combine: 'and', rules: [] };
  if (definition.type === 'and' || definition.type === 'or') {
    const rules = (definition.of as JsonObject[]).map(ruleFrom);
    return rules.every(Boolean) ? { combine: definition.type, rules: rules as Rule[] } : null;
  }
  const rule = ruleFrom(definition);
  return rule ? { combine: 'and', rules: [rule] } : null;
}

interface BuilderProps {
  state: BuilderState;
  onChange: (state: BuilderState) => void;
  /** Issues under the definition, with paths relative to it. */
  issues: FieldIssue[];
  idPrefix: string;
  knownProperties: string[];
}

export function SegmentBuilder({ state, onChange, issues, idPrefix, knownProperties }: BuilderProps) {
  const update = (index: number, rule: Rule) =>
    onChange({ ...state, rules: state.rules.map((existing, i) => (i === index ? rule : existing)) });
  const remove = (index: number) => onChange({ ...state, rules: state.rules.filter((_, i) => i !== index) });
  const issueAt = (index: number) =>
    issues.filter((issue) => (state.rules.length === 1 ? true : issueBelongs(issue.path, `of[${index}]`)));
  return (
    <div class="builder">
      <datalist id={`${idPrefix}-properties`}>
        {knownProperties.map((name) => (
          <option value={name} key={name} />
        ))}
      </datalist>
      {state.rules.length === 0 && <p class="hint">No condition: everyone.</p>}
      {state.rules.length > 1 && (
        <div class="field">
          <label for={`${idPrefix}-combine`}>Users who match</label>
          <select
            id={`${idPrefix}-combine`}
            value={state.combine}
            onChange={(e) => onChange({ ...state, combine: e.currentTarget.value as 'and' | 'or' })}
          >
            <option value="and">all of these</option>
            <option value="or">any of these</option>
          </select>
        </div>
      )}
      <ol class="rules">
        {state.rules.map((rule, index) => {
          const id = `${idPrefix}-rule-${index}`;
          const problems = issueAt(index);
          return (
            <li key={index} class={problems.length ? 'field-invalid' : ''}>
              <fieldset>
                <legend>Condition {index + 1}</legend>
                {rule.kind === 'property' ? (
                  <>
                    <label for={`${id}-property`}>Property</label>
                    <input
                      id={`${id}-property`}
                      list={`${idPrefix}-properties`}
                      value={rule.property}
                      onInput={(e) => update(index, { ...rule, property: e.currentTarget.value })}
                    />
                    <label for={`${id}-op`}>Operator</label>
                    <select
                      id={`${id}-op`}
                      value={rule.op}
                      onChange={(e) => update(index, { ...rule, op: e.currentTarget.value as Operator })}
                    >
                      {OPERATORS.map(([op, label]) => (
                        <option value={op} key={op}>
                          {label}
                        </option>
                      ))}
                    </select>
                    {rule.op !== 'exists' && rule.op !== 'notExists' && (
                      <>
                        <label for={`${id}-value`}>Value</label>
                        <input
                          id={`${id}-value`}
                          value={rule.value}
                          onInput={(e) => update(index, { ...rule, value: e.currentTarget.value })}
                        />
                      </>
                    )}
                  </>
                ) : (
                  <>
                    <label for={`${id}-event`}>
                      {rule.kind === 'did' ? 'Did event' : 'Did not do event'}
                    </label>
                    <input
                      id={`${id}-event`}
                      value={rule.event}
                      onInput={(e) => update(index, { ...rule, event: e.currentTarget.value })}
                    />
                    <label for={`${id}-days`}>In the last (days, empty: ever)</label>
                    <input
                      id={`${id}-days`}
                      type="number"
                      min={1}
                      value={rule.days}
                      onInput={(e) => update(index, { ...rule, days: e.currentTarget.value })}
                    />
                  </>
                )}
                <button type="button" class="link" onClick={() => remove(index)}>
                  Remove condition {index + 1}
                </button>
                {problems.length > 0 && (
                  <span class="field-error">
                    {problems.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}
                  </span>
                )}
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div class="actions">
        <button
          type="button"
          onClick={() =>
            onChange({
              ...state,
              rules: [...state.rules, { kind: 'property', property: '', op: 'eq', value: '' }],
            })
          }
        >
          Add property condition
        </button>
        <button
          type="button"
          onClick={() =>
            onChange({ ...state, rules: [...state.rules, { kind: 'did', event: '', days: '30' }] })
          }
        >
          Add “did event”
        </button>
        <button
          type="button"
          onClick={() =>
            onChange({ ...state, rules: [...state.rules, { kind: 'didNot', event: '', days: '30' }] })
          }
        >
          Add “did not do event”
        </button>
      </div>
    </div>
  );
}

/** Estimate reach of a definition without saving anything (POST /segments/reach). */
export function ReachButton({ definition }: { definition: () => JsonObject | { segmentId: string } }) {
  const [reach, setReach] = useState<Reach>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  async function estimate() {
    setBusy(true);
    setError(undefined);
    try {
      const target = definition();
      const answer =
        'segmentId' in target
          ? await call<Reach>('GET', `/segments/${encodeURIComponent(String(target.segmentId))}/reach`)
          : await call<Reach>('POST', '/segments/reach', { body: { definition: target } });
      setReach(answer.data);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="reach">
      <button type="button" onClick={estimate} disabled={busy}>
        Estimate reach
      </button>
      <span role="status" aria-live="polite">
        {reach &&
          `${count(reach.qualified)} users match; ${count(reach.reachable.total)} reachable (${count(reach.reachable.webpush)} web push, ${count(reach.reachable.safari)} Safari).`}
      </span>
      <ErrorBox error={error} />
    </div>
  );
}

/** Property names the segments already use, offered as suggestions in builders and personalisation. */
export function propertiesIn(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) propertiesIn(item, found);
  else if (value && typeof value === 'object') {
    if (typeof value.property === 'string' && value.property) found.add(value.property);
    for (const item of Object.values(value)) propertiesIn(item, found);
  }
  return found;
}
