import type { HeraldClient, HeraldSubscription } from './client.js';
import type { HeraldError } from './errors.js';

export interface SoftPromptTheme {
  background?: string;
  color?: string;
  /** The Allow button's background. */
  accent?: string;
  /** The Allow button's text colour. */
  accentColor?: string;
  radius?: string;
  font?: string;
  shadow?: string;
}

export interface SoftPromptOptions {
  /** The question. Default "Get notified about price drops?". */
  title?: string;
  /** An optional line under the question. */
  message?: string;
  allowLabel?: string;
  laterLabel?: string;
  /** Days to stay quiet after "Later" (or Escape). Default 7. */
  laterDays?: number;
  /** Subscribe as this user (`currentUser?.id`: undefined subscribes anonymously). */
  userId?: string | undefined;
  /** Where to put the prompt. Default `document.body`. */
  container?: HTMLElement;
  /** Colours and shape, set as CSS custom properties (`--herald-bg`, …) on the prompt. */
  theme?: SoftPromptTheme;
  /** Extra class names for your own CSS (`.herald-prompt`, `__title`, `__message`, `__allow`, `__later`). */
  className?: string;
  /** localStorage key for the "Later" date. Default `herald:prompt-later`. */
  storageKey?: string;
}

export type SoftPromptResult =
  | { outcome: 'subscribed'; subscription: HeraldSubscription }
  /** The user chose "Later" (remembered for `laterDays`). */
  | { outcome: 'later' }
  /** Not shown: the user chose "Later" less than `laterDays` ago. */
  | { outcome: 'snoozed' }
  /** Not shown: notifications are already allowed (call `client.subscribe()` directly). */
  | { outcome: 'granted' }
  /** Not shown (already blocked) or the user said no in the browser's prompt. */
  | { outcome: 'denied'; error?: HeraldError }
  /** Not shown: this browser cannot receive push. */
  | { outcome: 'unsupported' }
  | { outcome: 'error'; error: HeraldError };

const CSS = `.herald-prompt{position:fixed;z-index:2147483000;top:16px;left:50%;transform:translateX(-50%);max-width:calc(100vw - 32px);width:380px;box-sizing:border-box;padding:16px;background:var(--herald-bg,#fff);color:var(--herald-fg,#1b1b1f);border-radius:var(--herald-radius,12px);box-shadow:var(--herald-shadow,0 6px 24px rgba(0,0,0,.2));font:var(--herald-font,15px/1.4 system-ui,sans-serif)}.herald-prompt__title{margin:0 0 4px;font-weight:600}.herald-prompt__message{margin:0}.herald-prompt__buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:12px}.herald-prompt button{font:inherit;padding:8px 16px;border-radius:8px;cursor:pointer;border:1px solid currentColor;background:transparent;color:inherit}.herald-prompt .herald-prompt__allow{background:var(--herald-accent,#0b57d0);color:var(--herald-accent-fg,#fff);border-color:transparent}.herald-prompt button:focus-visible{outline:3px solid var(--herald-accent,#0b57d0);outline-offset:2px}`;

const THEME: Record<keyof SoftPromptTheme, string> = {
  background: '--herald-bg',
  color: '--herald-fg',
  accent: '--herald-accent',
  accentColor: '--herald-accent-fg',
  radius: '--herald-radius',
  font: '--herald-font',
  shadow: '--herald-shadow',
};

let ids = 0;

/**
 * A two-step permission prompt: the site asks first ("Get notified about price drops?
 * Allow / Later"), and only after "Allow" — a real click or key press — does the browser ask.
 * "Later" (or Escape) is remembered for `laterDays`.
 */
export function showSoftPrompt(
  client: HeraldClient,
  options: SoftPromptOptions = {},
): Promise<SoftPromptResult> {
  const laterKey = options.storageKey ?? 'herald:prompt-later';
  const permission = client.permission();
  if (permission === 'unsupported') return Promise.resolve({ outcome: 'unsupported' });
  if (permission === 'granted') return Promise.resolve({ outcome: 'granted' });
  if (permission === 'denied') return Promise.resolve({ outcome: 'denied' });
  try {
    if (Number(localStorage.getItem(laterKey)) > Date.now()) return Promise.resolve({ outcome: 'snoozed' });
  } catch {}

  const id = `herald-prompt-${++ids}`;
  if (!document.getElementById('herald-prompt-css')) {
    const style = document.createElement('style');
    style.id = 'herald-prompt-css';
    style.textContent = CSS;
    document.head.append(style);
  }
  const root = document.createElement('div');
  root.className = `herald-prompt ${options.className ?? ''}`.trim();
  root.setAttribute('role', 'dialog');
  root.setAttribute('aria-labelledby', `${id}-title`);
  for (const [name, value] of Object.entries(options.theme ?? {})) {
    const property = THEME[name as keyof SoftPromptTheme];
    if (property && value) root.style.setProperty(property, value);
  }
  const element = <K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text: string) => {
    const node = document.createElement(tag);
    node.className = `herald-prompt__${className}`;
    node.textContent = text;
    return node;
  };
  const title = element('p', 'title', options.title ?? 'Get notified about price drops?');
  title.id = `${id}-title`;
  root.append(title);
  if (options.message) {
    const message = element('p', 'message', options.message);
    message.id = `${id}-message`;
    root.setAttribute('aria-describedby', message.id);
    root.append(message);
  }
  const buttons = element('div', 'buttons', '');
  const later = element('button', 'later', options.laterLabel ?? 'Later');
  const allow = element('button', 'allow', options.allowLabel ?? 'Allow');
  later.type = allow.type = 'button';
  buttons.append(later, allow);
  root.append(buttons);

  const previousFocus = document.activeElement as HTMLElement | null;
  (options.container ?? document.body).append(root);
  allow.focus();

  return new Promise((resolve) => {
    const done = (result: SoftPromptResult) => {
      root.remove();
      previousFocus?.focus?.();
      resolve(result);
    };
    const snooze = () => {
      try {
        localStorage.setItem(laterKey, String(Date.now() + (options.laterDays ?? 7) * 86_400_000));
      } catch {}
      done({ outcome: 'later' });
    };
    later.addEventListener('click', snooze);
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !allow.disabled) snooze();
    });
    allow.addEventListener('click', () => {
      // Called straight from the click (or Enter/Space on the button): the browser sees the gesture.
      allow.disabled = later.disabled = true;
      root.setAttribute('aria-busy', 'true');
      client.subscribe(options.userId ? { userId: options.userId } : {}).then(
        (subscription) => done({ outcome: 'subscribed', subscription }),
        (cause: unknown) => {
          // subscribe() rejects with HeraldError (not imported here: its class lives in the main entry).
          const error = cause as HeraldError;
          done(
            error.code === 'permission-denied' || error.code === 'permission-blocked'
              ? { outcome: 'denied', error }
              : { outcome: 'error', error },
          );
        },
      );
    });
  });
}
