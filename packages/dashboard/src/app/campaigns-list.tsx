import { useState } from 'preact/hooks';
import { get } from './api.js';
import { count, dateTime, percent, ratio } from './format.js';
import { useLoad } from './hooks.js';
import { href, navigate, type Route } from './router.js';
import type { Campaign, CampaignStats } from './types.js';
import { STATUSES } from './types.js';
import { ErrorBox, StatusBadge } from './ui.js';

interface CampaignPage {
  items: Campaign[];
  nextCursor: string | null;
}

const SCHEDULE_NAMES: Record<string, string> = {
  once: 'One time',
  dates: 'Several dates',
  recurring: 'Recurring',
  onEvent: 'Live: on event',
  inaction: 'Live: inaction',
  eventDate: 'Live: event date',
};
export const scheduleName = (type: string) => SCHEDULE_NAMES[type] ?? type;

/**
 * Sent and click-through for one row, from the campaign's totals (`/stats`, read from the
 * storage's tallies), one request per row of a page of at most 50.
 */
function RowFigures({ campaign }: { campaign: Campaign }) {
  const stats = useLoad(
    () => get<CampaignStats>(`/campaigns/${encodeURIComponent(campaign.id)}/stats`),
    `${campaign.id}:${campaign.version}`,
  );
  const totals = stats.data;
  return (
    <>
      <td class="num">{totals ? count(totals.sent) : '…'}</td>
      <td class="num">{totals ? percent(ratio(totals.clicked, totals.sent)) : '…'}</td>
    </>
  );
}

export function CampaignsList({ route }: { route: Route }) {
  const status = route.query.get('status') ?? '';
  const label = route.query.get('label') ?? '';
  const q = route.query.get('q') ?? '';
  const archived = route.query.get('archived') === 'true';
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const list = useLoad(
    () =>
      get<CampaignPage>('/campaigns', {
        status: status || undefined,
        label: label || undefined,
        q: q || undefined,
        includeArchived: archived ? 'true' : undefined,
        cursor,
        limit: '50',
      }),
    `${status}|${label}|${q}|${archived}|${cursor ?? ''}`,
  );
  const [search, setSearch] = useState(q);
  const filter = (changes: Record<string, string | undefined>) => {
    setCursor(undefined);
    navigate('/campaigns', {
      status: status || undefined,
      label: label || undefined,
      q: q || undefined,
      archived: archived ? 'true' : undefined,
      ...changes,
    });
  };

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Campaigns</h1>
        <a class="button primary" href={href('/campaigns/new')}>
          New campaign
        </a>
      </div>
      <form
        class="filters"
        aria-label="Filter campaigns"
        onSubmit={(event) => {
          event.preventDefault();
          filter({ q: search || undefined });
        }}
      >
        <div class="field">
          <label for="filter-q">Search by name</label>
          <input
            id="filter-q"
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select
            id="filter-status"
            value={status}
            onChange={(e) => filter({ status: e.currentTarget.value || undefined })}
          >
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option value={value} key={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-label">Label</label>
          <input
            id="filter-label"
            value={label}
            onChange={(e) => filter({ label: e.currentTarget.value.trim() || undefined })}
          />
        </div>
        <div class="field checkbox">
          <input
            id="filter-archived"
            type="checkbox"
            checked={archived}
            onChange={(e) => filter({ archived: e.currentTarget.checked ? 'true' : undefined })}
          />
          <label for="filter-archived">Show archived</label>
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={list.error} />
      {list.data && list.data.items.length === 0 && <p>No campaigns match.</p>}
      {list.data && list.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="campaigns">
            <caption class="visually-hidden">Campaigns, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Type</th>
                <th scope="col">Labels</th>
                <th scope="col">Next run</th>
                <th scope="col" class="num">
                  Sent
                </th>
                <th scope="col" class="num">
                  Click-through
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((campaign) => (
                <tr key={campaign.id}>
                  <th scope="row">
                    <a href={href(`/campaigns/${encodeURIComponent(campaign.id)}`)}>{campaign.name}</a>
                  </th>
                  <td>
                    <StatusBadge status={campaign.status} />
                    {campaign.archivedAt && <span class="badge">archived</span>}
                  </td>
                  <td>{scheduleName(campaign.when.schedule.type)}</td>
                  <td>
                    {campaign.labels.map((name) => (
                      <a class="label" key={name} href={href('/campaigns', { label: name })}>
                        {name}
                      </a>
                    ))}
                  </td>
                  <td>{dateTime(campaign.nextRunAt)}</td>
                  <RowFigures campaign={campaign} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        {cursor && (
          <button type="button" onClick={() => setCursor(undefined)}>
            First page
          </button>
        )}
        {list.data?.nextCursor && (
          <button type="button" onClick={() => setCursor(list.data?.nextCursor ?? undefined)}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}
