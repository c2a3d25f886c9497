import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../sim/net/lab.js';
import { isLabAddress } from '../sim/net/lab-plan.js';
import { readPcap } from '../sim/net/pcap-file.js';
import { PCAPDROID_TRAILER_MAGIC } from '../sim/net/pcapdroid-dump.js';
import { activeBehaviours, activeHosts } from '../sim/net/traffic-plan.js';
import { loadTrafficProfile } from '../sim/net/traffic-schema.js';
import { gate } from '../testing/gate.js';
import {
  captureOn,
  IDLE,
  namesIn,
  sleep,
  startTestLab,
  type TestLab,
  XIAOMI_TRAFFIC,
} from './sim-lab-fixture.js';

/** Link-local multicast (IGMP reports to 224.0.0.22 when an interface comes up) never leaves its link. */
const linkLocalMulticast = (a: string) => /^224\.0\.0\.\d{1,3}$/.test(a);

const isRoot = process.getuid?.() === 0;
const SPEED = 300;

const group = gate(!isRoot && 'needs root for network namespaces');

group.describe('sim lab network', () => {
  group.test('an idle Xiaomi phone contacts exactly its idle hosts, all inside the lab', async () => {
    const lab = await startTestLab([{ traffic: XIAOMI_TRAFFIC, speed: SPEED }]);
    try {
      const profile = await loadTrafficProfile(XIAOMI_TRAFFIC);
      const expected = activeHosts(profile, IDLE, []);
      const cap = await captureOn(lab.plan.bridge, join(lab.dir, 'ap.pcap'));
      lab.phones[0]!.setState(IDLE);
      await sleep(3000);
      await cap.stop();
      const seen = await namesIn(cap.file);
      assert.deepEqual([...seen.dns].sort(), [...expected].sort(), 'DNS query names');
      const tlsHosts = activeBehaviours(profile, IDLE, [])
        .filter((b) => b.protocol === 'tls' || b.protocol === 'quic')
        .flatMap((b) => b.hosts);
      const httpHosts = activeBehaviours(profile, IDLE, [])
        .filter((b) => b.protocol === 'http')
        .flatMap((b) => b.hosts);
      assert.deepEqual([...seen.sni].sort(), [...new Set(tlsHosts)].sort(), 'SNIs (TLS and QUIC)');
      assert.deepEqual([...seen.http].sort(), [...new Set(httpHosts)].sort(), 'HTTP hosts');
      assert.ok(seen.addrs.size > 2);
      for (const a of seen.addrs)
        assert.ok(isLabAddress(a) || linkLocalMulticast(a), `${a} is outside the lab`);
      // No route leads out: the kernel refuses before anything is sent.
      await assert.rejects(
        run('ip', ['netns', 'exec', lab.plan.phones[0]!.ns, 'ip', 'route', 'get', '203.0.113.7']),
        /unreachable/i,
      );
      assert.deepEqual(lab.phones[0]!.logs(), [], 'no failed connection');
      // Speed divides the periods: Mi Push (every 5 min, ±10%) runs about once a second at speed 300.
      const lookups = await run('tshark', [
        '-r',
        cap.file,
        '-Y',
        'dns.flags.response == 0 && dns.qry.name == "sgp-api.xmpush.global.xiaomi.com"',
      ]);
      const n = lookups.trim().split('\n').length;
      // At speed 1 there would be one; allow for a loaded machine delaying timers.
      assert.ok(n >= 2 && n <= 6, `${n} Mi Push lookups in 3 s`);
    } finally {
      await lab.dispose();
    }
  });

  group.describe('consent off, two phones side by side', () => {
    let lab: TestLab;
    const caps: string[] = [];
    group.before(async () => {
      lab = await startTestLab([
        { traffic: XIAOMI_TRAFFIC, speed: SPEED },
        {
          traffic: XIAOMI_TRAFFIC,
          speed: SPEED,
          misbehave: ['analytics-after-opt-out', 'leak-ids', 'unknown-host'],
        },
      ]);
      const c = await Promise.all(
        lab.plan.phones.map((p, i) => captureOn(p.hostIf, join(lab.dir, `phone${i}.pcap`))),
      );
      for (const n of lab.phones) n.setState({ ...IDLE, analyticsConsent: false });
      await sleep(3000);
      for (const x of c) {
        await x.stop();
        caps.push(x.file);
      }
    });
    group.after(async () => {
      await lab?.dispose();
    });

    group.test('with analytics consent off the analytics hosts stop', async () => {
      const profile = await loadTrafficProfile(XIAOMI_TRAFFIC);
      const seen = await namesIn(caps[0]!);
      const expected = activeHosts(profile, { ...IDLE, analyticsConsent: false }, []);
      assert.deepEqual([...seen.dns].sort(), [...expected].sort());
      for (const h of ['tracking.intl.miui.com', 'data.mistat.intl.xiaomi.com'])
        assert.ok(!seen.dns.has(h), h);
      assert.ok(seen.dns.has('api.ad.intl.xiaomi.com'));
    });

    group.test(
      'a misbehaving phone keeps analytics after opt-out, leaks the IMEI in clear and calls an unknown host',
      async () => {
        const seen = await namesIn(caps[1]!);
        assert.ok(seen.sni.has('tracking.intl.miui.com'));
        assert.ok(seen.sni.has('data.mistat.intl.xiaomi.com'));
        assert.ok(seen.sni.has('beacon.unlisted-collector.net'), 'unknown-host');
        const uris = await run('tshark', [
          '-r',
          caps[1]!,
          '-Y',
          'http.request',
          '-T',
          'fields',
          '-e',
          'http.request.uri',
        ]);
        assert.match(uris, new RegExp(`imei=${IDLE.ids.imei}`));
        assert.match(uris, new RegExp(`aid=${IDLE.ids.androidId}`));
      },
    );

    group.test("each phone's interface carries only that phone's traffic", async () => {
      for (const [i, file] of caps.entries()) {
        const mine = lab.plan.phones[i]!.ip;
        const other = lab.plan.phones[1 - i]!.ip;
        const seen = await namesIn(file);
        assert.ok(seen.addrs.has(mine));
        // The access point floods link-local multicast (the other phone's mDNS and IGMP) to every
        // port, as any Wi-Fi network does; phonehome's capture filter (the phone's address or MAC)
        // leaves it out. Nothing else of the other phone's reaches this port.
        assert.ok(!seen.unicastAddrs.has(other), `phone ${i} saw ${other}`);
        const internet = (a: string) => isLabAddress(a) && Number(a.split('.')[2]) >= 128;
        // The lab host on the access point (10.213.N.1) belongs to the lab too: the host's own kernel
        // sometimes talks to a phone across the bridge.
        const labHost = (a: string) => a === lab.plan.hostIp;
        for (const a of seen.unicastAddrs) {
          assert.ok(
            a === mine || a === lab.plan.internetIp || internet(a) || labHost(a) || linkLocalMulticast(a),
            a,
          );
        }
      }
    });
  });

  group.test('ping, touch and the on-phone capture with PCAPdroid extensions', async () => {
    const lab = await startTestLab([{ traffic: XIAOMI_TRAFFIC, speed: SPEED }]);
    try {
      const net = lab.phones[0]!;
      const signal = AbortSignal.timeout(20_000);
      const appUids = {
        'com.miui.analytics': 10101,
        'com.xiaomi.xmsf': 10102,
        'com.google.android.gms': 10103,
      };
      const file = join(lab.dir, 'pcapdroid.pcap');
      const cap = await net.startOnPhoneCapture(file, { extensions: true, appUids });
      const canary = `r${Date.now()}.canary.phonehome.test`;
      const touched = await net.touch(canary, 443, signal);
      assert.equal(touched.ok, true, touched.error);
      assert.ok(touched.address && isLabAddress(touched.address));
      const ping = await net.ping('tracking.intl.miui.com', 2, signal);
      assert.equal(ping.exitCode, 0, ping.output);
      assert.match(ping.output, /^PING tracking\.intl\.miui\.com \(10\.213\.\d+\.\d+\)/m);
      assert.match(ping.output, /2 packets transmitted, 2 received/);
      const unknown = await net.ping('8.8.8.8.nip.invalid', 1, signal);
      assert.equal(unknown.exitCode, 0, 'the lab DNS answers every name');
      const outside = await net.ping('203.0.113.7', 1, signal);
      assert.equal(outside.exitCode, 2);
      assert.match(outside.output, /Network is unreachable/);
      net.setState(IDLE);
      await sleep(2500);
      const { packets } = await cap.stop();
      assert.ok(packets > 10);

      const pcap = readPcap(await readFile(file));
      assert.equal(pcap.linkType, 1);
      assert.equal(pcap.records.length, packets);
      // tshark reads the file and names the canary and the hosts.
      const seen = await namesIn(file);
      assert.ok(seen.dns.has(canary));
      assert.ok(seen.sni.has('tracking.intl.miui.com'));
      // Every TLS ClientHello's trailer names the app that made it.
      const hellos = await run('tshark', [
        '-r',
        file,
        '-Y',
        'tls.handshake.type == 1',
        '-T',
        'fields',
        '-e',
        'frame.number',
        '-e',
        'tls.handshake.extensions_server_name',
      ]);
      const profile = await loadTrafficProfile(XIAOMI_TRAFFIC);
      let checked = 0;
      for (const line of hellos.trim().split('\n')) {
        const [num, sni] = line.split('\t');
        // A host may be contacted by several behaviours (the stat SDK from two apps): the trailer names one of them.
        const sending = profile.behaviours.filter((x) => x.hosts.includes(sni!));
        assert.ok(sending.length > 0, sni);
        const rec = pcap.records[Number(num) - 1]!;
        const t = rec.data.subarray(rec.data.length - 32);
        assert.equal(t.readUInt32BE(0), PCAPDROID_TRAILER_MAGIC);
        const uid = t.readInt32BE(4);
        const name = t.subarray(8, 28).toString('utf8').replace(/\0+$/, '');
        const b = sending.find((x) => x.package.slice(0, 19) === name);
        assert.ok(b, `${sni}: trailer names ${name}, sent by ${sending.map((x) => x.package).join(' or ')}`);
        assert.equal(uid, (appUids as Record<string, number>)[b.package] ?? -1, sni);
        checked++;
      }
      assert.ok(checked >= 5, `checked ${checked} ClientHellos`);
    } finally {
      await lab.dispose();
    }
  });

  group.test('the on-phone capture without extensions is RAW IP', async () => {
    const lab = await startTestLab([{ traffic: XIAOMI_TRAFFIC, speed: SPEED }]);
    try {
      const file = join(lab.dir, 'raw.pcap');
      const cap = await lab.phones[0]!.startOnPhoneCapture(file, { extensions: false, appUids: {} });
      lab.phones[0]!.setState(IDLE);
      await sleep(2000);
      const { packets } = await cap.stop();
      const pcap = readPcap(await readFile(file));
      assert.equal(pcap.linkType, 101);
      assert.equal(pcap.records.length, packets);
      assert.ok(pcap.records.every((r) => r.data[0]! >> 4 === 4));
      const seen = await namesIn(file);
      assert.ok(seen.sni.has('sgp-api.xmpush.global.xiaomi.com'));
    } finally {
      await lab.dispose();
    }
  });
});
