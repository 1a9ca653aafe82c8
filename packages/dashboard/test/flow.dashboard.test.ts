/**
 * The dashboard as a marketer uses it: Debian's Chromium (playwright-core) on the example app
 * (createApp, as `npm start` mounts it at /admin) over a real Postgres, delivering through the
 * loopback push service, which decrypts what it receives. Screenshots of the main screens go to
 * packages/dashboard/screenshots (shown in the package README).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { createHerald, generateVapidKeys, type Herald, silentLogger, webPush } from '@herald/core';
import { createDevPushService, type DevPushService } from '@herald/core/dev';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../examples/express/src/app.js';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));
const PUBLIC_DIR = fileURLToPath(new URL('../../../examples/express/public', import.meta.url));
const ADMIN_TOKEN = `dashboard-${randomBytes(12).toString('hex')}`;
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function postgresUrl(): string {
  const url = process.env.HERALD_TEST_PG_URL;
  if (!url) throw new Error('HERALD_TEST_PG_URL is not set: run npm run test:dashboard (it starts Postgres)');
  return url;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The browser runs in UTC, so a datetime-local value is the instant's UTC wall time. */
const localInput = (date: Date) => date.toISOString().slice(0, 19);

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated over DevTools, not injected as an inline <script>, which the dashboard's CSP refuses.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (
            context: Document,
          ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.targets.join(', ')}`);
}

/** Presses Tab until the focused element matches, as a keyboard user would (never clicks). */
async function tabTo(page: Page, description: string, matches: () => boolean, maxPresses = 120) {
  for (let presses = 0; presses < maxPresses; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(matches)) return;
  }
  throw new Error(`Tab never reached ${description}`);
}

const statusOf = (page: Page) => page.locator('.page-head .badge').first().textContent();

describe('the dashboard in Chromium, on the example app and a real Postgres', () => {
  let pool: pg.Pool;
  let schema: string;
  let herald: Herald;
  let pushService: DevPushService;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  const endpoints = new Map<string, string>();
  const pageProblems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    pool = new pg.Pool({ connectionString: postgresUrl(), max: 6 });
    pool.on('error', () => undefined);
    schema = `t_dashboard_${randomBytes(4).toString('hex')}`;
    await migrate({ client: pool, schema });
    // The server listens first: its origin is where the engine's default icons are served from.
    server = createServer();
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pushService = createDevPushService();
    const pushUrl = (await pushService.start()).url;
    herald = createHerald({
      storage: postgresStorage({ client: pool, schema }),
      queue: postgresQueue({ client: pool, schema }),
      counters: postgresCounters({ client: pool, schema }),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      allowEndpoint: [pushUrl],
      iconBaseUrl: `${origin}/icons`,
      reportSecret: randomBytes(32),
      // One message a day per user: the warm-up campaign uses up capped-user's.
      limits: { perUser: { perDay: 1 } },
      logger: silentLogger,
      tuning: { pollIntervalMs: 200 },
    });
    const users = [
      { userId: 'qa-1', properties: { first_name: 'QA' }, test: true },
      { userId: 'user-1', properties: { first_name: 'Ada', plan: 'pro' } },
      { userId: 'user-2', properties: { first_name: 'Grace', plan: 'free' } },
      { userId: 'capped-user', properties: { first_name: 'Cap', plan: 'vip' } },
    ];
    for (const user of users) {
      await herald.profiles.upsert({ ...user, timezone: 'UTC' });
      const subscription = pushService.createSubscription();
      endpoints.set(user.userId, subscription.endpoint);
      await herald.subscriptions.add({ userId: user.userId, subscription });
    }
    await herald.segments.create({
      name: 'Paying users',
      definition: { type: 'property', condition: { op: 'in', property: 'plan', values: ['pro', 'vip'] } },
    });
    const warmUp = await herald.campaigns.create({
      name: 'Warm-up for VIPs',
      labels: ['vip'],
      when: { schedule: { type: 'once', at: new Date(Date.now() + 1000) } },
      who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'vip' } } },
      what: { title: 'Welcome', deeplink: 'https://example.com/' },
    });
    await herald.campaigns.schedule(warmUp.id);
    herald.start();
    await waitFor(
      'the warm-up message',
      async () => pushService.receivedFor(endpoints.get('capped-user') as string).length > 0,
    );

    const app = createApp({
      herald,
      adminToken: ADMIN_TOKEN,
      vapidPublicKey: 'unused-by-the-dashboard',
      publicDir: PUBLIC_DIR,
    });
    server.on('request', app);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Nothing but loopback: every other host name fails to resolve.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: ADMIN_TOKEN },
      timezoneId: 'UTC',
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    // Script errors and CSP refusals; an API answer the page expects (a 400 with field errors, a 404)
    // is logged by Chromium as "Failed to load resource" and is not a problem.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageProblems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await pushService?.stop();
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('lists campaigns, filters them, and passes an accessibility scan', async () => {
    const response = await page.goto(`${origin}/admin/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('table.campaigns').waitFor();
    const row = page.locator('table.campaigns tbody tr', { hasText: 'Warm-up for VIPs' });
    await expect.poll(() => row.locator('td.num').first().textContent()).toBe('1');
    expect(await row.locator('.badge').first().textContent()).toBe('completed');
    await page.getByLabel('Status').selectOption('draft');
    await expect
      .poll(() => page.locator('table.campaigns, p:text("No campaigns match.")').first().textContent())
      .toContain('No campaigns match.');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Search by name').fill('warm');
    await page.getByRole('button', { name: 'Search' }).click();
    await row.waitFor();
    expect(page.url()).toContain('q=warm');
    expect(await seriousViolations(page)).toEqual([]);
    expect(pageProblems).toEqual([]);
  });

  let campaignPath = '';

  it('creates a campaign through the form, with the API’s field error shown at the field', async () => {
    await page.goto(`${origin}/admin/#/campaigns`);
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Spring sale');
    await page.getByLabel('Labels').fill('promo, spring');
    await page.getByLabel('Send at (your local time)').fill(localInput(new Date(Date.now() + 25_000)));
    await page.getByRole('button', { name: 'Add property condition' }).click();
    await page.locator('#who-rule-0-property').fill('plan');
    await page.locator('#who-rule-0-op').selectOption('exists');
    await page.getByRole('button', { name: 'Estimate reach' }).click();
    await expect
      .poll(() => page.locator('.reach [role=status]').textContent())
      .toContain('3 users match; 3 reachable');
    await page.getByLabel('Title', { exact: true }).fill('Spring sale for ');
    await page.getByLabel('Insert property into title').fill('first_name');
    await page
      .locator('.personalise', { hasText: 'into title' })
      .getByRole('button', { name: 'Insert' })
      .click();
    await page.getByLabel('Body', { exact: true }).fill('20% off until Sunday 🌷');
    // Refused by the API (not http(s)): the error must appear next to the deeplink field.
    await page.getByLabel('Deeplink', { exact: true }).fill('ftp://example.com/sale');
    await page.getByLabel('Image URL (optional)').fill(`${origin}/icons/gift.svg`);
    await page.getByLabel('Icon', { exact: true }).selectOption('gift');
    await page.getByRole('button', { name: 'Add button' }).click();
    await page.getByLabel('Button 1 title').fill('Shop now');
    await page.getByRole('button', { name: 'Create draft' }).click();

    const deeplinkField = page.locator('[data-path="what.deeplink"]');
    await deeplinkField.locator('.field-error').waitFor();
    expect(await deeplinkField.locator('.field-error').textContent()).toMatch(/http/i);
    expect(await page.getByLabel('Deeplink', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-what-deeplink');
    expect(await page.locator('.issue-summary').textContent()).toContain('1 field to fix');
    await page.screenshot({ path: `${SCREENSHOTS}form-field-error.png`, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('Deeplink', { exact: true }).fill('https://example.com/sale');
    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('heading', { name: 'Spring sale' }).waitFor();
    campaignPath = new URL(page.url()).hash;
    expect(campaignPath).toMatch(/^#\/campaigns\/[\w-]+$/);
    expect(await statusOf(page)).toBe('draft');
    const id = decodeURIComponent(campaignPath.split('/')[2] as string);
    const stored = await herald.campaigns.get(id);
    expect(stored?.what.title).toBe('Spring sale for {{ user.first_name | default: "" }}');
    expect(stored?.labels).toEqual(['promo', 'spring']);
    expect(stored?.who).toEqual({
      segment: { type: 'property', condition: { op: 'exists', property: 'plan' } },
    });
  });

  it('previews for Chrome, Firefox and Safari side by side and sends a test the push service receives', async () => {
    await page.getByLabel('Test profile (user id)').fill('qa-1');
    await page.getByRole('button', { name: 'Preview' }).click();
    const chrome = page.locator('.notification-chrome');
    await chrome.waitFor();
    expect(await chrome.locator('.notification-title').textContent()).toBe('Spring sale for QA');
    expect(await chrome.locator('.notification-image').count()).toBe(1);
    expect(await chrome.locator('.notification-action').textContent()).toBe('Shop now');
    expect(await page.locator('.notification-firefox .notification-image').count()).toBe(0);
    const safari = page.locator('.notification-safari');
    expect(await safari.textContent()).toContain('Safari drops the icon, image, buttons.');
    expect(await safari.locator('.notification-action').count()).toBe(0);
    await page.locator('#preview').screenshot({ path: `${SCREENSHOTS}preview.png` });

    const before = pushService.receivedFor(endpoints.get('qa-1') as string).length;
    await page.getByRole('button', { name: 'Send test' }).click();
    await expect
      .poll(() => page.locator('#preview [role=status]').textContent())
      .toContain('Test sent: 1 message');
    const received = pushService.receivedFor(endpoints.get('qa-1') as string);
    expect(received.length).toBe(before + 1);
    const payload = JSON.parse(received.at(-1)?.plaintext ?? '{}');
    expect(JSON.stringify(payload)).toContain('Spring sale for QA');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('schedules, pauses, resumes, lets it run, and shows the stats, skips and the plot update', async () => {
    await page.getByRole('button', { name: 'Schedule' }).click();
    await expect.poll(() => statusOf(page)).toBe('scheduled');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => statusOf(page)).toBe('paused');
    expect(await page.locator('[role=status]').first().textContent()).toBe('Campaign paused.');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => statusOf(page)).toBe('scheduled');

    // The page polls while the campaign is live: no reload needed to see it run.
    const sent = page.locator('.metric', { hasText: 'Sent' }).locator('.metric-value');
    await expect.poll(() => sent.textContent(), { timeout: 90_000, interval: 500 }).toBe('2');
    await expect.poll(() => statusOf(page), { timeout: 30_000 }).toBe('completed');
    const capped = page.locator('#skips tr[data-reason="capped"] td');
    await expect.poll(() => capped.textContent()).toBe('1');
    const plot = page.locator('.plot [data-points]');
    await expect.poll(async () => Number(await plot.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await plot.getAttribute('aria-label')).toContain('Sent 2');
    expect(await page.locator('.plot canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#runs tbody tr').count()).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}campaign-stats.png`, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('explains why a capped user did not get the campaign', async () => {
    await page.getByLabel('User id', { exact: true }).fill('capped-user');
    await page.getByRole('button', { name: 'Explain' }).click();
    const explanation = page.locator('.explanation');
    await explanation.waitFor();
    expect(await explanation.textContent()).toMatch(/Global caps now: today 1\/1/);
    expect(await explanation.locator('ol.timeline').textContent()).toContain('Skipped: Capped');
    await page.locator('#explain').screenshot({ path: `${SCREENSHOTS}explain.png` });
  });

  it('shows saved segments with their reach', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
    const row = page.locator('tbody tr', { hasText: 'Paying users' });
    await expect.poll(() => row.textContent()).toContain('2 users, 2 reachable');
    await page.screenshot({ path: `${SCREENSHOTS}segments.png` });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('runs the main flow by keyboard alone (create, schedule, pause), then edits the paused campaign', async () => {
    // A fresh load (not a hash change), so the first Tab starts at the top of the page.
    await page.goto('about:blank');
    await page.goto(`${origin}/admin/`);
    await page.locator('table.campaigns').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await tabTo(page, 'New campaign', () => document.activeElement?.textContent === 'New campaign');
    await page.keyboard.press('Enter');
    // A new screen puts focus on its heading.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('New campaign');
    await tabTo(page, 'the name field', () => document.activeElement?.id === 'field-name');
    await page.keyboard.type('Typed by keyboard');
    await tabTo(page, 'the title field', () => document.activeElement?.id === 'field-what-title');
    await page.keyboard.type('Hello ');
    // `@` jumps to the property picker; Tab to its Insert button and press it.
    await page.keyboard.type('@');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('personalise-title');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await tabTo(page, 'the deeplink field', () => document.activeElement?.id === 'field-what-deeplink');
    await page.keyboard.type('https://example.com/keyboard');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Typed by keyboard' }).waitFor();
    expect(await statusOf(page)).toBe('draft');
    await tabTo(page, 'Schedule', () => document.activeElement?.textContent === 'Schedule');
    await page.keyboard.press('Enter');
    await expect.poll(() => statusOf(page)).toBe('scheduled');
    await tabTo(page, 'Pause', () => document.activeElement?.textContent === 'Pause');
    await page.keyboard.press('Enter');
    await expect.poll(() => statusOf(page)).toBe('paused');
    const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2] as string);
    const stored = await herald.campaigns.get(id);
    expect(stored.status).toBe('paused');
    expect(stored.what.title).toBe('Hello {{ user.first_name | default: "" }}');

    // Edit the paused campaign: the form comes back filled from the stored campaign.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Typed by keyboard' }).waitFor();
    expect(await page.getByLabel('Deeplink', { exact: true }).inputValue()).toBe(
      'https://example.com/keyboard',
    );
    await page.getByLabel('Title', { exact: true }).fill('Edited while paused');
    await page.getByLabel('Labels').fill('edited');
    await page.getByRole('button', { name: 'Save changes' }).click();
    // Exact: the form's own heading, "Edit Typed by keyboard", would match a substring at once.
    await page.getByRole('heading', { name: 'Typed by keyboard', exact: true }).waitFor();
    const edited = await herald.campaigns.get(id);
    expect(edited.what.title).toBe('Edited while paused');
    expect(edited.labels).toEqual(['edited']);
    expect(edited.version).toBeGreaterThan(stored.version);
    expect(edited.when).toEqual(stored.when);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
    await expect.poll(() => page.locator('table.campaigns tbody tr').count()).toBe(3);
    await expect
      .poll(() =>
        page
          .locator('table.campaigns tbody tr', { hasText: 'Spring sale' })
          .locator('td.num')
          .first()
          .textContent(),
      )
      .toBe('2');
    await page.screenshot({ path: `${SCREENSHOTS}campaigns.png` });
    expect(pageProblems).toEqual([]);
  });
});
