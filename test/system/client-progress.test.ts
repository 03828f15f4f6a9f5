/** The client script as a user watches it: `book --wait` progress step by step, `list --status` via visibility. */
import { randomUUID } from 'node:crypto';
import { useClientHarness } from '../support/client-harness';
import { sampleTrip } from '../../src/testkit/sample-trip';

const { client, tripFile } = useClientHarness({ TEMPORAL_UI_URL: 'http://ui.test' });

const ids = { ok: `ok-${randomUUID()}`, rolledBack: `rb-${randomUUID()}` };

describe('client book --wait and list --status', () => {
  it('prints each step as it completes and ends with the Web UI link of the run', async () => {
    const { code, out } = await client('book', tripFile(sampleTrip()), '--id', ids.ok, '--wait');
    expect(code).toBe(0);
    const done = out.filter((l) => /✔ \w+ +DONE/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(done).toEqual(['flight', 'hotel', 'car', 'payment']);
    expect(out).toContain('trip CONFIRMED');
    expect(out[out.length - 1]).toMatch(
      new RegExp(`^  web UI: http://ui\\.test/namespaces/default/workflows/trip-${ids.ok}/[0-9a-f-]+/history$`),
    );
  });

  it('shows the failed step and each compensation, in reverse order, for a rolled-back trip', async () => {
    const { code, out } = await client(
      'book',
      tripFile(sampleTrip({ payment: { token: 'tok_declined' } })),
      '--id',
      ids.rolledBack,
      '--wait',
    );
    expect(code).toBe(0);
    const failedAt = out.findIndex((l) => /✖ payment +FAILED/.test(l));
    expect(failedAt).toBeGreaterThan(-1);
    const undone = out.filter((l) => /↩ \w+ +COMPENSATED/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(undone).toEqual(['payment', 'car', 'hotel', 'flight']);
    expect(out.indexOf('trip COMPENSATED')).toBeGreaterThan(failedAt);
  });

  it('keeps --wait --json to one JSON object on stdout, progress on stderr', async () => {
    const { code, out, err } = await client(
      'book',
      tripFile(sampleTrip()),
      '--id',
      `json-${randomUUID()}`,
      '--wait',
      '--json',
    );
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0] as string)).toMatchObject({ status: 'CONFIRMED' });
    expect(err).toContain('trip CONFIRMED');
  });

  it('lists only the trips in the given status through the TripStatus search attribute', async () => {
    let out: string[] = [];
    for (let i = 0; i < 50; i++) {
      out = (await client('list', '--status', 'COMPENSATED')).out.join('\n').split('\n');
      if (out.some((l) => l.includes(ids.rolledBack))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out[0]).toMatch(/^TRIP\s+STATUS/);
    expect(out.slice(2).join('\n')).toContain(`trip-${ids.rolledBack}`);
    expect(out.join('\n')).not.toContain(`trip-${ids.ok}`);
    const json = await client('list', '--status', 'CONFIRMED', '--json');
    const rows = JSON.parse(json.out[0] as string) as Array<{ tripId: string; status: string }>;
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'CONFIRMED'));
    expect(rows.map((r) => r.tripId)).toContain(`trip-${ids.ok}`);
  });
});
