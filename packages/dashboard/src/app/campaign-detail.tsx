import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get, newIdempotencyKey } from './api.js';
import { scheduleName } from './campaigns-list.js';
import { ExplainPanel } from './explain.js';
import { count, dateTime, humanise, money, percent, ratio } from './format.js';
import { useLoad } from './hooks.js';
import { TimelinePlot } from './plot.js';
import { PreviewPanel } from './preview.js';
import { href, navigate } from './router.js';
import type {
  BrowserRow,
  Campaign,
  CampaignRuns,
  CampaignStats,
  CampaignStatus,
  CampaignTimeline,
  Forecast,
  Reach,
} from './types.js';
import { Card, ErrorBox, Metric, Notice, StatusBadge } from './ui.js';

type Action = 'schedule' | 'pause' | 'resume' | 'stop' | 'duplicate' | 'archive';

/** What the engine allows from each status (docs/ADMIN_API.md); a refused one still answers 409. */
const ACTIONS: Record<CampaignStatus, Action[]> = {
  draft: ['schedule', 'duplicate'],
  scheduled: ['pause', 'stop', 'duplicate'],
  running: ['pause', 'stop', 'duplicate'],
  paused: ['resume', 'stop', 'duplicate'],
  completed: ['duplicate', 'archive'],
  stopped: ['duplicate', 'archive'],
};
const EDITABLE: CampaignStatus[] = ['draft', 'scheduled', 'running', 'paused'];
const LIVE_STATUSES: CampaignStatus[] = ['scheduled', 'running'];
const DONE_MESSAGES: Record<Action, string> = {
  schedule: 'Campaign scheduled.',
  pause: 'Campaign paused.',
  resume: 'Campaign resumed.',
  stop: 'Campaign stopped.',
  duplicate: 'Copy created.',
  archive: 'Campaign archived.',
};

interface BrowsersAnswer {
  browsers: BrowserRow[];
}

/** Set once the server answered that it has no browsers route (an older @herald/core): not asked again. */
let browsersRouteMissing = false;

