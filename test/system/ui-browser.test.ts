/**
 * What a newcomer sees in the Temporal Web UI, checked in headless Chromium: a dev server with
 * its UI, one confirmed and one compensated trip, the list filtered by TripStatus, and the
 * compensated run showing its compensation activities with their summaries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../src/dev/ensure-chromium';
import { FailureType } from '../../src/shared/failures';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import { tripStatusQuery } from '../../src/shared/search-attributes';
import type { TripView } from '../../src/shared/trip';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { auditTrip, freePort, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { devServerEnv } from '../../src/testkit/temporal-env';

const OUT = path.join(PROJECT_ROOT, 'test-output');
let stack: Stack;
let temporal: TestWorkflowEnvironment;
let browser: Browser;
let uiUrl: string;
const confirmedId = `trip-ui-ok-${randomUUID().slice(0, 8)}`;
const compensatedId = `trip-ui-rollback-${randomUUID().slice(0, 8)}`;
let confirmed: TripView;
let compensated: TripView;

beforeAll(async () => {
  const executablePath = ensureChromium();
  fs.mkdirSync(OUT, { recursive: true });
  const uiPort = await freePort();
  temporal = await devServerEnv([], { uiPort });
  uiUrl = `http://127.0.0.1:${uiPort}`;
  stack = await startStack({ temporal });
  const book = (request: ReturnType<typeof sampleTrip>, id: string) =>
    stack.client.workflow.execute(bookTrip, {
      ...tripStartOptions(request, id, stack.config.temporal.taskQueue),
      args: [request],
    });
  confirmed = await book(sampleTrip(), confirmedId);
  compensated = await book(sampleTrip({ payment: { token: 'tok_declined' } }), compensatedId);
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await temporal?.teardown();
});

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return page;
}

/** The UI renders user markdown (summary, details) in sandboxed iframes: look in every frame. */
async function waitForTextInFrames(page: Page, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (
        (await frame
          .getByText(text)
          .count()
          .catch(() => 0)) > 0
      )
        return;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`"${text}" not shown on ${page.url()} within ${timeoutMs} ms`);
}

/** Activities whose payment is declined and whose hotel can never be cancelled: NEEDS_ATTENTION. */
const stuckActivities = {
  reserveFlight: async () => ({ id: 'f-1', status: 'ACTIVE' }),
  reserveHotel: async () => ({ id: 'h-1', status: 'ACTIVE' }),
  reserveCar: async () => ({ id: 'c-1', status: 'ACTIVE' }),
  capturePayment: async () => {
    throw ApplicationFailure.create({
      type: FailureType.PaymentDeclined,
      message: 'card declined',
      nonRetryable: true,
    });
  },
  cancelFlight: async () => ({ outcome: 'CANCELLED' }),
  cancelHotel: async () => {
    throw ApplicationFailure.create({
      type: FailureType.InvalidRequest,
      message: 'hotel refuses the cancel',
      nonRetryable: true,
    });
  },
  cancelCar: async () => ({ outcome: 'CANCELLED' }),
  refundPayment: async () => ({ outcome: 'NOTHING_TO_REFUND' }),
  recordTripOutcome: async () => undefined,
};

