/**
 * A consumer task for the simulated queue (`queue_sim.ts`): the cooler of the demo. It takes
 * items from the queue at a fixed rate for a fixed life, then reports and exits, so Relay has
 * to keep launching consumers while the queue is long.
 *
 * Environment: `QUEUE_URL` (required), `CONSUMER_RATE` (items/s, default 5), `CONSUMER_LIFE`
 * (seconds, default 10). Exits 0 after its life or on SIGTERM/SIGINT, and 1 when the queue
 * cannot be reached.
 *
 * `QUEUE_URL=http://127.0.0.1:8080 deno run --allow-net=127.0.0.1 --allow-env scripts/queue_consumer.ts`
 * @module
 */

/** Milliseconds between a consumer's takes (the seeded replay of the bench polls at it too). */
export const STEP_MS = 100;

class QueueError extends Error {}

function numberFromEnv(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new QueueError(`${name} must be a number >= 0: ${raw}`);
  return n;
}

async function post(base: string, path: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { method: "POST" });
  } catch (err) {
    throw new QueueError(`queue unreachable at ${base}: ${(err as Error).message}`);
  }
  const body = (await res.text()).trim();
  if (!res.ok) throw new QueueError(`queue answered ${res.status} to ${path}: ${body}`);
  return body;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs one consumer; returns the process exit code. */
async function main(): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const base = Deno.env.get("QUEUE_URL");
    if (!base) throw new QueueError("QUEUE_URL is not set");
    const rate = numberFromEnv("CONSUMER_RATE", 5);
    const life = numberFromEnv("CONSUMER_LIFE", 10);

    await post(base, "/hello");
    const started = performance.now();
    let requested = 0;
    let consumed = 0;
    try {
      while (!stop.signal.aborted) {
        const elapsed = (performance.now() - started) / 1000;
        const end = elapsed >= life;
        // Capacity so far, minus what was already asked for: the fraction carries over.
        const n = Math.floor(rate * Math.min(elapsed, life)) - requested;
        if (n > 0) {
          requested += n;
          consumed += Number(await post(base, `/take?n=${n}`)) || 0;
        }
        if (end) break;
        await sleep(Math.min(STEP_MS, (life - elapsed) * 1000), stop.signal);
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      console.log(`consumed ${consumed} items in ${seconds.toFixed(1)} s`);
    }
    await post(base, "/bye").catch(() => {});
    return 0;
  } catch (err) {
    if (!(err instanceof QueueError)) throw err;
    console.error(`queue_consumer: ${err.message}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