/** The browsers breakdown, or null when this server has no such route (its section is hidden). */
async function loadBrowsers(path: string): Promise<BrowsersAnswer | null> {
  if (browsersRouteMissing) return null;
  try {
    return await get<BrowsersAnswer>(`${path}/browsers`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'route_not_found') {
      browsersRouteMissing = true;
      return null;
    }
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function CampaignDetail({ id }: { id: string }) {
  const path = `/campaigns/${encodeURIComponent(id)}`;
  const [message, setMessage] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [refreshMs, setRefreshMs] = useState<number | undefined>(undefined);
  // The campaign (its status, next run, version) and its figures move on their own while it is live:
  // both are polled then; a finished or draft campaign is read once.
  const campaign = useLoad(
    async () => {
      const answer = await call<Campaign>('GET', path);
      return { campaign: answer.data, etag: answer.etag };
    },
    id,
    refreshMs,
  );
  const status = campaign.data?.campaign.status;
  const live = status !== undefined && (LIVE_STATUSES.includes(status) || status === 'completed');
  useEffect(() => setRefreshMs(live ? 3000 : undefined), [live]);
  const figures = useLoad(
    async () => {
      const [stats, runs, timeline, browsers] = await Promise.all([
        get<CampaignStats>(`${path}/stats`),
        get<CampaignRuns>(`${path}/runs`),
        get<CampaignTimeline>(`${path}/timeline`),
        loadBrowsers(path),
      ]);
      return { stats, runs, timeline, browsers };
    },
    `${id}`,
    refreshMs,
  );

  async function act(action: Action) {
    if (!campaign.data) return;
    if (action === 'stop' && !confirm('Stop this campaign for good? Messages not yet sent are skipped.'))
      return;
    setBusy(true);
    setActionError(undefined);
    setMessage(undefined);
    try {
      if (action === 'duplicate') {
        const copy = await call<Campaign>('POST', `${path}/duplicate`, {
          body: {},
          idempotencyKey: newIdempotencyKey(),
        });
        setMessage(DONE_MESSAGES.duplicate);
        navigate(`/campaigns/${encodeURIComponent(copy.data.id)}`);
        return;
      }
      await call<Campaign>('POST', `${path}/${action}`, { ifMatch: campaign.data.etag });
      setMessage(DONE_MESSAGES[action]);
      campaign.reload();
      figures.reload();
    } catch (error) {
      setActionError(error as Error);
      campaign.reload();
    } finally {
      setBusy(false);
    }
  }

  if (campaign.error) return <ErrorBox error={campaign.error} />;
  if (!campaign.data) return <p aria-busy="true">Loading…</p>;
  const current = campaign.data.campaign;
  const stats = figures.data?.stats;
  const total = figures.data?.runs.total;

  return (
    <>
      <p class="breadcrumb">
        <a href={href('/campaigns')}>Campaigns</a>
      </p>
      <div class="page-head">
        <h1 tabIndex={-1}>{current.name}</h1>
        <StatusBadge status={current.status} />
      </div>
      <dl class="facts">
        <div>
          <dt>Type</dt>
          <dd>{scheduleName(current.when.schedule.type)}</dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{dateTime(current.nextRunAt)}</dd>
        </div>
        <div>
          <dt>Labels</dt>
          <dd>{current.labels.length ? current.labels.join(', ') : '–'}</dd>
        </div>
        <div>
          <dt>Zone</dt>
          <dd>{current.when.timezone}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{current.version}</dd>
        </div>
      </dl>
      <fieldset class="actions lifecycle">
        <legend class="visually-hidden">Lifecycle</legend>
        {EDITABLE.includes(current.status) && (
          <a class="button" href={href(`${path}/edit`)}>
            Edit
          </a>
        )}
        {ACTIONS[current.status].map((action) => (
          <button
            type="button"
            key={action}
            class={
              action === 'schedule' || action === 'resume' ? 'primary' : action === 'stop' ? 'danger' : ''
            }
            disabled={busy}
            onClick={() => act(action)}
          >
            {humanise(action)}
          </button>
        ))}
      </fieldset>
      <Notice message={message} />
      <ErrorBox error={actionError} />

      <Card title="Stats" id="stats">
        <ErrorBox error={figures.error} />
        {stats && total ? (
          <>
            <dl class="metrics">
              <Metric
                label="Sent"
                value={count(stats.sent)}
                detail={`${count(stats.failed)} failed, ${count(stats.gone)} gone`}
              />
              <Metric
                label="Viewed"
                value={count(stats.viewed)}
                detail={percent(total.rates.viewRate ?? ratio(stats.viewed, stats.sent))}
              />
              <Metric
                label="Clicked"
                value={count(stats.clicked)}
                detail={`CTR ${percent(total.rates.clickThrough ?? ratio(stats.clicked, stats.sent))}`}
              />
              <Metric
                label="Conversions"
                value={count(stats.conversions.recipients.conversions)}
                detail={percent(stats.conversions.recipients.rate)}
              />
              <Metric label="Revenue" value={money(stats.conversions.recipients.revenue)} />
              <Metric
                label="Lift vs control"
                value={percent(stats.conversions.lift)}
                detail={
                  total.rates.lift.note ??
                  (total.rates.lift.low != null && total.rates.lift.high != null
                    ? `95% CI ${percent(total.rates.lift.low)} to ${percent(total.rates.lift.high)}`
                    : `control ${count(stats.control)}`)
                }
              />
            </dl>
            <p class="hint">
              Recipients {count(stats.recipients)}, pending {count(stats.pending)}, control group{' '}
              {count(stats.control)}.
            </p>
          </>
        ) : (
          !figures.error && <p aria-busy="true">Loading…</p>
        )}
      </Card>

      {figures.data && (
        <Card title="Over time" id="timeline">
          <TimelinePlot buckets={figures.data.timeline.buckets} timezone={figures.data.timeline.timezone} />
        </Card>
      )}

      {stats && <Skips stats={stats} />}
      {['draft', 'scheduled', 'paused'].includes(current.status) && (
        <ReachAndForecast path={path} status={current.status} />
      )}

      {figures.data && figures.data.runs.runs.length > 0 && <RunsTable runs={figures.data.runs} />}
      {figures.data?.browsers && <BrowsersTable rows={figures.data.browsers.browsers} />}

      <PreviewPanel campaignId={id} />
      <ExplainPanel campaignId={id} />
    </>
  );
}

function Skips({ stats }: { stats: CampaignStats }) {
  const reasons = Object.entries(stats.skipped).filter(([, value]) => value > 0);
  return (
    <Card title="Skipped, by reason" id="skips">
      {reasons.length === 0 ? (
        <p>No recipient was skipped.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Why recipients were not sent the campaign</caption>
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col" class="num">
                Recipients
              </th>
            </tr>
          </thead>
          <tbody>
            {reasons.map(([reason, value]) => (
              <tr key={reason} data-reason={reason}>
                <th scope="row">{humanise(reason)}</th>
                <td class="num">{count(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function ReachAndForecast({ path, status }: { path: string; status: CampaignStatus }) {
  const [reach, setReach] = useState<Reach>();
  const [forecast, setForecast] = useState<Forecast>();
  const [error, setError] = useState<Error>();
  const run = async (what: 'reach' | 'forecast') => {
    setError(undefined);
    try {
      if (what === 'reach') setReach(await get<Reach>(`${path}/reach`));
      else setForecast(await get<Forecast>(`${path}/forecast`));
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <Card title="Reach" id="reach">
      <div class="actions">
        <button type="button" onClick={() => run('reach')}>
          Estimate reach
        </button>
        {status !== 'draft' && (
          <button type="button" onClick={() => run('forecast')}>
            Forecast next run
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      {reach && (
        <p>
          {count(reach.qualified)} users match; {count(reach.reachable.total)} can be reached (
          {count(reach.reachable.webpush)} web push, {count(reach.reachable.safari)} Safari).
        </p>
      )}
      {forecast && (
        <>
          <p>Next run: {dateTime(forecast.occurrence)}</p>
          <ol class="funnel">
            <li>Qualified: {count(forecast.qualified)}</li>
            <li>Reachable: {count(forecast.reachable)}</li>
            <li>After control group: {count(forecast.afterControlGroup)}</li>
            <li>After caps: {count(forecast.afterCaps)}</li>
            <li>
              After Do-Not-Disturb: {count(forecast.afterDnd)} ({count(forecast.delayedByDnd)} delayed)
            </li>
          </ol>
          {forecast.notes.map((note) => (
            <p class="hint" key={note}>
              {note}
            </p>
          ))}
        </>
      )}
    </Card>
  );
}

function RunsTable({ runs }: { runs: CampaignRuns }) {
  return (
    <Card title={runs.by === 'day' ? 'By day' : 'Runs'} id="runs">
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Each run with its progress and rates</caption>
          <thead>
            <tr>
              <th scope="col">{runs.by === 'day' ? 'Day' : 'Run'}</th>
              <th scope="col" class="num">
                Audience
              </th>
              <th scope="col" class="num">
                Queued
              </th>
              <th scope="col" class="num">
                Sent
              </th>
              <th scope="col" class="num">
                Viewed
              </th>
              <th scope="col" class="num">
                Clicked
              </th>
              <th scope="col" class="num">
                CTR
              </th>
              <th scope="col" class="num">
                Conversions
              </th>
              <th scope="col" class="num">
                Revenue
              </th>
              <th scope="col">Settled</th>
            </tr>
          </thead>
          <tbody>
            {runs.runs.map((run) => (
              <tr key={run.occurrence}>
                <th scope="row">{runs.by === 'day' ? run.occurrence : dateTime(run.occurrence)}</th>
                <td class="num">{count(run.progress.audience)}</td>
                <td class="num">{count(run.progress.queued + run.progress.inProgress)}</td>
                <td class="num">{count(run.sent)}</td>
                <td class="num">{count(run.viewed)}</td>
                <td class="num">{count(run.clicked)}</td>
                <td class="num">{percent(run.rates.clickThrough)}</td>
                <td class="num">{count(run.conversions.recipients.conversions)}</td>
                <td class="num">{money(run.conversions.recipients.revenue)}</td>
                <td>{run.progress.settledAt ? dateTime(run.progress.settledAt) : 'in progress'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

const BROWSER_NAMES: Record<BrowserRow['browser'], string> = {
  chrome: 'Chrome',
  firefox: 'Firefox',
  edge: 'Edge',
  safari: 'Safari',
  other: 'Other',
};

function BrowsersTable({ rows }: { rows: BrowserRow[] }) {
  return (
    <Card title="By browser" id="browsers">
      {rows.length === 0 ? (
        <p>No browser has been sent this campaign yet.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Figures by browser</caption>
          <thead>
            <tr>
              <th scope="col">Browser</th>
              <th scope="col" class="num">
                Users
              </th>
              <th scope="col" class="num">
                Sent
              </th>
              <th scope="col" class="num">
                Failed
              </th>
              <th scope="col" class="num">
                Viewed
              </th>
              <th scope="col" class="num">
                Clicked
              </th>
              <th scope="col" class="num">
                CTR
              </th>
              <th scope="col" class="num">
                Conversions
              </th>
              <th scope="col" class="num">
                Revenue
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={`${row.browser}-${row.target}`}>
                <th scope="row">
                  {BROWSER_NAMES[row.browser]}
                  {row.target === 'safari-legacy' ? ' (legacy)' : ''}
                </th>
                <td class="num">{count(row.users)}</td>
                <td class="num">{count(row.sent)}</td>
                <td class="num">{count(row.failed)}</td>
                <td class="num">{count(row.viewed)}</td>
                <td class="num">{count(row.clicked)}</td>
                <td class="num">{percent(row.clickThroughRate)}</td>
                <td class="num">{count(row.conversions)}</td>
                <td class="num">{money(row.revenue)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
