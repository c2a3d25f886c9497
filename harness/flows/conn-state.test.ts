import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connState,
  Endpoint,
  flipTcpHistory,
  newTcpHistory,
  packTcpHistory,
  type TcpHistory,
  tcpFinished,
  tcpSegment,
  unpackTcpHistory,
} from './conn-state.js';

const F = 0x01;
const S = 0x02;
const R = 0x04;
const P = 0x08;
const A = 0x10;

/** Segments as [sender, flags, payload length]: 'o' the originator, 'r' the responder. */
type Step = ['o' | 'r', number, number?];

function replay(steps: Step[]): TcpHistory {
  let h = newTcpHistory();
  for (const [who, flags, len] of steps) h = tcpSegment(h, who === 'o', flags, len ?? 0);
  return h;
}

const handshake: Step[] = [
  ['o', S],
  ['r', S | A],
  ['o', A],
];

test('S0: a SYN nobody answered', () => {
  assert.equal(connState(replay([['o', S]])), 'S0');
  assert.equal(
    connState(
      replay([
        ['o', S],
        ['o', S],
      ]),
    ),
    'S0',
    'retransmitted SYN',
  );
});

test('S1: established, not closed', () => {
  assert.equal(connState(replay([...handshake, ['o', A | P, 100], ['r', A, 0]])), 'S1');
});

test('SF: established and closed by a FIN each way', () => {
  const h = replay([
    ...handshake,
    ['o', A | P, 517],
    ['r', A | P, 1400],
    ['o', F | A],
    ['r', F | A],
    ['o', A],
  ]);
  assert.equal(connState(h), 'SF');
  assert.ok(tcpFinished(h));
});

test('SF stays SF when a RST follows the FIN exchange', () => {
  assert.equal(connState(replay([...handshake, ['o', F | A], ['r', F | A], ['o', R]])), 'SF');
});

test('REJ: the SYN answered by a RST', () => {
  const h = replay([
    ['o', S],
    ['r', R | A],
  ]);
  assert.equal(connState(h), 'REJ');
  assert.ok(tcpFinished(h));
});

test('S2: established, the originator closed, no answer', () => {
  assert.equal(connState(replay([...handshake, ['o', F | A]])), 'S2');
});

test('S3: established, the responder closed, no answer', () => {
  assert.equal(connState(replay([...handshake, ['r', A | P, 10], ['r', F | A]])), 'S3');
});

test('RSTO: established, the originator aborted', () => {
  assert.equal(connState(replay([...handshake, ['o', A | P, 10], ['o', R | A]])), 'RSTO');
});

test('RSTR: established, the responder aborted', () => {
  assert.equal(connState(replay([...handshake, ['o', A | P, 10], ['r', R]])), 'RSTR');
});

test('RSTOS0: a SYN then a RST from the originator, no SYN-ACK', () => {
  assert.equal(
    connState(
      replay([
        ['o', S],
        ['o', R],
      ]),
    ),
    'RSTOS0',
  );
  // Once the originator sent a bare ACK the history no longer matches: OTH, as Zeek says.
  assert.equal(
    connState(
      replay([
        ['o', S],
        ['o', A],
        ['o', R],
      ]),
    ),
    'OTH',
  );
});

test('RSTRH: a SYN-ACK then a RST from the responder, the SYN never seen', () => {
  assert.equal(
    connState(
      replay([
        ['r', S | A],
        ['r', R],
      ]),
    ),
    'RSTRH',
  );
});

test('SH: a SYN then a FIN from the originator, no SYN-ACK', () => {
  assert.equal(
    connState(
      replay([
        ['o', S],
        ['o', F],
      ]),
    ),
    'SH',
  );
});

test('SHR: a SYN-ACK then a FIN from the responder, the SYN never seen', () => {
  assert.equal(
    connState(
      replay([
        ['r', S | A],
        ['r', F | A],
      ]),
    ),
    'SHR',
  );
});

test('OTH: picked up mid-stream, never closed', () => {
  assert.equal(
    connState(
      replay([
        ['o', A | P, 100],
        ['r', A],
      ]),
    ),
    'OTH',
  );
});

test('a missed SYN with its SYN-ACK and ACK seen still counts as established (S1)', () => {
  assert.equal(
    connState(
      replay([
        ['r', S | A],
        ['o', A],
      ]),
    ),
    'S1',
  );
});

test('a stack that ACKs the SYN before its SYN-ACK still ends established', () => {
  assert.equal(
    connState(
      replay([
        ['o', S],
        ['r', A],
        ['r', S | A],
        ['o', A],
      ]),
    ),
    'S1',
  );
});

test('turning a history round swaps the sides (S2 becomes S3, RSTO becomes RSTR)', () => {
  assert.equal(connState(flipTcpHistory(replay([...handshake, ['o', F | A]]))), 'S3');
  assert.equal(connState(flipTcpHistory(replay([...handshake, ['o', R]]))), 'RSTR');
});

test('tcpFinished only once both FINs or a RST were seen', () => {
  assert.equal(tcpFinished(replay(handshake)), false);
  assert.equal(tcpFinished(replay([...handshake, ['o', F | A]])), false);
  assert.equal(tcpFinished(replay([...handshake, ['o', F | A], ['r', F | A]])), true);
});

test('the packed history reads back as the endpoint states it went through', () => {
  const h = replay([...handshake, ['o', A | P, 10], ['o', F | A]]);
  const facts = unpackTcpHistory(h);
  assert.equal(facts.orig, Endpoint.Closed);
  assert.equal(facts.origPrev, Endpoint.Established);
  assert.equal(facts.resp, Endpoint.Established);
  assert.equal(facts.origData, true);
  assert.equal(facts.respData, false);
  assert.equal(packTcpHistory(facts), h);
});
