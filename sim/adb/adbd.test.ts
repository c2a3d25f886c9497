import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { TestHost } from '../../testing/sim-adb-host.js';
import { createTestPhone, type TestPhone, type TestPhoneOptions } from '../../testing/sim-adb-phone.js';
import { type Adbd, startAdbd } from './adbd.js';
import {
  A_AUTH,
  A_CLSE,
  A_CNXN,
  A_OKAY,
  A_WRTE,
  AUTH_RSAPUBLICKEY,
  AUTH_SIGNATURE,
  AUTH_TOKEN,
  encodeMessage,
} from './message.js';
import { encodeShellPacket, SHELL_CLOSE_STDIN, SHELL_STDIN, ShellPacketReader } from './shell-packet.js';

/** Starts an adbd on a test phone and a connected host that has finished the handshake. */
async function withAdbd(
  opts: TestPhoneOptions & { maxPayload?: number; handshake?: boolean },
  body: (ctx: { adbd: Adbd; phone: TestPhone; host: TestHost }) => Promise<void>,
): Promise<void> {
  const phone = createTestPhone(opts);
  const adbd = await startAdbd({ phone });
  const host = await TestHost.connect(adbd.port);
  try {
    if (opts.handshake !== false) {
      host.hello(opts.maxPayload);
      const cnxn = await host.next();
      assert.equal(cnxn?.command, A_CNXN);
    }
    await body({ adbd, phone, host });
  } finally {
    host.close();
    await adbd.close();
    phone.dispose();
  }
}

