import { useState } from 'preact/hooks';
import { get } from './api.js';
import { dateTime, humanise } from './format.js';
import type { Explanation } from './types.js';
import { Card, ErrorBox } from './ui.js';

/** "Why did (not) this user get it": the engine's explain, in sentences and then its decision timeline. */
export function ExplainPanel({ campaignId }: { campaignId: string }) {
  const [userId, setUserId] = useState('');
  const [explanation, setExplanation] = useState<Explanation>();
  const [error, setError] = useState<Error>();
  async function explain(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      setExplanation(
        await get<Explanation>(`/campaigns/${encodeURIComponent(campaignId)}/explain`, { userId }),
      );
    } catch (caught) {
      setError(caught as Error);
    }
  }
  return (
    <Card title="Explain a user" id="explain">
      <form class="inline-form" onSubmit={explain}>
        <div class="field">
          <label for="explain-user">User id</label>
          <input
            id="explain-user"
            value={userId}
            required
            autocomplete="off"
            onInput={(event) => setUserId(event.currentTarget.value.trim())}
          />
        </div>
        <button type="submit" disabled={!userId}>
          Explain
        </button>
      </form>
      <ErrorBox error={error} />
      {explanation && (
        <div class="explanation">
          <ul class="summary">
            {explanation.summary.map((sentence) => (
              <li key={sentence}>{sentence}</li>
            ))}
          </ul>
          {explanation.occurrences.map((occurrence) => (
            <section key={occurrence.occurrence} aria-label={`Run ${occurrence.occurrence}`}>
              <h3>
                Run {dateTime(occurrence.occurrence)}: {occurrence.state ?? 'not reached'}
                {occurrence.reason ? ` (${humanise(occurrence.reason)})` : ''}
              </h3>
              <ol class="timeline">
                {occurrence.decisions.map((decision) => (
                  <li key={`${decision.at}-${decision.outcome}`}>
                    <time dateTime={decision.at}>{dateTime(decision.at)}</time> {humanise(decision.outcome)}
                    {decision.reason ? `: ${humanise(decision.reason)}` : ''}
                  </li>
                ))}
                {occurrence.deliveries.map((delivery) => (
                  <li key={`${delivery.subscriptionId}-${delivery.at}`}>
                    <time dateTime={delivery.at}>{dateTime(delivery.at)}</time> Delivery {delivery.status}
                    {delivery.statusCode ? ` (${delivery.statusCode})` : ''}
                    {delivery.reason ? `: ${delivery.reason}` : ''}
                  </li>
                ))}
              </ol>
            </section>
          ))}
        </div>
      )}
    </Card>
  );
}
