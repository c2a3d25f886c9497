/**
 * The lab supervisor that `phonehome sim up` starts detached: `node sim-daemon.js STATE_DIR`.
 * It builds the lab network, starts the simulated internet, creates each phone with its network,
 * its adbd and its adb connection, and keeps them alive until SIGTERM. Everything is recorded in
 * STATE_DIR/state.json before it is created, so `sim down` can clean up after any crash.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Adbd, startAdbd } from './adb/adbd.js';
import { errorMessage } from './errors.js';
import { defaultCacheDir, ensureLabCert, startInternet } from './net/internet.js';
import { createLabCore, createPhoneNetwork, freeSubnetIndex, removeLab, withLabLock } from './net/lab.js';
import { labIdFor, planLab } from './net/lab-plan.js';
import { createPhoneNet, type LabPhoneNet } from './net/phone-net.js';
import { loadTrafficProfile } from './net/traffic-schema.js';
import { createSimPhone, loadPhoneProfile, type SimPhoneInstance } from './phone/sim-phone.js';
import { adb, adbConnect, adbDevices, isListening } from './sim-adb-server.js';
import { readSimUpConfig, type SimUpConfig } from './sim-config.js';
import { type ControlReply, type ControlRequest, startControl } from './sim-control.js';
import { type SimState, simProcess, writeSimState } from './sim-state.js';
import { uia2InstrumentHook } from './uia2/uia2-server.js';

/** A created phone as the supervisor keeps it. */
interface RunningPhone {
  net: LabPhoneNet;
  phone: SimPhoneInstance;
  adbd: Adbd;
}

