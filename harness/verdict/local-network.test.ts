/**
 * devices/local-network.yaml against a real Wi-Fi join recorded at the "access point" with phonehome's
 * filter for a phone (fixtures/captures/lan-join.pcap): DHCP, IGMP, mDNS and IPv6 neighbour discovery
 * and MLD are the network's own plumbing and pass for every profile; the SSDP search does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFile } from '../analyze.js';
import { readAllowlist } from './read-allowlist.js';
import { judge } from './verdict.js';

const CAPTURE = 'fixtures/captures/lan-join.pcap';

for (const profile of ['xiaomi-miui-global', 'pixel-stock']) {
  test(`${profile}: a phone joining the lab's Wi-Fi breaks no rule but by its SSDP search`, async () => {
    const a = await analyzeFile(CAPTURE);
    assert.deepEqual(a.device.addrs[0], '10.213.0.2', 'the phone is inferred');
    const v = judge(a.flows, readAllowlist(`devices/${profile}/allowlists/idle.yaml`));

    // The one violation: 239.255.255.250 (site-local multicast, UDP 1900), which no rule allows.
    assert.deepEqual(
      v.violations.map((x) => [x.subject, x.ruleText]),
      [['239.255.255.250', 'no rule matched']],
    );
    assert.deepEqual(v.unmetExpectations, [], 'the captive-portal check was seen');

    // Each plumbing flow passes by a rule of local-network.yaml, the one for what it is.
    const byResp = new Map<string, string[]>();
    for (const f of a.flows) {
      const j = v.judgements.find((x) => x.uid === f.uid)!;
      if (j.status !== 'allowed' || j.rule?.file !== 'devices/local-network.yaml') continue;
      const key = `${f.proto} ${f.resp.addr}${f.resp.port ? `:${f.resp.port}` : ''}`;
      byResp.set(key, [...(byResp.get(key) ?? []), j.rule.match]);
    }
    const seen = Object.fromEntries([...byResp].map(([k, m]) => [k, [...new Set(m)].join()]));
    assert.equal(seen['udp 255.255.255.255:67'], '255.255.255.255 udp/67', 'DHCP discover and request');
    assert.equal(seen['udp 10.213.0.1:67'], '10.0.0.0/8 udp/67', 'DHCP offer and ack, turned round');
    assert.equal(seen['ip-2 224.0.0.22'], '224.0.0.0/24', 'IGMP membership reports');
    assert.equal(seen['udp 224.0.0.251:5353'], '224.0.0.0/24', 'mDNS over IPv4');
    assert.equal(seen['udp ff02::fb:5353'], 'ff02::/16', 'mDNS over IPv6');
    assert.equal(seen['icmp6 ff02::16'], 'ff02::/16', 'MLD reports');
    assert.equal(seen['icmp6 ff02::2'], 'ff02::/16', 'router solicitation');
    assert.ok(
      Object.keys(seen).some((k) => /^icmp6 ff02::1:ff[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(k)),
      `duplicate address detection's neighbour solicitation: ${Object.keys(seen).join(', ')}`,
    );
  });
}
