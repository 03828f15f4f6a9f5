/** Connection settings for any Temporal cluster: the dev server, self-hosted with mTLS, or Temporal Cloud. */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { dataConverterFor } from './data-converter';

type TlsOptions = NonNullable<NativeConnectionOptions['tls']>;

function tlsOptions(config: Config): TlsOptions | undefined {
  const tls = config.temporal.tls;
  if (tls) {
    return {
      clientCertPair: { crt: fs.readFileSync(tls.certPath), key: fs.readFileSync(tls.keyPath) },
      serverRootCACertificate: tls.caPath ? fs.readFileSync(tls.caPath) : undefined,
      serverNameOverride: tls.serverName,
    };
  }
  // Temporal Cloud's API keys are only accepted over TLS.
  return config.temporal.apiKey ? {} : undefined;
}

/** Options shared by the client's Connection and the worker's NativeConnection. */
export function connectionOptions(config: Config) {
  return { address: config.temporal.address, tls: tlsOptions(config), apiKey: config.temporal.apiKey };
}

/**
 * A Temporal client for the configured namespace, with the payload codec (PAYLOAD_KEYS) and the
 * trace context passed on to the workflows it starts, signals and updates (docs/tracing.md).
 * Close it with `client.connection.close()`.
 */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10 seconds' });
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}