/** Creates the phone (sim/phone/) and its adbd (sim/adb/) for a network. */
async function createPhone(
  cfg: SimUpConfig,
  name: string,
  dataDir: string,
  net: LabPhoneNet,
  copy: number,
): Promise<{ phone: SimPhoneInstance; model: string; adbd: Adbd }> {
  const loaded = await loadPhoneProfile(join(cfg.devicesDir, `${name}.yaml`));
  const profile = {
    ...loaded,
    ...(cfg.rooted ? { rooted: true } : {}),
    ...(cfg.simCard ? { sim: { ...loaded.sim, inserted: true } } : {}),
  };
  // Two phones of one model are two devices: the second and later get their own serial.
  const serial = copy > 0 ? `${profile.identifiers.serial}${copy}` : undefined;
  const phone = await createSimPhone({
    profile,
    dataDir,
    net,
    unauthorized: cfg.unauthorized,
    speed: cfg.speed,
    // `am instrument` of the UiAutomator2 server starts its HTTP server on the phone's port 6790.
    onInstrument: uia2InstrumentHook(),
    ...(serial ? { serial } : {}),
  });
  const adbd = await startAdbd({ phone, host: '127.0.0.1' });
  // `adb shell reboot` drops the transport like `adb reboot` does: the phone is away while it boots.
  phone.setRebootHandler((target) => adbd.reboot(target));
  return { phone, model: phone.banner().productModel, adbd };
}

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? '');
  const cfg = readSimUpConfig(dir);
  const id = labIdFor(dir);
  const hint = 1 + (Number.parseInt(id.slice(3), 16) % 127);
  const state: SimState = {
    formatVersion: 1,
    labId: id,
    subnetIndex: 0,
    status: 'starting',
    daemon: simProcess(process.pid, 'sim supervisor'),
    adbServerPort: cfg.adbServerPort,
    adbServerStartedByUs: false,
    speed: cfg.speed,
    misbehave: cfg.misbehave,
    namespaces: [],
    links: [],
    processes: [],
    adbConnections: [],
    phones: [],
  };
  const save = () => writeSimState(dir, state);
  const rec = {
    namespace: (n: string) => {
      state.namespaces.push(n);
      save();
    },
    link: (n: string) => {
      state.links.push(n);
      save();
    },
  };
  const onProcess = (pid: number, what: string) => {
    state.processes.push(simProcess(pid, what));
    save();
  };
  save();
  await mkdir(join(dir, 'phones'), { recursive: true });

  const running: RunningPhone[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    state.status = 'stopping';
    save();
    for (const p of running) {
      await p.adbd.close().catch(() => undefined);
      await p.phone.close().catch(() => undefined);
      await p.net.close().catch(() => undefined);
    }
    await removeLab(state.namespaces, state.links);
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  try {
    const plan = await withLabLock(async () => {
      state.subnetIndex = await freeSubnetIndex(hint);
      const p = planLab(id, state.subnetIndex, cfg.profiles.length);
      save();
      await createLabCore(p, rec);
      return p;
    });
    const labCert = await ensureLabCert(cfg.cacheDir || defaultCacheDir());
    await startInternet(plan, labCert, onProcess);
    const labCertPem = await readFile(labCert.cert, 'utf8');

    if (!(await isListening(cfg.adbServerPort))) {
      state.adbServerStartedByUs = true;
      save();
      await adb(cfg.adbServerPort, ['start-server'], 30_000);
    }

    for (const [i, name] of cfg.profiles.entries()) {
      const phonePlan = plan.phones[i]!;
      await createPhoneNetwork(plan, phonePlan, rec);
      const net = await createPhoneNet({
        lab: plan,
        phone: phonePlan,
        profile: await loadTrafficProfile(join(cfg.devicesDir, `${name}.traffic.yaml`)),
        speed: cfg.speed,
        misbehave: cfg.misbehave,
        onProcess,
        connectionLog: join(dir, 'phones', `${i}.connections.jsonl`),
        labCert: labCertPem,
      });
      const dataDir = join(dir, 'phones', String(i));
      await mkdir(dataDir, { recursive: true });
      const copy = cfg.profiles.slice(0, i).filter((n) => n === name).length;
      const { phone, model, adbd } = await createPhone(cfg, name, dataDir, net, copy);
      running.push({ net, phone, adbd });
      const target = `127.0.0.1:${adbd.port}`;
      state.adbConnections.push(target);
      state.phones.push({
        serial: phone.serial,
        profile: name,
        model,
        ip: net.ip,
        mac: net.mac,
        captureInterface: net.captureInterface,
        labInterface: net.labInterface,
        namespace: net.namespace,
        gateway: { namespace: plan.internetNs, interface: 'eth0' },
        adbdPort: adbd.port,
        adbSerial: target,
      });
      save();
      await adbConnect(cfg.adbServerPort, target);
    }
    // Phones whose cable is pulled (`sim unplug`): closed to adb, and not connected again until plugged.
    const unplugged = new Set<string>();
    const control = async (req: ControlRequest): Promise<ControlReply> => {
      const i = state.phones.findIndex((p) => p.serial === req.serial || p.adbSerial === req.serial);
      const p = running[i];
      const entry = state.phones[i];
      if (!p || !entry) return { ok: false, error: `no phone ${req.serial} in lab ${state.labId}` };
      if (req.op === 'sim-insert' || req.op === 'sim-remove') {
        const inserted = req.op === 'sim-insert';
        const was = p.phone.state.simInserted;
        p.phone.state.setSim(inserted);
        const now = inserted ? 'in' : 'out';
        return { ok: true, detail: `${entry.serial}: SIM card ${was === inserted ? `already ${now}` : now}` };
      }
      if (req.op === 'sms-receive') {
        // parseControlRequest made sure both are there.
        if (!p.phone.state.receiveSms(req.from!, req.text!))
          return { ok: false, error: `${entry.serial} has no SIM card in: the SMS cannot reach it` };
        return { ok: true, detail: `${entry.serial}: SMS delivered (${req.text!.length} characters)` };
      }
      if (req.op === 'factory-reset') {
        const phone = p.phone.state;
        if (!phone.profile.setupWizard)
          return {
            ok: false,
            error: `${entry.serial}'s profile ${entry.profile} has no setupWizard: it cannot be reset`,
          };
        if (unplugged.has(entry.adbSerial)) return { ok: false, error: `${entry.serial} is unplugged` };
        const t0 = Date.now();
        const before = phone.bootedAt;
        phone.factoryReset(randomBytes(8).toString('hex'));
        // Reset phones reboot into their wizard: adb goes away and comes back, as over USB.
        p.adbd.reboot('recovery');
        const back = await waitUntil(() => phone.bootedAt > before && !phone.booting, 60_000);
        if (!back) return { ok: false, error: `${entry.serial} did not boot again within 60 s of its reset` };
        await adbConnect(cfg.adbServerPort, entry.adbSerial).catch(() => undefined);
        return {
          ok: true,
          detail: `${entry.serial}: factory reset, back in its setup wizard after ${Date.now() - t0} ms`,
        };
      }
      if (req.op === 'unplug') {
        unplugged.add(entry.adbSerial);
        p.adbd.setOffline(true);
        return { ok: true, detail: `${entry.serial} unplugged` };
      }
      unplugged.delete(entry.adbSerial);
      p.adbd.setOffline(false);
      await adbConnect(cfg.adbServerPort, entry.adbSerial);
      return { ok: true, detail: `${entry.serial} plugged in` };
    };
    await startControl(dir, control);
    state.status = 'ready';
    save();
    // A restarted adb server forgets TCP devices (a USB phone would reappear by itself): connect again.
    const watch = setInterval(async () => {
      if (stopping || !(await isListening(cfg.adbServerPort))) return;
      const listed = await adbDevices(cfg.adbServerPort).catch(() => undefined);
      if (!listed) return;
      for (const target of state.adbConnections)
        if (!listed.has(target) && !unplugged.has(target))
          await adbConnect(cfg.adbServerPort, target).catch(() => undefined);
    }, 2000);
    watch.unref();
  } catch (err) {
    state.status = 'failed';
    state.error = errorMessage(err);
    save();
    process.stderr.write(`sim supervisor: ${(err as Error)?.stack ?? String(err)}\n`);
    await stop(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`sim supervisor: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

/** Polls `done` every 50 ms until it holds (true) or `ms` have passed (false). */
async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
