import { DateTime } from 'luxon';
import type { Campaign } from '../../../model/index.js';
import type { CounterSpec } from '../../../ports/index.js';
import type { EngineContext } from '../../context.js';
import { type CapPeriod, capPeriods, capSpec } from './caps.js';
import { checkDnd, type DndCheck } from './dnd.js';
import { throttleSpec } from './throttle.js';

/** What a batch needs to know about one time zone at the batch's instant. */
export interface ZoneFacts {
  /** The local time, for the decision log ("2030-01-01 09:00 GMT+1"). */
  localTime: string;
  /** Whether Do-Not-Disturb holds there now; null without a DND window. */
  dnd: DndCheck | null;
  /** The global caps' counting periods there; none when the campaign ignores them. */
  caps: CapPeriod[];
}

/**
 * The zone-dependent facts of one batch, worked out once per zone: the
 * local time, the DND window and the caps' periods depend only on the zone
 * and the instant, and luxon costs tens of microseconds a call, while a
 * batch of hundreds of users spans a handful of zones.
 */
export function zoneFactsAt(ctx: EngineContext, campaign: Campaign, now: Date) {
  const dnd = campaign.when.dnd ?? ctx.dnd;
  const known = new Map<string, ZoneFacts>();
  const factsOf = (zone: string): ZoneFacts => {
    let facts = known.get(zone);
    if (!facts) {
      facts = {
        localTime: DateTime.fromJSDate(now, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ'),
        dnd: dnd ? checkDnd(dnd, zone, now) : null,
        caps: campaign.setup.ignoreGlobalLimits ? [] : capPeriods(ctx.limits, zone, now),
      };
      known.set(zone, facts);
    }
    return facts;
  };
  const throttle =
    campaign.when.throttlePerMinute === undefined
      ? null
      : throttleSpec(campaign.id, campaign.when.throttlePerMinute, now);
  return {
    dndWindow: dnd,
    of: factsOf,
    /**
     * A user's counters, in their caps zone (`capZoneOf`): caps first, so a user over their cap is
     * skipped as capped rather than delayed by the throttle.
     */
    counterSpecs(userId: string, capZone: string): CounterSpec[] {
      const specs = factsOf(capZone).caps.map((period) => capSpec(period, userId));
      if (throttle) specs.push(throttle);
      return specs;
    },
  };
}
