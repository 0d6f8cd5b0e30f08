import assert from "node:assert/strict";
import { encodeRecord, RecordIODecoder, RecordIOError } from "../lib/mesos/recordio.ts";
import { seededRandom } from "../sim/plants.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const texts = (records: Uint8Array[]) => records.map((r) => dec.decode(r));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("recordio: one whole record", () => {
  const d = new RecordIODecoder(100);
  assert.deepEqual(texts(d.push(bytes("5\nhello"))), ["hello"]);
  assert.equal(d.idle, true);
});

Deno.test("recordio: many records in one chunk, including zero-length ones", () => {
  const d = new RecordIODecoder(100);
  assert.deepEqual(texts(d.push(bytes("2\nhi0\n3\nabc0\n0\n1\nz"))), [
    "hi",
    "",
    "abc",
    "",
    "",
    "z",
  ]);
});

Deno.test("recordio: a chunk with only a zero-length record", () => {
  const d = new RecordIODecoder(0);
  const records = d.push(bytes("0\n"));
  assert.equal(records.length, 1);
  assert.equal(records[0].length, 0);
});

Deno.test("recordio: split inside the length line and inside the data", () => {
  const d = new RecordIODecoder(100);
  assert.deepEqual(d.push(bytes("1")), []);
  assert.equal(d.idle, false);
  assert.deepEqual(d.push(bytes("2")), []);
  assert.deepEqual(d.push(bytes("\n")), []);
  assert.deepEqual(d.push(bytes("hello ")), []);
  assert.deepEqual(texts(d.push(bytes("world!3\nab"))), ["hello world!"]);
  assert.deepEqual(texts(d.push(bytes("c"))), ["abc"]);
  assert.deepEqual(d.push(new Uint8Array(0)), []);
  assert.equal(d.idle, true);
});

Deno.test("recordio: byte-by-byte feeding", () => {
  const records = ['{"type":"HEARTBEAT"}', "", "x".repeat(123), "ünïcödé"];
  const stream = concat(records.map((r) => encodeRecord(bytes(r))));
  const d = new RecordIODecoder(1000);
  const got: Uint8Array[] = [];
  for (const b of stream) got.push(...d.push(Uint8Array.of(b)));
  assert.deepEqual(texts(got), records);
  assert.equal(d.idle, true);
});

Deno.test("recordio: random chunking (seeded) always gives the same records", () => {
  const random = seededRandom(20240611);
  for (let round = 0; round < 200; round++) {
    const records: Uint8Array[] = [];
    const count = Math.floor(random() * 12);
    for (let i = 0; i < count; i++) {
      const len = random() < 0.15 ? 0 : Math.floor(random() * (random() < 0.1 ? 5000 : 40));
      records.push(Uint8Array.from({ length: len }, () => Math.floor(random() * 256)));
    }
    const stream = concat(records.map(encodeRecord));
    const d = new RecordIODecoder(5000);
    const got: Uint8Array[] = [];
    let at = 0;
    while (at < stream.length) {
      const size = 1 + Math.floor(random() * (random() < 0.5 ? 4 : 300));
      got.push(...d.push(stream.subarray(at, at + size)));
      at += size;
    }
    assert.deepEqual(got, records, `round ${round}`);
    assert.equal(d.idle, true);
  }
});

Deno.test("recordio: records never alias the pushed chunk", () => {
  const d = new RecordIODecoder(10);
  const chunk = bytes("3\nabc");
  const [record] = d.push(chunk);
  chunk.fill(0);
  assert.equal(dec.decode(record), "abc");
});

Deno.test("recordio: a frame exactly at the limit passes, one byte over fails", () => {
  assert.deepEqual(texts(new RecordIODecoder(3).push(bytes("3\nabc"))), ["abc"]);
  assert.throws(
    () => new RecordIODecoder(3).push(bytes("4\nabcd")),
    (err: unknown) => {
      assert.ok(err instanceof RecordIOError);
      assert.match(err.message, /frame of 4 bytes exceeds --mesos-max-frame-bytes 3/);
      return true;
    },
  );
});

