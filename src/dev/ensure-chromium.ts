/**
 * Makes sure Debian's chromium is installed for the browser tests (playwright-core drives it; it
 * never downloads browsers itself). Installs it with apt-get when missing, refreshing the package
 * lists first only if the first attempt fails.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep headless chromium quiet and offline inside containers and CI. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function aptGet(args: string[]): void {
  const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['sudo', '-n'] : [];
  const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
  execFileSync(cmd as string, rest, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Returns the chromium executable path, installing Debian's `chromium` package when it is missing. */
export function ensureChromium(
  log: (msg: string) => void = (m) => process.stderr.write(`[ensure-chromium] ${m}\n`),
): string {
  if (fs.existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  log(`${CHROMIUM_PATH} missing: apt-get install -y chromium`);
  try {
    aptGet(['install', '-y', '--no-install-recommends', 'chromium']);
  } catch {
    log('install failed: apt-get update, then retry');
    aptGet(['update']);
    aptGet(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} does not exist`);
  return CHROMIUM_PATH;
}

if (require.main === module) {
  console.log(ensureChromium());
}
