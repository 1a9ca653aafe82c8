import type { FieldIssue } from './api.js';
import type { FormState } from './form-state.js';

/** What every step of the campaign form gets from the form. */
export interface StepProps {
  form: FormState;
  set: <K extends keyof FormState>(key: K, value: FormState[K]) => void;
  issues: FieldIssue[];
  /** A running campaign keeps its timing and audience: those steps are read-only. */
  locked: boolean;
}