Deno.test("recordio: an oversize length is refused before its data arrives", () => {
  const d = new RecordIODecoder(1024);
  assert.deepEqual(d.push(bytes("104857")), []);
  assert.throws(
    () => d.push(bytes("6\n")),
    /frame of 1048576 bytes exceeds --mesos-max-frame-bytes 1024/,
  );
});

Deno.test("recordio: malformed length lines throw RecordIOError", () => {
  const cases: [string, RegExp][] = [
    ["x\n", /length line contains "x"; expected decimal digits/],
    ["12a\nabc", /"a"/],
    ["-1\n", /"-"/],
    [" 3\nabc", /" "/],
    ["3\r\nabc", /byte 0x0d/],
    ["\n", /empty length line/],
    ["3\nabc\n", /empty length line/],
    ["1".repeat(21), /longer than 20 digits/],
  ];
  for (const [input, pattern] of cases) {
    const d = new RecordIODecoder(1 << 20);
    assert.throws(() => d.push(bytes(input)), (err: unknown) => {
      assert.ok(err instanceof RecordIOError, `${JSON.stringify(input)}: ${err}`);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"), "one-line message");
      return true;
    });
  }
});

Deno.test("recordio: a long length line fails even when fed byte by byte", () => {
  const d = new RecordIODecoder(1 << 20);
  assert.throws(() => {
    for (let i = 0; i < 30; i++) d.push(bytes("9"));
  }, RecordIOError);
});

Deno.test("recordio: after an error the decoder stays failed", () => {
  const d = new RecordIODecoder(10);
  assert.throws(() => d.push(bytes("oops\n")), RecordIOError);
  assert.throws(() => d.push(bytes("2\nhi")), RecordIOError);
  assert.throws(() => d.push(new Uint8Array(0)), RecordIOError);
  assert.equal(d.idle, false);
});

Deno.test("recordio: encodeRecord frames bytes and round-trips", () => {
  assert.deepEqual(encodeRecord(Uint8Array.of(1, 2, 3)), Uint8Array.of(0x33, 0x0a, 1, 2, 3));
  assert.deepEqual(encodeRecord(new Uint8Array(0)), bytes("0\n"));
  const big = new Uint8Array(12345).fill(7);
  const framed = encodeRecord(big);
  assert.equal(dec.decode(framed.subarray(0, 6)), "12345\n");
  assert.deepEqual(new RecordIODecoder(20000).push(framed), [big]);
});

Deno.test("recordio: constructor rejects a bad limit", () => {
  assert.throws(() => new RecordIODecoder(-1), RangeError);
  assert.throws(() => new RecordIODecoder(1.5), RangeError);
});

Deno.test("recordio: long and zero-padded length lines read as Number() reads them", () => {
  // 15 digits are exact; beyond, the length is rounded as Number("...") rounds it.
  assert.deepEqual(texts(new RecordIODecoder(10).push(bytes("000000000000000003\nabc"))), ["abc"]);
  for (
    const digits of ["123456789012345", "1234567890123456", "12345678901234567", "9".repeat(20)]
  ) {
    for (const step of [1, 3, 100]) {
      const d = new RecordIODecoder(1024);
      const input = bytes(digits + "\n");
      assert.throws(() => {
        for (let at = 0; at < input.length; at += step) d.push(input.subarray(at, at + step));
      }, new RegExp(`frame of ${Number(digits)} bytes exceeds`));
    }
  }
});

Deno.test("recordio: records cut from one chunk stay intact whatever happens to the others", () => {
  const d = new RecordIODecoder(100);
  const chunk = bytes("3\nabc2\nde4\nfg");
  const [abc, de] = d.push(chunk);
  chunk.fill(0);
  abc.fill(0x7a);
  assert.equal(dec.decode(de), "de");
  assert.equal(dec.decode(abc), "zzz");
  assert.deepEqual(texts(d.push(bytes("hi"))), ["fghi"]);
});
