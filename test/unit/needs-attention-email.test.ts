/** A trip that needs a human reaches one: TripNeedsAttention becomes one email to the ops address. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_OPS_EMAIL, loadConfig } from '../../src/config';
import { openDatabase, type Db } from '../../src/db/knex';
import type { EventEnvelope } from '../../src/outbox/event';
import { applyEvent } from '../../src/services/notifications/apply-event';
import { emailForEvent } from '../../src/services/notifications/email-for-event';
import { notificationsMigrations } from '../../src/services/notifications/migrations';

const needsAttention = (tripId = `trip-${randomUUID()}`): EventEnvelope => ({
  id: randomUUID(),
  source: 'api',
  aggregateType: 'trip',
  aggregateId: tripId,
  type: 'TripNeedsAttention',
  payload: {
    tripId,
    customerId: 'cust-42',
    status: 'NEEDS_ATTENTION',
    reason: { step: 'car', type: 'SoldOutError', message: 'car sold out' },
    steps: {
      flight: { status: 'COMPENSATION_FAILED', error: { type: 'InvalidRequestError', message: 'flight answered 400' } },
      hotel: { status: 'COMPENSATED' },
    },
  },
  createdAt: Date.now(),
});

it('writes to the ops address, naming the trip, the customer and the undo that failed', () => {
  const event = needsAttention();
  const email = emailForEvent(event, { opsEmail: 'oncall@example.org' });
  expect(email).toMatchObject({ kind: 'needs-attention', recipient: 'oncall@example.org', tripId: event.aggregateId });
  expect(email?.subject).toMatch(new RegExp(`NEEDS ATTENTION.*${event.aggregateId}`));
  expect(email?.body).toMatch(/cust-42/);
  expect(email?.body).toMatch(/flight: flight answered 400/);
  // No customer email for it: what went wrong is for the operators to fix first.
  expect(email?.recipient).not.toMatch(/customers\.example/);
});

it('uses the default ops address when none is configured, and OPS_EMAIL overrides it', () => {
  expect(emailForEvent(needsAttention())?.recipient).toBe(DEFAULT_OPS_EMAIL);
  expect(loadConfig({}).notifications.opsEmail).toBe(DEFAULT_OPS_EMAIL);
  expect(loadConfig({ OPS_EMAIL: 'ops@corp.example' }).notifications.opsEmail).toBe('ops@corp.example');
  expect(() => loadConfig({ OPS_EMAIL: 'not an address' })).toThrow(/OPS_EMAIL/);
});

describe('applied by the notifications consumer', () => {
  let db: Db;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-ops-'));
  beforeAll(async () => {
    db = await openDatabase('notifications', { dataDir }, { migrations: notificationsMigrations });
  });
  afterAll(async () => {
    await db?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends one ops email per event, even when it is delivered twice', async () => {
    const event = needsAttention();
    expect(await applyEvent(db, event, { opsEmail: 'oncall@example.org' })).toBe('applied');
    expect(await applyEvent(db, event, { opsEmail: 'oncall@example.org' })).toBe('duplicate');
    const rows = await db('emails').where({ trip_id: event.aggregateId });
    expect(rows.map((r) => [r.kind, r.recipient])).toEqual([['needs-attention', 'oncall@example.org']]);
  });
});
