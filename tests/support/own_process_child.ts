/**
 * The child of `own_process.ts`: imports a module, calls one of its functions with JSON
 * arguments, waits, and prints `{ result, grewMb }` as its last line.
 * @module
 */

const [href, fn, json, settle] = Deno.args;
const mod = await import(href);
const before = Deno.memoryUsage().rss;
const result = await mod[fn](...JSON.parse(json));
await new Promise((r) => setTimeout(r, Number(settle)));
const grewMb = (Deno.memoryUsage().rss - before) / 1e6;
console.log(JSON.stringify({ result, grewMb }));
Deno.exit(0);
