export type UnsupportedReason =
  | 'insecure-context'
  | 'no-service-worker'
  | 'no-push-manager'
  | 'no-notifications'
  | 'ios-not-installed'
  | 'safari-not-configured';

export type Support =
  | { supported: true; mode: 'push' | 'safari-legacy' }
  | { supported: false; reason: UnsupportedReason; message: string };

/** The parts of `window` support detection looks at (a parameter so it can be unit-tested). */
export interface SupportEnv {
  isSecureContext?: boolean;
  navigator?: {
    userAgent?: string;
    platform?: string;
    maxTouchPoints?: number;
    standalone?: boolean;
    serviceWorker?: unknown;
  };
  PushManager?: unknown;
  Notification?: unknown;
  safari?: { pushNotification?: unknown };
  matchMedia?: (query: string) => { matches: boolean };
}

const MESSAGES: Record<UnsupportedReason, string> = {
  'insecure-context': 'Web push needs a secure context: serve the page over HTTPS (or from localhost).',
  'no-service-worker':
    'This browser has no service workers (or they are disabled, e.g. in private browsing).',
  'no-push-manager': 'This browser has no Push API.',
  'no-notifications': 'This browser has no Notification API.',
  'ios-not-installed':
    'On iPhone and iPad, web push works only in a web app added to the home screen (Share → Add to Home Screen).',
  'safari-not-configured':
    'This Safari only has legacy website push: pass `safari: { websitePushId, webServiceUrl }` to createHeraldClient.',
};

function unsupported(reason: UnsupportedReason): Support {
  return { supported: false, reason, message: MESSAGES[reason] };
}

/** Can this page receive web push, and how? */
export function detectSupport(env: SupportEnv, safariConfigured: boolean): Support {
  if (!env.isSecureContext) return unsupported('insecure-context');
  const nav = env.navigator ?? {};
  const hasPushManager = !!env.PushManager;
  if (!hasPushManager && env.safari?.pushNotification) {
    return safariConfigured
      ? { supported: true, mode: 'safari-legacy' }
      : unsupported('safari-not-configured');
  }
  const ios =
    /iPad|iPhone|iPod/.test(nav.userAgent ?? '') ||
    (nav.platform === 'MacIntel' && (nav.maxTouchPoints ?? 0) > 1);
  if (ios && !nav.standalone && !env.matchMedia?.('(display-mode: standalone)').matches) {
    return unsupported('ios-not-installed');
  }
  if (!nav.serviceWorker) return unsupported('no-service-worker');
  if (!hasPushManager) return unsupported('no-push-manager');
  if (!env.Notification) return unsupported('no-notifications');
  return { supported: true, mode: 'push' };
}
