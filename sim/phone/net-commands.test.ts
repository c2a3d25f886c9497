import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseIpAddr } from '../../harness/device/facts.js';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

test('without a network: wlan0 is down with no address, no routes, ping is unreachable', async () => {
  const p = await makePhone();
  const addr = await runShell(p, 'ip addr show wlan0');
  assert.equal(addr.code, 0);
  assert.match(addr.stdout, /^3: wlan0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN/);
  assert.deepEqual(parseIpAddr(addr.stdout), { mac: '02:00:00:00:00:00' });
  assert.equal((await runShell(p, 'ip route')).stdout, '');
  const ping = await runShell(p, 'ping -c 1 10.0.0.1');
  assert.equal(ping.code, 2);
  assert.equal(ping.stderr, 'connect: Network is unreachable\n');
  assert.equal((await runShell(p, 'ping -c 1 example.com')).stderr, 'ping: unknown host example.com\n');
  assert.equal(p.state.trafficState().online, false);
  assert.match((await runShell(p, 'ip addr')).stdout, /inet 127\.0\.0\.1\/8 scope host lo/);
  assert.equal((await runShell(p, 'ip addr show eth7')).stderr, 'Device "eth7" does not exist.\n');
});

test('svc wifi, svc data and airplane mode flip the switches the traffic state reads', async () => {
  const p = await makePhone();
  assert.equal(p.state.system.wifiEnabled, true);
  await runShell(p, 'svc wifi disable');
  assert.equal(p.state.system.wifiEnabled, false);
  assert.equal((await runShell(p, 'settings get global wifi_on')).stdout, '0\n');
  await runShell(p, 'svc wifi enable');
  assert.equal(p.state.system.wifiEnabled, true);
  await runShell(p, 'svc data disable');
  assert.equal(p.state.system.mobileData, false);
  await runShell(p, 'cmd connectivity airplane-mode enable');
  assert.equal(p.state.system.airplaneMode, true);
  assert.equal((await runShell(p, 'settings get global airplane_mode_on')).stdout, '1\n');
  await runShell(p, 'cmd connectivity airplane-mode disable');
  assert.equal(p.state.system.airplaneMode, false);
  await runShell(p, 'cmd wifi set-wifi-enabled disabled');
  assert.match((await runShell(p, 'cmd wifi status')).stdout, /^Wifi is disabled$/m);
});
