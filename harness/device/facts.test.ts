import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpAddr, phoneAddrs, phoneSpeed, SIM_SPEED_PROPERTY, simCardIn } from './facts.js';

// `ip addr show wlan0` on an Android 14 phone on a dual-stack Wi-Fi network.
const DUAL_STACK = `47: wlan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 3000
    link/ether 6a:1f:0c:9e:44:d2 brd ff:ff:ff:ff:ff:ff
    inet 192.168.4.23/24 brd 192.168.4.255 scope global wlan0
       valid_lft forever preferred_lft forever
    inet6 2001:DB8:4:0:a1b2:c3d4:e5f6:1234/64 scope global temporary dynamic
       valid_lft 604783sec preferred_lft 86383sec
    inet6 2001:db8:4:0:681f:cff:fe9e:44d2/64 scope global dynamic mngtmpaddr noprefixroute
       valid_lft 2591983sec preferred_lft 604783sec
    inet6 fd00:4::6a1f:cff:fe9e:44d2/64 scope global dynamic noprefixroute
       valid_lft forever preferred_lft forever
    inet6 fe80::681f:cff:fe9e:44d2/64 scope link
       valid_lft forever preferred_lft forever
`;

test('ip addr: the IPv4 address, every global IPv6 address (not the link-local one) and the MAC', () => {
  const net = parseIpAddr(DUAL_STACK);
  assert.deepEqual(net, {
    ip: '192.168.4.23',
    ipv6: [
      '2001:db8:4:0:a1b2:c3d4:e5f6:1234',
      '2001:db8:4:0:681f:cff:fe9e:44d2',
      'fd00:4::6a1f:cff:fe9e:44d2',
    ],
    mac: '6a:1f:0c:9e:44:d2',
  });
  // IPv4 only, as on the simulated phones: no ipv6 field at all.
  const v4 = DUAL_STACK.split('\n')
    .filter((l, i, all) => !/inet6/.test(l) && !/inet6/.test(all[i - 1] ?? ''))
    .join('\n');
  assert.deepEqual(parseIpAddr(v4), { ip: '192.168.4.23', mac: '6a:1f:0c:9e:44:d2' });
  // Something that only looks like an address is not taken.
  assert.deepEqual(parseIpAddr('    inet6 2001:db8::zz/64 scope global\n'), {});
});

test("the phone's addresses for the capture filter and the analysis: IPv4 first, then IPv6", () => {
  assert.deepEqual(phoneAddrs({ wifiIp: '10.0.0.5', wifiIpv6: ['2001:db8::5'] }), [
    '10.0.0.5',
    '2001:db8::5',
  ]);
  assert.deepEqual(phoneAddrs({ wifiIpv6: ['2001:db8::5'] }), ['2001:db8::5']);
  assert.deepEqual(phoneAddrs({}), []);
});

test('a SIM card is in when some slot of gsm.sim.state is LOADED or READY', () => {
  assert.equal(simCardIn({ 'gsm.sim.state': 'LOADED' }), true);
  assert.equal(simCardIn({ 'gsm.sim.state': 'ABSENT,READY' }), true, 'the second slot');
  assert.equal(simCardIn({ 'gsm.sim.state': 'ABSENT,ABSENT' }), false);
  assert.equal(simCardIn({ 'gsm.sim.state': 'PIN_REQUIRED' }), false, 'a locked SIM cannot be read');
  assert.equal(simCardIn({}), false, 'no property: no SIM known');
});

test("a phone's time runs at its simulated speed when it tells one, else at the wall clock's", () => {
  const at = (v: string) => phoneSpeed({ [SIM_SPEED_PROPERTY]: v });
  assert.equal(phoneSpeed({}), 1);
  assert.equal(at('120'), 120);
  assert.equal(at('0.5'), 0.5);
  for (const bad of ['', '0', '-3', '1e9', 'fast', '1234567', '12 ', 'Infinity', '0.0000001'])
    assert.equal(at(bad), 1, JSON.stringify(bad));
});
