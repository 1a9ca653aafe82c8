const numberFormat = new Intl.NumberFormat();
const moneyFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, minimumFractionDigits: 2 });

export const count = (value: number | null | undefined) => (value == null ? '–' : numberFormat.format(value));
export const money = (value: number | null | undefined) => (value == null ? '–' : moneyFormat.format(value));
export const percent = (value: number | null | undefined, digits = 1) =>
  value == null || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(digits)}%`;
/** A rate from two counts; a dash rather than 0% when nothing was sent. */
export const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export function dateTime(value: string | null | undefined): string {
  if (!value) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? value
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "capped" → "Capped", "no-subscription" → "No subscription": skip reasons as a marketer reads them. */
export const humanise = (code: string) => {
  const words = code.replace(/[-_]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** ISO instant → the value of an <input type="datetime-local"> in the browser's zone. */
export function toLocalInput(value: string | undefined | null): string {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  // Minutes when that is all there is; seconds and milliseconds kept when set, so an edit that
  // does not touch the field sends back the instant it read.
  const precision = date.getMilliseconds() ? 23 : date.getSeconds() ? 19 : 16;
  return local.toISOString().slice(0, precision);
}

/** <input type="datetime-local"> → ISO instant (the browser's zone), or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}