describe('the Temporal Web UI', () => {
  it('lists exactly the rolled-back trips for TripStatus = COMPENSATED (visibility query)', async () => {
    expect(confirmed.status).toBe('CONFIRMED');
    expect(compensated.status).toBe('COMPENSATED');
    expect(invariantViolations('COMPENSATED', await auditTrip(stack.config, compensatedId))).toEqual([]);
    const ids: string[] = [];
    // Visibility is eventually consistent: wait until the final upsert is indexed.
    for (let i = 0; i < 50 && !ids.includes(compensatedId); i++) {
      ids.length = 0;
      for await (const wf of stack.client.workflow.list({ query: tripStatusQuery('COMPENSATED') }))
        ids.push(wf.workflowId);
      if (!ids.includes(compensatedId)) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ids).toEqual([compensatedId]);
    const described = await stack.client.workflow.getHandle(compensatedId).describe();
    expect(described.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['TripStatus', 'COMPENSATED'],
        ['CustomerId', 'cust-42'],
        ['TripStep', 'payment'],
      ]),
    );
    expect(JSON.stringify(described.memo)).not.toContain('tok_declined');
  });

  it('filters the list by TripStatus and shows the compensated run, not the confirmed one', async () => {
    const query = encodeURIComponent(`TripStatus="COMPENSATED"`);
    const page = await openPage(`${uiUrl}/namespaces/default/workflows?query=${query}`);
    try {
      await page.getByText(compensatedId).first().waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(OUT, 'ui-list-compensated.png'), fullPage: true });
      expect(await page.getByText(confirmedId).count()).toBe(0);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('opens the compensated run and shows each compensation activity with its summary', async () => {
    const query = encodeURIComponent(`TripStatus="COMPENSATED"`);
    const page = await openPage(`${uiUrl}/namespaces/default/workflows?query=${query}`);
    try {
      await page.getByRole('link', { name: compensatedId }).first().click({ timeout: 60_000 });
      await page.waitForURL(new RegExp(`/workflows/${compensatedId}/`), { timeout: 30_000 });
      // Every activity of the run is a local activity: the timeline names each one, the
      // compensations included (the Web UI 2.54 shows local activities' summaries only in the
      // Event History).
      await page.getByText('cancelHotel').first().waitFor({ timeout: 60_000 });
      for (const name of ['reserveFlight', 'capturePayment', 'refundPayment', 'cancelCar', 'cancelFlight']) {
        expect(await page.getByText(name).count()).toBeGreaterThan(0);
      }
      await page.screenshot({ path: path.join(OUT, 'ui-run-compensated.png'), fullPage: true });
      // The confirmed trip's run never compensated: the filter kept it out of this page.
      expect(await page.getByText(confirmedId).count()).toBe(0);
      // The Event History shows each one's summary: the steps, the failed capture, and each
      // compensation marked as one.
      await page.getByText('Event History').first().click();
      for (const summary of [
        'Reserve flight UA100 on 2027-03-01',
        'Reserve car at JFK 2027-03-01→2027-03-03',
        'Capture payment USD 1,234.00',
        'Cancel hotel H-NYC-1 (compensation)',
        'Cancel car at JFK (compensation)',
        'Cancel flight UA100 (compensation)',
      ]) {
        await page.getByText(summary).first().waitFor({ timeout: 30_000 });
      }
      await page.screenshot({ path: path.join(OUT, 'ui-run-history.png'), fullPage: true });
      await page.getByText('Timeline').first().click();
      // The run's static summary and the live step list (current details) are under "User Metadata".
      await page.getByText('User Metadata').first().click();
      await waitForTextInFrames(page, 'UA100 2027-03-01 · H-NYC-1, 2 nights · car JFK · USD 1,234.00');
      await waitForTextInFrames(page, 'Trip COMPENSATED');
      await page.screenshot({ path: path.join(OUT, 'ui-run-metadata.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 120_000);

  it('makes a NEEDS_ATTENTION run unmistakable: its status, failure banner and step list say so', async () => {
    const taskQueue = `stuck-${randomUUID()}`;
    const workflowId = `trip-ui-stuck-${randomUUID().slice(0, 8)}`;
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      activities: stuckActivities,
    });
    const request = sampleTrip();
    // The worker stays up while the page is open: the UI's "current details" come from a query it answers.
    await worker.runUntil(async () => {
      const handle = await stack.client.workflow.start(bookTrip, {
        ...tripStartOptions(request, workflowId, taskQueue),
        args: [request],
      });
      await expect(handle.result()).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/^NEEDS ATTENTION/) },
      });
      const described = await handle.describe();
      expect(described.status.name).toBe('FAILED');
      expect(described.searchAttributes).toMatchObject({ TripStatus: ['NEEDS_ATTENTION'], TripStep: ['hotel'] });
      const query = encodeURIComponent(`TripStatus="NEEDS_ATTENTION"`);
      const page = await openPage(`${uiUrl}/namespaces/default/workflows?query=${query}`);
      try {
        await page.getByRole('link', { name: workflowId }).first().click({ timeout: 60_000 });
        await page
          .getByText(/NEEDS ATTENTION: compensation failed for good/)
          .first()
          .waitFor({ timeout: 60_000 });
        await page.screenshot({ path: path.join(OUT, 'ui-run-needs-attention.png'), fullPage: true });
        await page.getByText('User Metadata').first().click();
        await waitForTextInFrames(page, 'NEEDS ATTENTION: a compensation failed for good');
        await waitForTextInFrames(page, 'hotel: COMPENSATION_FAILED');
        await page.screenshot({ path: path.join(OUT, 'ui-run-needs-attention-details.png'), fullPage: true });
      } finally {
        await page.close();
      }
    });
  }, 180_000);
});
