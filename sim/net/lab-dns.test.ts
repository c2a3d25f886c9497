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
