/**
 * Network commands: ip addr/route/link (wlan0 from PhoneNet's IP and MAC), ping (through PhoneNet),
 * svc wifi/data, `cmd connectivity airplane-mode`, `cmd wifi`. Without a PhoneNet, or with Wi-Fi off
 * or airplane mode on, they answer as a phone with no network.
 */
import type { CommandContext, CommandHandler } from './command.js';

function prefixBase(ip: string): string {
  const p = ip.split('.');
  return `${p[0]}.${p[1]}.${p[2]}`;
}

function ipAddr(
  c: CommandContext,
  iface: string | undefined,
  family: '4' | '6' | undefined,
  oneLine: boolean,
): string {
  const state = c.phone.state;
  const up = state.online && state.netInfo !== undefined;
  const mac = state.netInfo?.mac ?? '02:00:00:00:00:00';
  const blocks: string[][] = [];
  if (!iface || iface === 'lo') {
    const b = ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000'];
    if (family !== '6' && family !== '4') b.push('    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00');
    if (family !== '6')
      b.push('    inet 127.0.0.1/8 scope host lo', '       valid_lft forever preferred_lft forever');
    if (family !== '4')
      b.push('    inet6 ::1/128 scope host', '       valid_lft forever preferred_lft forever');
    blocks.push(b);
  }
  if (!iface || iface === 'dummy0') {
    blocks.push([
      '2: dummy0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN group default qlen 1000',
      '    link/ether 5e:1f:c2:8a:33:01 brd ff:ff:ff:ff:ff:ff',
    ]);
  }
  if (!iface || iface === 'wlan0') {
    const b = [
      `3: wlan0: <${up ? 'BROADCAST,MULTICAST,UP,LOWER_UP' : 'BROADCAST,MULTICAST'}> mtu 1500 qdisc ${up ? 'mq' : 'noop'} state ${up ? 'UP' : 'DOWN'} group default qlen 3000`,
      `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
    ];
    if (up && family !== '6') {
      const ip = state.netInfo!.ip;
      b.push(
        `    inet ${ip}/24 brd ${prefixBase(ip)}.255 scope global wlan0`,
        '       valid_lft forever preferred_lft forever',
      );
    }
    if (up && family !== '4') {
      const m = mac.split(':').map((x) => Number.parseInt(x, 16));
      const eui = [m[0]! ^ 2, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!];
      const hex = (i: number) => ((eui[i]! << 8) | eui[i + 1]!).toString(16);
      b.push(
        `    inet6 fe80::${hex(0)}:${hex(2)}:${hex(4)}:${hex(6)}/64 scope link`,
        '       valid_lft forever preferred_lft forever',
      );
    }
    blocks.push(b);
  }
  if (oneLine) return blocks.map((b) => `${b.join(' \\').replace(/\s+/g, ' ')}\n`).join('');
  return blocks.map((b) => `${b.join('\n')}\n`).join('');
}

const ip: CommandHandler = async (c) => {
  const args = [...c.args];
  let family: '4' | '6' | undefined;
  let oneLine = false;
  while (args[0]?.startsWith('-')) {
    const a = args.shift()!;
    if (a === '-4') family = '4';
    else if (a === '-6') family = '6';
    else if (a === '-o' || a === '-oneline') oneLine = true;
    else if (a === '-f' || a === '-family') family = args.shift() === 'inet6' ? '6' : '4';
  }
  const [obj, ...rest] = args;
  const state = c.phone.state;
  const words = rest.filter((w) => !['show', 'list', 'dev', 'ls'].includes(w));
  if (obj === undefined) {
    await c.err('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n');
    return 255;
  }
  if ('address'.startsWith(obj) || obj === 'addr') {
    const iface = words[0];
    if (iface && !['lo', 'dummy0', 'wlan0'].includes(iface)) {
      await c.err(`Device "${iface}" does not exist.\n`);
      return 1;
    }
    await c.out(ipAddr(c, iface, family, oneLine));
    return 0;
  }
  if ('link'.startsWith(obj)) {
    const text = ipAddr(c, words[0], '4', oneLine)
      .split('\n')
      .filter((l) => !/^\s+(inet|valid_lft)/.test(l))
      .join('\n');
    await c.out(text);
    return 0;
  }
  if ('route'.startsWith(obj)) {
    if (state.online && state.netInfo) {
      const base = prefixBase(state.netInfo.ip);
      const all = rest.includes('table') && rest.includes('all');
      await c.out(
        (all ? `default via ${base}.1 dev wlan0 table wlan0 proto static\n` : '') +
          `${base}.0/24 dev wlan0 proto kernel scope link src ${state.netInfo.ip}\n`,
      );
    }
    return 0;
  }
  if ('rule'.startsWith(obj)) {
    await c.out('0:\tfrom all lookup local\n32000:\tfrom all unreachable\n');
    return 0;
  }
  await c.err(`Object "${obj}" is unknown, try "ip help".\n`);
  return 255;
};

const ping: CommandHandler = async (c) => {
  let count = 4;
  let host: string | undefined;
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-c') count = Number.parseInt(c.args[++i] ?? '4', 10);
    else if (/^-c\d+$/.test(a)) count = Number.parseInt(a.slice(2), 10);
    else if (['-i', '-W', '-w', '-s', '-t', '-I'].includes(a)) i++;
    else if (!a.startsWith('-')) host = a;
  }
  if (!host) {
    await c.err(
      'Usage: ping [-aAbBdDfhLnOqrRUvV64] [-c count] [-i interval] [-I interface]\n            [-m mark] [-M pmtudisc_option] [-l preload] [-p pattern] [-Q tos]\n            [-s packetsize] [-S sndbuf] [-t ttl] [-T timestamp_option]\n            [-w deadline] [-W timeout] [hop1 ...] destination\n',
    );
    return 2;
  }
  const state = c.phone.state;
  if (!c.phone.net || !state.online) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) await c.err('connect: Network is unreachable\n');
    else await c.err(`ping: unknown host ${host}\n`);
    return 2;
  }
  const r = await c.phone.net.ping(host, Number.isFinite(count) && count > 0 ? count : 4, c.signal);
  await c.out(r.output.endsWith('\n') || r.output === '' ? r.output : `${r.output}\n`);
  return r.exitCode;
};

const svc: CommandHandler = async (c) => {
  const [what, verb] = c.args;
  const state = c.phone.state;
  if ((what === 'wifi' || what === 'data') && (verb === 'enable' || verb === 'disable')) {
    if (what === 'wifi') state.system.setWifi(verb === 'enable');
    else state.system.setMobileData(verb === 'enable');
    return 0;
  }
  if (what === 'power' && verb === 'stayon') return 0;
  if (what === 'power' && verb === 'reboot') {
    state.emit('reboot-request', c.args[2] ?? '');
    return 0;
  }
  await c.out(
    `Available commands:\n    help     Show information about the subcommands\n    power    Control the power manager\n    data     Control mobile data connectivity\n    wifi     Control the Wi-Fi manager\n    usb      Control Usb state\n    nfc      Control NFC functions\n    bluetooth Control Bluetooth service\n`,
  );
  return what === undefined ? 0 : 1;
};

/** `cmd connectivity …`. */
export async function cmdConnectivity(c: CommandContext, args: readonly string[]): Promise<number> {
  const [verb, value] = args;
  const state = c.phone.state;
  if (verb === 'airplane-mode') {
    if (value === undefined) {
      await c.out(`${state.system.airplaneMode ? 'enabled' : 'disabled'}\n`);
      return 0;
    }
    if (value === 'enable' || value === 'disable') {
      state.system.setAirplaneMode(value === 'enable');
      return 0;
    }
  }
  await c.err(`Unknown command: ${verb ?? ''}\n`);
  return 255;
}

/** `cmd wifi …`. */
export async function cmdWifi(c: CommandContext, args: readonly string[]): Promise<number> {
  const [verb, value] = args;
  const state = c.phone.state;
  if (verb === 'set-wifi-enabled' && (value === 'enabled' || value === 'disabled')) {
    state.system.setWifi(value === 'enabled');
    return 0;
  }
  if (verb === 'status') {
    await c.out(
      `Wifi is ${state.system.wifiEnabled ? 'enabled' : 'disabled'}\n` +
        (state.online ? `Wifi is connected to "${state.profile.wifi.ssid}"\n` : 'Wifi is not connected\n'),
    );
    return 0;
  }
  await c.err(`Unknown command: ${verb ?? ''}\n`);
  return 255;
}

/** Network commands by name. */
export const netCommands: Record<string, CommandHandler> = { ip, ping, svc };
