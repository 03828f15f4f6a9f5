import { createTestDatabase } from '../src/testkit/pg';
import { openDatabase } from '../src/db/knex';
import { paymentMigrations } from '../src/services/payment/payment-app';
import { claimBatch } from '../src/relay/claim-batch';
import { publishChains } from '../src/relay/publish-chains';
import { markBatch } from '../src/relay/mark-batch';
import { createNatsTransport } from '../src/relay/nats-transport';
async function main() {
  const pg = await createTestDatabase('prof');
  const db = await openDatabase(
    'payment',
    { dataDir: '/tmp/ob', databaseUrl: pg.url },
    { migrations: paymentMigrations },
  );
  const id = Math.random().toString(36).slice(2);
  const t0 = await createNatsTransport({
    natsUrl: 'nats://127.0.0.1:4222',
    stream: `PROF_${id}`,
    subjectPrefix: `prof${id}.ev`,
  });
  try {
    const N = Number(process.env.N ?? 20000);
    await db.raw(
      `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, attempts, next_attempt_at)
      SELECT gen_random_uuid(), 'charge', 'agg-' || (n % 200), 'ChargeRefunded', '{"tripId":"x"}', 0, 0, 0 FROM generate_series(1, ?) n`,
      [N],
    );
    await db.raw('ANALYZE outbox');
    const B = Number(process.env.B ?? 500);
    const start = Date.now();
    let total = 0;
    const tm = { claim: 0, pub: 0, mark: 0, commit: 0 };
    for (let i = 0; i < 10; i++) {
      let t = Date.now();
      let c2 = 0;
      await db.transaction(async (trx) => {
        const chains = await claimBatch(trx, B);
        tm.claim += Date.now() - t;
        t = Date.now();
        const out = await publishChains('payment', chains, t0, 256);
        tm.pub += Date.now() - t;
        t = Date.now();
        await markBatch(trx, chains.flat(), out, { maxAttempts: 5, backoffBaseMs: 1, backoffMaxMs: 2 });
        tm.mark += Date.now() - t;
        t = Date.now();
        total += out.length;
        c2 = chains.length;
      });
      tm.commit += Date.now() - t;
      console.log(i, c2, JSON.stringify(tm));
    }
    console.log('rate', Math.round(total / ((Date.now() - start) / 1000)));
  } finally {
    await t0.close();
    await db.destroy();
    await pg.drop();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
