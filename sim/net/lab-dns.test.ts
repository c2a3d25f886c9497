import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { LAB_DNS_TTL, labDnsResponse } from './lab-dns.js';
import { internetAddressFor, isLabAddress, planLab } from './lab-plan.js';

function ask(name: string, type: 'A' | 'AAAA'): dnsPacket.Packet {
  const q = dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
  });
  return dnsPacket.decode(labDnsResponse(q)!);
}

test('every name gets one stable A record inside the simulated internet', () => {
  const r = ask('Tracking.Intl.MIUI.com', 'A');
  assert.equal(r.id, 4242);
  assert.equal(r.type, 'response');
  assert.equal(r.answers?.length, 1);
  const a = r.answers![0]!;
  assert.equal(a.type, 'A');
  assert.equal(a.ttl, LAB_DNS_TTL);
  assert.equal(a.type === 'A' && a.data, internetAddressFor('tracking.intl.miui.com'));
  assert.ok(a.type === 'A' && isLabAddress(a.data) && Number(a.data.split('.')[2]) >= 128);
  assert.notEqual(internetAddressFor('a.example'), internetAddressFor('b.example'));
});

test('AAAA questions get an empty answer (the lab is IPv4 only); junk gets nothing', () => {
  const r = ask('www.google.com', 'AAAA');
  assert.equal((r.flags ?? 0) & 0x0f, 0, 'rcode NOERROR');
  assert.deepEqual(r.answers, []);
  assert.equal(labDnsResponse(Buffer.from([1, 2, 3])), undefined);
});

test('the lab plan keeps names within interface limits and phones apart', () => {
  const plan = planLab('phl1a2b', 42, 3);
  assert.equal(plan.hostIp, '10.213.42.1');
  assert.equal(plan.internetIp, '10.213.42.2');
  for (const n of [plan.bridge, plan.internetHostIf, ...plan.phones.map((p) => p.hostIf)])
    assert.ok(n.length <= 15, n);
  assert.deepEqual(
    plan.phones.map((p) => p.ip),
    ['10.213.42.10', '10.213.42.11', '10.213.42.12'],
  );
  assert.equal(new Set(plan.phones.map((p) => p.mac)).size, 3);
  for (const p of plan.phones) assert.match(p.mac, /^02(:[0-9a-f]{2}){5}$/);
  assert.throws(() => planLab('phl1a2b', 200, 1), RangeError);
});

test("every region of the simulated internet has its answer in the lab's override file, and names land in their region", async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { INTERNET_REGIONS } = await import('./lab-plan.js');
  const doc = parse(readFileSync('devices/sim/geo-overrides.yaml', 'utf8')) as {
    overrides: { cidr: string; country?: string; note: string }[];
  };
  for (const r of INTERNET_REGIONS) {
    const o = doc.overrides.find((x) => x.cidr === r.cidr);
    assert.ok(o, `${r.cidr} (${r.name}) has an override`);
    assert.match(o.note, /^simulated: /, 'labelled as simulated');
  }
  const inRegion = (addr: string, cidr: string) => {
    const third = Number(addr.split('.')[2]);
    const base = Number(cidr.split('.')[2]);
    return third >= base && third < base + 16;
  };
  assert.ok(inRegion(internetAddressFor('data.mistat.intl.xiaomi.com'), '10.213.144.0/20'));
  assert.ok(inRegion(internetAddressFor('resolver.msg.global.xiaomi.net'), '10.213.144.0/20'));
  assert.ok(inRegion(internetAddressFor('play.googleapis.com'), '10.213.160.0/20'));
  assert.ok(inRegion(internetAddressFor('t.unlisted-collector.net'), '10.213.176.0/20'));
  assert.ok(inRegion(internetAddressFor('start-x.canary.phonehome.test'), '10.213.128.0/20'));
  assert.equal(doc.overrides.find((x) => x.cidr === '10.213.176.0/20')?.country, 'CN');
});
