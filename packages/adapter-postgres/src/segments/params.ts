/**
 * Collects bind parameters while SQL text is assembled, so values never
 * enter the text: `params.add(value)` returns the `$n` placeholder.
 */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