function bytesPattern(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

test('CNXN answers with the banner and only the implemented features; the port is off the emulator range', async () => {
  await withAdbd({ handshake: false }, async ({ adbd, host }) => {
    assert.ok(adbd.port < 5554 || adbd.port > 5585);
    assert.equal(adbd.serial, `127.0.0.1:${adbd.port}`);
    host.hello();
    const cnxn = await host.next();
    assert.equal(cnxn?.command, A_CNXN);
    assert.equal(cnxn?.arg0, 0x01000001);
    assert.equal(cnxn?.arg1, 1024 * 1024);
    assert.equal(
      cnxn?.data.toString(),
      'device::ro.product.name=simtest;ro.product.model=SimTest;ro.product.device=simtestdev;' +
        'features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir',
    );
  });
});

test('an unauthorized phone sends 20-byte tokens, a new one per signature, nothing after the public key', async () => {
  await withAdbd({ unauthorized: true, handshake: false }, async ({ host }) => {
    host.hello();
    const first = await host.next();
    assert.equal(first?.command, A_AUTH);
    assert.equal(first?.arg0, AUTH_TOKEN);
    assert.equal(first?.data.length, 20);
    host.send(A_AUTH, AUTH_SIGNATURE, 0, Buffer.alloc(256, 1));
    const second = await host.next();
    assert.equal(second?.arg0, AUTH_TOKEN);
    assert.notDeepEqual(second?.data, first?.data);
    host.send(A_AUTH, AUTH_RSAPUBLICKEY, 0, 'QUFBQQ== user@host\0');
    assert.equal(await host.next(300), undefined);
    // Streams are not served to an unauthorized host.
    assert.equal(await host.open(1, 'shell:echo hi'), undefined);
  });
});

test('unknown services are refused with CLSE(0, hostId); user-build root answers in words', async () => {
  await withAdbd({}, async ({ host }) => {
    for (const service of ['framebuffer:', 'jdwp:123', 'host:version', 'nonsense']) {
      const reply = await host.open(5, service);
      assert.equal(reply?.command, A_CLSE, service);
      assert.equal(reply?.arg0, 0);
      assert.equal(reply?.arg1, 5);
    }
    const ok = await host.open(6, 'root:');
    assert.equal(ok?.command, A_OKAY);
    const { data, closed } = await host.drain(6);
    assert.equal(data.toString(), 'adbd cannot run as root in production builds\n');
    assert.ok(closed);
  });
});

test('output is cut to the negotiated max payload, one WRTE in flight until the host says OKAY', async () => {
  await withAdbd({ maxPayload: 4096 }, async ({ host }) => {
    const ok = await host.open(9, 'shell:bytes 20000');
    assert.equal(ok?.command, A_OKAY);
    const localId = ok!.arg0;
    const first = await host.next();
    assert.equal(first?.command, A_WRTE);
    assert.equal(first?.data.length, 4096);
    // Without an OKAY nothing more may come.
    assert.equal(await host.next(300), undefined);
    // Messages for ids nobody knows are ignored, and the stream goes on.
    host.send(A_OKAY, 9, 4242);
    host.send(A_WRTE, 77, 4243, 'stray');
    host.send(A_OKAY, 9, localId);
    const rest = await host.drain(9);
    assert.ok(rest.closed);
    assert.ok(rest.largest <= 4096);
    assert.deepEqual(Buffer.concat([first!.data, rest.data]), bytesPattern(20000));
  });
});

test('shell v2 frames stdout/stderr, takes stdin packets, ends with the exit packet then CLSE', async () => {
  await withAdbd({}, async ({ host }) => {
    const err = await host.open(4, 'shell,v2,raw:err bad');
    assert.equal(err?.command, A_OKAY);
    const errPackets = new ShellPacketReader().push((await host.drain(4)).data);
    assert.deepEqual(
      errPackets.map((p) => [p.id, p.data.toString('latin1')]),
      [
        [2, 'bad\n'],
        [3, '\x01'],
      ],
    );

    const cat = await host.open(3, 'shell,v2,TERM=xterm,raw:cat');
    assert.equal(cat?.command, A_OKAY);
    assert.equal(await host.next(300), undefined, 'cat waits for stdin');
    const stdin = Buffer.concat([
      encodeShellPacket(SHELL_STDIN, Buffer.from('one ')),
      encodeShellPacket(SHELL_STDIN, Buffer.from('two\n')),
      encodeShellPacket(SHELL_CLOSE_STDIN, Buffer.alloc(0)),
    ]);
    // Split inside a packet header: packets span WRTEs.
    host.send(A_WRTE, 3, cat!.arg0, stdin.subarray(0, 7));
    host.send(A_WRTE, 3, cat!.arg0, stdin.subarray(7));
    const out = await host.drain(3);
    assert.ok(out.closed);
    const packets = new ShellPacketReader().push(out.data);
    assert.equal(Buffer.concat(packets.filter((p) => p.id === 1).map((p) => p.data)).toString(), 'one two\n');
    assert.deepEqual(packets.at(-1), { id: 3, data: Buffer.of(0) });
  });
});

test('closing a stream or dropping the transport aborts the running command', async () => {
  await withAdbd({}, async ({ adbd, host, phone }) => {
    const ok = await host.open(11, 'shell:wait');
    host.send(A_CLSE, 11, ok!.arg0);
    await waitFor(() => phone.aborted.length === 1);
    await host.open(12, 'shell,v2,raw:wait');
    adbd.dropTransports();
    await waitFor(() => phone.aborted.length === 2);
    assert.equal(await host.next(), undefined);
    assert.ok(host.ended);
  });
});

test('forty concurrent streams each get their own output', async () => {
  await withAdbd({}, async ({ host }) => {
    const byLocal = new Map<number, number>();
    for (let i = 1; i <= 40; i++) host.send(0x4e45504f, i, 0, `shell:echo stream ${i}\0`);
    const outputs = new Map<number, string>();
    let closed = 0;
    while (closed < 40) {
      const msg = await host.next();
      assert.ok(msg, 'adbd went quiet');
      if (msg.command === A_OKAY && msg.arg1 >= 1 && !byLocal.has(msg.arg0)) byLocal.set(msg.arg0, msg.arg1);
      else if (msg.command === A_WRTE) {
        outputs.set(msg.arg1, (outputs.get(msg.arg1) ?? '') + msg.data.toString());
        host.send(A_OKAY, msg.arg1, msg.arg0);
      } else if (msg.command === A_CLSE) closed++;
    }
    assert.equal(byLocal.size, 40);
    for (let i = 1; i <= 40; i++) assert.equal(outputs.get(i), `stream ${i}\n`);
  });
});

test('a bad magic from the host drops the transport', async () => {
  await withAdbd({}, async ({ host }) => {
    const bad = encodeMessage({ command: A_OKAY, arg0: 1, arg1: 1, data: Buffer.alloc(0) });
    bad.writeUInt32LE(0, 20);
    host.socket.write(bad);
    assert.equal(await host.next(), undefined);
    assert.ok(host.ended);
  });
});

test('tcp: relays both ways to the phone port and is refused when nothing listens', async () => {
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as { port: number }).port;
  try {
    await withAdbd({ tcpPorts: { 6790: echoPort } }, async ({ host }) => {
      const refused = await host.open(20, 'tcp:6791');
      assert.equal(refused?.command, A_CLSE);
      const ok = await host.open(21, 'tcp:6790');
      assert.equal(ok?.command, A_OKAY);
      const payload = bytesPattern(300_000);
      host.send(A_WRTE, 21, ok!.arg0, payload);
      let got = Buffer.alloc(0);
      let acked = false;
      while (got.length < payload.length) {
        const msg = await host.next();
        assert.ok(msg);
        if (msg.command === A_OKAY) acked = true;
        if (msg.command === A_WRTE) {
          got = Buffer.concat([got, msg.data]);
          host.send(A_OKAY, 21, ok!.arg0);
        }
      }
      assert.ok(acked, 'our WRTE was acknowledged');
      assert.deepEqual(got, payload);
      host.send(A_CLSE, 21, ok!.arg0);
    });
  } finally {
    echo.close();
  }
});

