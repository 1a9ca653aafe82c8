/** What went wrong, for a site owner to branch on. */
export type HeraldErrorCode =
  /** This browser or context cannot receive web push (see `isSupported()` for the reason). */
  | 'unsupported'
  /** The user said no in the browser's prompt (or closed it). */
  | 'permission-denied'
  /** Notifications are blocked for this site; only the user can lift it in the site settings. */
  | 'permission-blocked'
  /** The service worker failed to register or to activate (wrong URL, scope, or a script error). */
  | 'service-worker-failed'
  /** The browser's push service did not answer or refused to subscribe. */
  | 'push-service-unreachable'
  /** The host's Herald endpoint answered with an error. */
  | 'host-rejected'
  /** The host's Herald endpoint could not be reached. */
  | 'network';

export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly code: HeraldErrorCode;
  /** HTTP status for `host-rejected`. */
  readonly status?: number;
  /** The host's `{ error: { code, message, issues } }` for `host-rejected`. */
  readonly details?: unknown;

  constructor(
    code: HeraldErrorCode,
    message: string,
    extra: { cause?: unknown; status?: number; details?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.details !== undefined) this.details = extra.details;
  }
}
