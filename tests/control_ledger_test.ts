/**
 * The start ledger: what is kept, what is withdrawn, what pruning drops and what the totals
 * remember after it.
 * @module
 */

import assert from "node:assert/strict";
import { StartLedger } from "../lib/control/ledger.ts";

Deno.test("ledger: starts of zero or fewer are not recorded", () => {
  const ledger = new StartLedger(10);
  ledger.record("warmer", 1, 0);
  ledger.record("warmer", 2, -3);
  assert.deepEqual(ledger.entries("warmer"), []);
  assert.equal(ledger.total("warmer"), 0);
});

Deno.test("ledger: a withdrawal takes starts off the newest end, across entries", () => {
  const ledger = new StartLedger(100);
  ledger.record("cooler", 1, 2);
  ledger.record("cooler", 2, 1);
  ledger.record("warmer", 2, 4);
  ledger.withdraw("cooler", 2);
  assert.deepEqual(ledger.entries("cooler"), [{ t: 1, n: 1 }]);
  assert.equal(ledger.total("cooler"), 1);
  // The other kind is untouched.
  assert.deepEqual(ledger.entries("warmer"), [{ t: 2, n: 4 }]);
});

Deno.test("ledger: withdrawing more than was recorded empties the kind and no more", () => {
  const ledger = new StartLedger(100);
  ledger.record("cooler", 1, 2);
  ledger.withdraw("cooler", 5);
  assert.deepEqual(ledger.entries("cooler"), []);
  assert.equal(ledger.total("cooler"), 0);
});

Deno.test("ledger: pruning drops entries older than the span, the totals keep them", () => {
  const ledger = new StartLedger(10);
  ledger.record("warmer", 0, 3);
  ledger.record("warmer", 5, 1);
  ledger.record("warmer", 12, 2);
  ledger.prune(15);
  assert.deepEqual(ledger.entries("warmer"), [{ t: 5, n: 1 }, { t: 12, n: 2 }]);
  assert.equal(ledger.countSince("warmer", -Infinity), 3);
  assert.equal(ledger.total("warmer"), 6);
});

Deno.test("ledger: countSince counts starts strictly after the time", () => {
  const ledger = new StartLedger(100);
  ledger.record("cooler", 1, 1);
  ledger.record("cooler", 3, 2);
  ledger.record("cooler", 5, 4);
  assert.equal(ledger.countSince("cooler", 3), 4);
  assert.equal(ledger.countSince("cooler", 2.9), 6);
  assert.equal(ledger.countSince("cooler", 5), 0);
});

Deno.test("ledger: newest gives one request time per start, newest first", () => {
  const ledger = new StartLedger(100);
  ledger.record("warmer", 1, 2);
  ledger.record("warmer", 4, 2);
  assert.deepEqual(ledger.newest("warmer", 3), [4, 4, 1]);
  assert.deepEqual(ledger.newest("warmer", 9), [4, 4, 1, 1]);
  assert.deepEqual(ledger.newest("cooler", 2), []);
});

Deno.test("ledger: its index is kept while the entries are, and follows every change", () => {
  const ledger = new StartLedger(100);
  const box = { type: "box", delay: 0, duration: 1000 } as const;
  ledger.record("cooler", 1, 2);
  const first = ledger.index("cooler");
  assert.equal(ledger.index("cooler"), first, "asked again with nothing changed: the same index");
  assert.equal(first.acting(box, 50), 2);
  ledger.record("cooler", 3, 1);
  assert.equal(ledger.index("cooler").acting(box, 50), 3, "a start recorded");
  ledger.withdraw("cooler", 2);
  assert.equal(ledger.index("cooler").acting(box, 50), 1, "two withdrawn, one of them in place");
  ledger.prune(150);
  assert.equal(ledger.index("cooler").acting(box, 150), 0, "pruned");
  assert.equal(ledger.index("warmer").acting(box, 150), 0, "a kind with no starts");
});
