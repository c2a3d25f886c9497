import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SimUsageError } from './errors.js';
import { parseControlRequest, sendControl, startControl } from './sim-control.js';

describe('the lab control socket', () => {
  it('reads only well-formed requests', () => {
    assert.deepEqual(parseControlRequest('{"op":"unplug","serial":"A1"}'), { op: 'unplug', serial: 'A1' });
    assert.deepEqual(parseControlRequest('{"op":"sim-insert","serial":"A1"}'), {
      op: 'sim-insert',
      serial: 'A1',
    });
    assert.deepEqual(
      parseControlRequest('{"op":"sms-receive","serial":"A1","from":"+44 7700 900456","text":"hello"}'),
      { op: 'sms-receive', serial: 'A1', from: '+44 7700 900456', text: 'hello' },
    );
    assert.deepEqual(parseControlRequest('{"op":"factory-reset","serial":"A1"}'), {
      op: 'factory-reset',
      serial: 'A1',
    });
    for (const bad of [
      '',
      'null',
      '[]',
      '{"op":"reboot","serial":"A"}',
      '{"op":"sim-eject","serial":"A"}',
      '{"op":"plug"}',
      '{"op":"factory-reset"}',
      '{"op":"plug","serial":5}',
      // An SMS needs a sender that is a number and a text of 1 to 160 characters.
      '{"op":"sms-receive","serial":"A"}',
      '{"op":"sms-receive","serial":"A","from":"$(reboot)","text":"hi"}',
      '{"op":"sms-receive","serial":"A","from":"+44 7700 900456","text":""}',
      `{"op":"sms-receive","serial":"A","from":"+44 7700 900456","text":"${'x'.repeat(161)}"}`,
    ])
      assert.equal(parseControlRequest(bad), undefined, bad);
  });

  it('answers a request, passes a refusal on as a usage error, and says when no lab runs there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'phonehome-control-'));
    try {
      await assert.rejects(
        sendControl(dir, { op: 'plug', serial: 'x' }),
        /no running lab with a control socket/,
      );
      const server = await startControl(dir, async (r) =>
        r.serial === 'A1'
          ? { ok: true, detail: `${r.serial} ${r.op}ged` }
          : { ok: false, error: `no phone ${r.serial}` },
      );
      try {
        assert.equal(await sendControl(dir, { op: 'unplug', serial: 'A1' }), 'A1 unplugged');
        await assert.rejects(sendControl(dir, { op: 'plug', serial: 'B2' }), (e: unknown) => {
          assert.ok(e instanceof SimUsageError);
          assert.equal(e.message, 'no phone B2');
          return true;
        });
      } finally {
        server.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
