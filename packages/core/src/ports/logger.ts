export type LogFields = Record<string, unknown>;

/** Structured logging. Herald never passes secrets (keys, tokens) in fields. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
