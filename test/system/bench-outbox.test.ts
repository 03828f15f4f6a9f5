/**
 * `npm run bench:outbox` at a small N: every phase runs end to end through a real relay process,
 * NATS JetStream and the notifications consumer, and its audit holds (every event applied once,
 * one email each, one stream message each, each aggregate in order). Never a timing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PG_ADMIN_URL } from '../../src/testkit/pg';

const ROOT = path.join(__dirname, '..', '..');

interface Audit {
  events: number;
  inbox: number;
  emails: number;
  streamMessages: number;
  outOfOrder: number;
}

it('prints one JSON line whose every phase is audited exactly once and in order', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'outbox.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: {
      ...process.env,
      BENCH_EVENTS: '120',
      BENCH_RATE: '200',
      BENCH_BACKLOG: '600',
      BENCH_AGGREGATES: '20',
      DATABASE_URL: PG_ADMIN_URL,
      NATS_URL: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    },
  });
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, { audit?: Audit }>;
  const audits = ['writersPhase', 'live', 'backlog1', 'backlog2'].map((phase) => result[phase]?.audit);
  // Events accumulate over the phases: 2 × 120 (wake: with and without NOTIFY), 120 (writers),
  // 120 (live), 600 (backlog, one relay), 600 (backlog, two relays).
  expect(audits.map((a) => a?.events)).toEqual([360, 480, 1080, 1680]);
  for (const audit of audits) {
    expect(audit).toEqual({
      events: audit?.events,
      inbox: audit?.events,
      emails: audit?.events,
      streamMessages: audit?.events,
      outOfOrder: 0,
    });
  }
}, 360_000);
