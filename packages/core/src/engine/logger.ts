import type { Logger } from '../ports/index.js';

const noop = () => undefined;

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** One JSON line per entry on stderr; `level` filters out chattier entries. */
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const min = order.indexOf(level);
  const write = (at: (typeof order)[number]) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(at) < min) return;
    process.stderr.write(`${JSON.stringify({ level: at, message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
