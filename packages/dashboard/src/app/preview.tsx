import { useState } from 'preact/hooks';
import { call } from './api.js';
import type { Preview, PreviewNotification, TestSendResult } from './types.js';
import { Card, ErrorBox, Notice } from './ui.js';

type BrowserName = 'Chrome' | 'Firefox' | 'Safari';

/**
 * How each browser shows the same message. Chrome shows icon, image and up to two buttons;
 * Firefox shows icon and buttons but no large image; Safari (legacy website push and 18.4+
 * declarative push alike) shows the site's own icon and no image or buttons, and cannot open a
 * notification without a deeplink.
 */
const SUPPORT: Record<BrowserName, { icon: boolean; image: boolean; actions: boolean }> = {
  Chrome: { icon: true, image: true, actions: true },
  Firefox: { icon: true, image: false, actions: true },
  Safari: { icon: false, image: false, actions: false },
};

function NotificationCard({
  browser,
  notification,
}: {
  browser: BrowserName;
  notification: PreviewNotification;
}) {
  const support = SUPPORT[browser];
  const dropped = [
    !support.icon && notification.icon ? 'icon' : '',
    !support.image && notification.image ? 'image' : '',
    !support.actions && notification.actions.length ? 'buttons' : '',
  ].filter(Boolean);
  const missingDeeplink = browser === 'Safari' && !notification.deeplink;
  return (
    <figure class={`notification notification-${browser.toLowerCase()}`} aria-label={`${browser} preview`}>
      <figcaption>{browser}</figcaption>
      <div class="notification-box">
        <div class="notification-head">
          {support.icon && notification.icon ? (
            <img class="notification-icon" src={notification.icon} alt="" width={40} height={40} />
          ) : (
            <span class="notification-icon placeholder" aria-hidden="true">
              {browser === 'Safari' ? 'site' : ''}
            </span>
          )}
          <div>
            <strong class="notification-title">{notification.title}</strong>
            <p class="notification-body">{notification.body}</p>
          </div>
        </div>
        {support.image && notification.image && (
          <img class="notification-image" src={notification.image} alt="Notification banner" />
        )}
        {support.actions && notification.actions.length > 0 && (
          <div class="notification-actions">
            {notification.actions.map((action) => (
              <span class="notification-action" key={action.id}>
                {action.title}
              </span>
            ))}
          </div>
        )}
      </div>
      {dropped.length > 0 && <p class="hint">{`${browser} drops the ${dropped.join(', ')}.`}</p>}
      {missingDeeplink && (
        <p class="field-error">Safari needs a deeplink: the notification cannot be opened without one.</p>
      )}
      <p class="hint deeplink">Opens {notification.deeplink || '(no deeplink)'}</p>
    </figure>
  );
}

export function PreviewPanel({ campaignId }: { campaignId: string }) {
  const path = `/campaigns/${encodeURIComponent(campaignId)}`;
  const [userId, setUserId] = useState('');
  const [preview, setPreview] = useState<Preview>();
  const [results, setResults] = useState<TestSendResult[]>();
  const [error, setError] = useState<Error>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function run(what: 'preview' | 'test') {
    setError(undefined);
    setMessage(undefined);
    setBusy(true);
    try {
      if (what === 'preview') {
        setPreview((await call<Preview>('POST', `${path}/preview`, { body: { userId } })).data);
      } else {
        const answer = await call<TestSendResult[]>('POST', `${path}/test-sends`, {
          body: userId ? { userIds: [userId] } : {},
        });
        setResults(answer.data);
        const sent = answer.data
          .flatMap((result) => result.deliveries)
          .filter((d) => d.outcome === 'sent').length;
        setMessage(`Test sent: ${sent} message${sent === 1 ? '' : 's'} accepted by the push service.`);
      }
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  }

  const webpush = preview?.targets.find((target) => target.target === 'webpush');
  const safari = preview?.targets.find((target) => target.target === 'safari');
  return (
    <Card title="Preview and test" id="preview">
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          run('preview');
        }}
      >
        <div class="field">
          <label for="preview-user">Test profile (user id)</label>
          <input
            id="preview-user"
            value={userId}
            required
            autocomplete="off"
            onInput={(event) => setUserId(event.currentTarget.value.trim())}
          />
        </div>
        <button type="submit" disabled={busy || !userId}>
          Preview
        </button>
        <button type="button" disabled={busy} onClick={() => run('test')}>
          Send test
        </button>
      </form>
      <p class="hint">
        Send test goes to test profiles only (mark one with PUT /profiles/&#123;userId&#125;/test); it is
        never counted in stats.
      </p>
      <Notice message={message} />
      <ErrorBox error={error} />
      {preview && (
        <>
          {preview.controlGroup && (
            <p class="hint">This user is in the control group: a real run would skip them.</p>
          )}
          {preview.skipped && <p class="field-error">A real run would skip this user: {preview.skipped}.</p>}
          {preview.missing.map((missing) => (
            <p class="hint" key={`${missing.field}-${missing.variable}`}>
              {`${missing.field}: ${missing.variable} has no value for this user.`}
            </p>
          ))}
          {[...preview.warnings, ...(webpush?.warnings ?? []), ...(safari?.warnings ?? [])].map((warning) => (
            <p class="hint" key={warning}>
              {warning}
            </p>
          ))}
          {preview.issues.map((issue) => (
            <p class="field-error" key={issue.path}>
              {issue.path}: {issue.message}
            </p>
          ))}
          {webpush || safari ? (
            <div class="previews">
              {webpush && <NotificationCard browser="Chrome" notification={webpush.notification} />}
              {webpush && <NotificationCard browser="Firefox" notification={webpush.notification} />}
              <NotificationCard
                browser="Safari"
                notification={(safari ?? webpush)?.notification as PreviewNotification}
              />
            </div>
          ) : (
            <p>This user has no browser subscribed: nothing to render for.</p>
          )}
        </>
      )}
      {results && (
        <ul class="test-results">
          {results.map((result) => (
            <li key={result.userId}>
              {result.userId}:{' '}
              {result.skipped
                ? `skipped (${result.skipped})`
                : result.deliveries
                    .map((d) => `${d.target} ${d.outcome}${d.detail ? ` (${d.detail})` : ''}`)
                    .join(', ') || 'no delivery'}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
