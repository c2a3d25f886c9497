/**
 * `phonehome intercept`: the lab's side of TLS interception. `ca` prints where the lab's mitmproxy
 * CA is (made on first use) and its file name in Android's store; `install-ca` puts it in the system
 * store of rooted phones (harness/device/install-ca.ts), until they reboot.
 */
import { UsageError } from '../errors.js';
import type { Command } from './commander.js';

interface InterceptCliOptions {
  confdir?: string;
  device?: string[];
  adbHost: string;
  adbPort?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('intercept')
    .summary("TLS interception's CA: where it is, and installing it on rooted phones")
    .description(
      "TLS interception (phonehome run --intercept mitmproxy) reads inside a phone's TLS when the phone trusts " +
        "the lab's mitmproxy CA as a system CA. These commands show the CA and install it (root needed).",
    );
  cmd
    .command('ca')
    .description("print the lab's CA certificate file and its name in Android's store (<hash>.0)")
    .option('--confdir <dir>', "mitmproxy's folder (default: ~/.local/share/phonehome/mitmproxy)")
    .action(async (o: InterceptCliOptions) => {
      const { defaultConfdir, ensureCa, subjectHashOld } = await import('../mitm/mitmproxy.js');
      const cert = await ensureCa({ confdir: o.confdir ?? defaultConfdir(), mitmdump: 'mitmdump' }).catch(
        (err: Error) => {
          throw new UsageError(`${err.message} (make setup installs mitmproxy)`);
        },
      );
      process.stdout.write(`${cert}\n${await subjectHashOld(cert)}.0\n`);
    });
  cmd
    .command('install-ca')
    .description(
      "put the lab's CA in the system trust store of each attached phone (or --device), until it reboots; needs a rooted phone",
    )
    .option('--confdir <dir>', "mitmproxy's folder (default: ~/.local/share/phonehome/mitmproxy)")
    .option('--device <serial...>', 'only these phones (adb serials)')
    .option('--adb-host <host>', 'adb server host', '127.0.0.1')
    .option('--adb-port <port>', 'adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)')
    .action(async (o: InterceptCliOptions) => {
      process.exitCode = await installAction(o);
    });
}

async function installAction(o: InterceptCliOptions): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const { defaultConfdir, ensureCa, subjectHashOld } = await import('../mitm/mitmproxy.js');
  const { ensureAdbServer } = await import('../device/adb-server.js');
  const { discoverDevices } = await import('../device/discovery.js');
  const { readFacts } = await import('../device/facts.js');
  const { installCa } = await import('../device/install-ca.js');
  const { positiveInt } = await import('../lab/settings.js');
  const { terminalSafe } = await import('../format/terminal-text.js');
  const { fingerprintKey, phoneLabel } = await import('../identifiers/mask.js');
  const key = fingerprintKey();
  const cert = await ensureCa({ confdir: o.confdir ?? defaultConfdir(), mitmdump: 'mitmdump' }).catch(
    (err: Error) => {
      throw new UsageError(`${err.message} (make setup installs mitmproxy)`);
    },
  );
  const name = `${await subjectHashOld(cert)}.0`;
  const pem = await readFile(cert, 'utf8');
  const client = await ensureAdbServer({
    host: o.adbHost,
    port: positiveInt('--adb-port', o.adbPort ?? process.env.ANDROID_ADB_SERVER_PORT ?? '5037', 1),
    bin: process.env.PHONEHOME_ADB ?? 'adb',
  });
  const found = (await discoverDevices(client, { deadlineMs: 10_000 })).filter((d) => d.usable);
  const want = o.device?.flatMap((d) => d.split(','));
  const serials = found.map((d) => d.serial).filter((s) => !want || want.includes(s));
  for (const w of want ?? [])
    if (!serials.includes(w)) throw new UsageError(`no usable phone ${w} (see phonehome devices)`);
  if (serials.length === 0) throw new UsageError('no usable phone attached (see phonehome devices)');
  let failed = 0;
  for (const serial of serials) {
    const device = client.device(serial);
    // A USB phone's serial is one of its identifiers: shown masked, as everywhere in phonehome.
    const shown = phoneLabel(serial, key);
    try {
      const facts = await readFacts(device, { deadlineMs: 15_000 });
      const r = await installCa(device, pem, name, facts.sdk, { deadlineMs: 30_000 });
      process.stdout.write(
        `${terminalSafe(shown)}: ${r.installed ? 'installed' : 'already there:'} ${r.file}${r.installed ? ' (until the phone reboots)' : ''}\n`,
      );
    } catch (err) {
      failed += 1;
      process.stderr.write(`${terminalSafe(shown)}: ${terminalSafe((err as Error).message)}\n`);
    }
  }
  return failed ? 1 : 0;
}
