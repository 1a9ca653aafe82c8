import type { FormState } from './form-state.js';
import type { StepProps } from './form-step.js';
import { Field } from './ui.js';

/** The form's values that are free text: what a plain input edits as it is. */
type TextKey = { [K in keyof FormState]: string extends FormState[K] ? K : never }[keyof FormState];

interface TextInputProps extends Pick<StepProps, 'form' | 'set' | 'issues'> {
  label: string;
  path: string;
  /** The form value the input shows and edits. */
  field: TextKey;
  hint?: string;
  type?: 'number' | 'time' | 'datetime-local' | 'url';
  min?: number;
  max?: number;
  step?: 'any';
  disabled?: boolean;
}

/** A labelled input bound to one text value of the form: the Field markup every plain input repeated. */
export function TextInput({ form, set, issues, label, path, field, hint, ...input }: TextInputProps) {
  return (
    <Field label={label} path={path} issues={issues} hint={hint}>
      {(props) => (
        <input {...props} {...input} value={form[field]} onInput={(e) => set(field, e.currentTarget.value)} />
      )}
    </Field>
  );
}
