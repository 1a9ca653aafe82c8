import { z } from 'zod';

/** The browser a message went to, as stats break deliveries down (docs/CAMPAIGNS.md, "By browser"). */
export const Browser = z.enum(['chrome', 'firefox', 'edge', 'safari', 'other']);
export type Browser = z.infer<typeof Browser>;

/** How the message reached it: standard Web Push, or Safari's legacy website push over APNs. */
export const BrowserTarget = z.enum(['web-push', 'safari-legacy']);
export type BrowserTarget = z.infer<typeof BrowserTarget>;

/** A subscription's browser and target, classified when its delivery is recorded. */
export const BrowserClass = z.object({ name: Browser, target: BrowserTarget });
export type BrowserClass = z.infer<typeof BrowserClass>;