test('offline refuses connections; reboot: closes the stream, drops the transport and comes back', async () => {
  await withAdbd({ rebootMs: 400 }, async ({ adbd, host, phone }) => {
    const ok = await host.open(30, 'reboot:bootloader');
    assert.equal(ok?.command, A_OKAY);
    const clse = await host.next();
    assert.equal(clse?.command, A_CLSE);
    assert.equal(await host.next(), undefined);
    assert.ok(host.ended);
    assert.deepEqual(phone.reboots, ['bootloader']);
    const during = await TestHost.connect(adbd.port);
    during.hello();
    assert.equal(await during.next(), undefined);
    assert.ok(during.ended);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await TestHost.connect(adbd.port);
    after.hello();
    assert.equal((await after.next())?.command, A_CNXN);
    after.close();
    adbd.setOffline(true);
    const off = await TestHost.connect(adbd.port);
    off.hello();
    assert.equal(await off.next(), undefined);
    adbd.setOffline(false);
  });
});

async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A sync request or data record: id, u32 length, bytes. */
function syncRecord(id: string, body: Buffer | string | number): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  if (typeof body === 'number') {
    head.writeUInt32LE(body, 4);
    return head;
  }
  const bytes = Buffer.from(body);
  head.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([head, bytes]);
}

test('sync: SEND writes the file with mode and mtime, STAT/LIS2 see it, failures answer FAIL as a phone does', async () => {
  await withAdbd({}, async ({ host, phone }) => {
    const { lstatSync, readFileSync } = await import('node:fs');
    const ok = await host.open(40, 'sync:');
    const local = ok!.arg0;
    const content = bytesPattern(200_000);
    const chunks = [];
    for (let at = 0; at < content.length; at += 65536)
      chunks.push(syncRecord('DATA', content.subarray(at, at + 65536)));
    host.send(
      A_WRTE,
      40,
      local,
      Buffer.concat([
        syncRecord('SEND', '/sdcard/new/dir/f.bin,33216'),
        ...chunks,
        syncRecord('DONE', 1_700_000_000),
      ]),
    );
    const reply = async () => {
      let msg = await host.next();
      while (msg?.command === A_OKAY) msg = await host.next();
      assert.equal(msg?.command, A_WRTE);
      host.send(A_OKAY, 40, local);
      return msg!.data;
    };
    assert.equal((await reply()).toString('latin1'), 'OKAY\0\0\0\0');
    const onDisk = lstatSync(phone.hostPath('/sdcard/new/dir/f.bin')!);
    assert.equal(onDisk.mode & 0o777, 0o700);
    assert.equal(Math.floor(onDisk.mtimeMs / 1000), 1_700_000_000);
    assert.deepEqual(readFileSync(phone.hostPath('/sdcard/new/dir/f.bin')!), content);
    assert.deepEqual(phone.pushed, ['/sdcard/new/dir/f.bin']);

    host.send(A_WRTE, 40, local, syncRecord('STAT', '/sdcard/new/dir/f.bin'));
    const stat = await reply();
    assert.equal(stat.toString('latin1', 0, 4), 'STAT');
    assert.equal(stat.readUInt32LE(4), 0o100700);
    assert.equal(stat.readUInt32LE(8), 200_000);
    assert.equal(stat.readUInt32LE(12), 1_700_000_000);

    host.send(A_WRTE, 40, local, syncRecord('STA2', '/sdcard/missing'));
    const missing = await reply();
    assert.equal(missing.toString('latin1', 0, 4), 'STA2');
    assert.equal(missing.readUInt32LE(4), 2, 'ENOENT');
    assert.equal(missing.length, 72);

    host.send(A_WRTE, 40, local, syncRecord('LIS2', '/sdcard/new/dir'));
    const listing = await reply();
    const names: string[] = [];
    let at = 0;
    while (listing.toString('latin1', at, at + 4) === 'DNT2') {
      const len = listing.readUInt32LE(at + 72);
      names.push(listing.toString('utf8', at + 76, at + 76 + len));
      at += 76 + len;
    }
    assert.deepEqual(names.sort(), ['.', '..', 'f.bin']);
    assert.equal(listing.toString('latin1', at, at + 4), 'DONE');
    assert.equal(listing.length - at, 76);

    // A path outside the sandbox: the data is taken, then FAIL, and the session ends.
    host.send(
      A_WRTE,
      40,
      local,
      Buffer.concat([syncRecord('SEND', 'relative,33188'), syncRecord('DATA', 'x'), syncRecord('DONE', 0)]),
    );
    const failed = await reply();
    assert.equal(failed.toString('latin1', 0, 4), 'FAIL');
    assert.equal(failed.toString('utf8', 8), "couldn't create file: Permission denied");
    assert.equal((await host.next())?.command, A_CLSE);

    const again = await host.open(41, 'sync:');
    host.send(A_WRTE, 41, again!.arg0, syncRecord('RECV', '/sdcard/nope'));
    const { data } = await host.drain(41);
    assert.equal(data.toString('latin1', 0, 4), 'FAIL');
    assert.equal(data.toString('utf8', 8), 'open failed: No such file or directory');
  });
});

