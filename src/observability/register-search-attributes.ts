/**
 * Registers the trip search attributes (TripStatus, CustomerId, TripStep: Keyword) on a
 * self-hosted Temporal cluster through its operator service; already-registered ones are left
 * alone. `npx tsx src/observability/register-search-attributes.ts` uses the usual TEMPORAL_* env.
 * (The dev server gets them from `--search-attribute` at start; on Temporal Cloud add them with
 * `tcld namespace search-attributes add` or in the Cloud UI.)
 */
import { Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { TRIP_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { connectionOptions } from '../temporal/connection';

type AddRequest = Parameters<Connection['operatorService']['addSearchAttributes']>[0];
/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const KEYWORD = 2;

/** Adds the missing trip search attributes; returns the names it added. */
export async function registerTripSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = TRIP_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return [];
  const searchAttributes: NonNullable<AddRequest['searchAttributes']> = {};
  for (const key of missing) searchAttributes[key.name] = KEYWORD;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((key) => key.name);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10 seconds' });
  try {
    const added = await registerTripSearchAttributes(connection, config.temporal.namespace);
    console.log(
      JSON.stringify({ msg: 'trip search attributes registered', namespace: config.temporal.namespace, added }),
    );
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
