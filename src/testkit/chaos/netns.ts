/**
 * The booking services' own network: a network namespace joined to this host by a veth pair, so
 * a chaos run can cut the services off (link down) for some seconds. Needs root and iproute2;
 * `available()` says why not when it cannot be had. Packet loss and delay would need the netem
 * queueing discipline, which not every kernel has: `netemAvailable` tells.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export interface ServiceNetwork {
  name: string;
  /** This host's end of the link (reach the services here). */
  hostAddress: string;
  /** The services' address inside the namespace. */
  serviceAddress: string;
  /** The command prefix that runs a program inside the namespace. */
  exec: string[];
  netemAvailable: boolean;
  partition(): void;
  heal(): void;
  destroy(): void;
}

/** Why a service network cannot be made here, or undefined when it can. */
export function unavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_NET_ADMIN';
  try {
    ip('netns', 'list');
    return undefined;
  } catch (err) {
    return `ip netns does not work here: ${String(err)}`;
  }
}

export function createServiceNetwork(): ServiceNetwork {
  const id = randomBytes(3).toString('hex');
  const name = `tripsaga-${id}`;
  const hostIf = `ts${id}h`;
  const nsIf = `ts${id}n`;
  const octet = randomBytes(1)[0] as number;
  const hostAddress = `10.213.${octet}.1`;
  const serviceAddress = `10.213.${octet}.2`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${serviceAddress}/30`, 'dev', nsIf);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    try {
      ip('link', 'del', hostIf);
    } catch {
      // never created
    }
    ip('netns', 'del', name);
    throw err;
  }
  let netemAvailable = true;
  try {
    ip('netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', nsIf, 'root', 'netem', 'delay', '0ms');
    ip('netns', 'exec', name, 'tc', 'qdisc', 'del', 'dev', nsIf, 'root');
  } catch {
    netemAvailable = false;
  }
  return {
    name,
    hostAddress,
    serviceAddress,
    exec: ['ip', 'netns', 'exec', name],
    netemAvailable,
    partition: () => ip('link', 'set', hostIf, 'down'),
    heal: () => ip('link', 'set', hostIf, 'up'),
    destroy: () => {
      try {
        ip('link', 'del', hostIf);
      } catch {
        // gone with the namespace
      }
      ip('netns', 'del', name);
    },
  };
}
