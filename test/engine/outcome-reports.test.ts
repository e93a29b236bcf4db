import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLUSH_AT, GATHER_MS, TAIL } from '../../src/worker/outcome-batcher.js';
import { FIELDS, OutcomeReports } from '../../src/worker/outcome-reports.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** The executor thread's batching of outcomes (worker/outcome-reports.ts), with time and turns moved by hand. */
describe('OutcomeReports', () => {
  const setup = () => {
    const clock = new FakeClock();
    const posted: number[] = [];
    const turns: (() => void)[] = [];
    const reports = new OutcomeReports((out) => posted.push(out.length / FIELDS), clock, (fn) => turns.push(fn));
    const endTurn = () => turns.splice(0).forEach((fn) => fn());
    let key = 0;
    const add = (n: number, left: number) => {
      for (let i = 0; i < n; i++) reports.add(++key, { kind: 'ok', verifiedBy: 'ack' }, 1, left);
    };
    return { clock, posted, endTurn, add };
  };

  it('holds outcomes for GATHER_MS while many attempts are left', async () => {
    const { clock, posted, endTurn, add } = setup();
    add(10, 200);
    endTurn();
    await clock.advance(GATHER_MS - 1);
    assert.deepEqual(posted, [], 'nothing goes before GATHER_MS');
    add(5, 195);
    await clock.advance(1);
    assert.deepEqual(posted, [15], 'one message with everything gathered, GATHER_MS after the first');
    await clock.advance(GATHER_MS * 3);
    assert.deepEqual(posted, [15], 'no empty messages');
  });

  it('sends a full batch at the end of its turn, with the rest of that turn', async () => {
    const { clock, posted, endTurn, add } = setup();
    add(FLUSH_AT - 1, 500);
    assert.deepEqual(posted, []);
    add(3, 497);
    assert.deepEqual(posted, [], 'not in the middle of a turn');
    endTurn();
    assert.deepEqual(posted, [FLUSH_AT + 2]);
    assert.equal(clock.pending, 0, 'the gathering timer is gone with it');
  });

  it('never holds back the last TAIL attempts: each turn goes at its end', async () => {
    const { posted, endTurn, add } = setup();
    add(2, TAIL + 5);
    add(3, TAIL);
    endTurn();
    assert.deepEqual(posted, [5], 'once at most TAIL are left, the waiting ones go too');
    add(1, TAIL - 1);
    endTurn();
    add(2, 0);
    endTurn();
    assert.deepEqual(posted, [5, 1, 2]);
  });
});