test('the phone is told when the client wants a pty: interactive legacy shells and v2 pty', async () => {
  await withAdbd({}, async ({ host }) => {
    const cases: [string, string][] = [
      ['shell:', 'pty\n'],
      ['shell:tty', 'raw\n'],
      ['exec:tty', 'raw\n'],
      ['shell,v2,TERM=xterm-256color,pty:tty', 'pty\n'],
      ['shell,v2,raw:tty', 'raw\n'],
    ];
    let id = 60;
    for (const [service, expected] of cases) {
      id++;
      assert.equal((await host.open(id, service))?.command, A_OKAY, service);
      const { data } = await host.drain(id);
      const text = service.includes('v2')
        ? Buffer.concat(
            new ShellPacketReader()
              .push(data)
              .filter((p) => p.id === 1)
              .map((p) => p.data),
          ).toString()
        : data.toString();
      assert.equal(text, expected, service);
    }
  });
});

test('reboot() from the phone side drops the host, refuses it while booting, then serves it again', async () => {
  await withAdbd({ rebootMs: 300 }, async ({ adbd, host, phone }) => {
    adbd.reboot('recovery');
    assert.equal(await host.next(), undefined);
    assert.ok(host.ended);
    assert.deepEqual(phone.reboots, ['recovery']);
    const during = await TestHost.connect(adbd.port);
    during.hello();
    assert.equal(await during.next(), undefined);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await TestHost.connect(adbd.port);
    after.hello();
    assert.equal((await after.next())?.command, A_CNXN);
    after.close();
  });
});
