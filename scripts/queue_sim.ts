/**
 * A simulated work queue: the demo plant for Relay. Items arrive at a changing rate and wait
 * in the queue until consumers take them over HTTP. The queue length is the metric Relay
 * steers (coolers are consumers, see `queue_consumer.ts`), and the stepping arrival rate makes
 * the right number of consumers change over time, so the control loop has something to do.
 *
 * Endpoints (on 127.0.0.1 unless told otherwise): `GET /length` (plain number), `GET /stats` (JSON),
 * `POST /take?n=K` (removes up to K items, answers how many), `POST /hello` and `POST /bye`
 * (consumers register, for the consumer count in `/stats`).
 *
 * Standalone: `deno run --allow-net=127.0.0.1 scripts/queue_sim.ts --port 8080`, with
 * `--hostname ADDR` (default 127.0.0.1; `0.0.0.0` in the docker-compose demo, where consumers run
 * on Mesos agents in other containers), `--initial N` (items queued at the start, default 0) and
 * `--seed S` (jittered arrivals). It prints its URL and runs until SIGINT or SIGTERM.
 * @module
 */

import { ArrivalAccumulator } from "../sim/plants.ts";

/** Options of {@linkcode startQueueSim}. */
export interface QueueSimOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  hostname?: string;
  /** Arrival rate (items/s) at `t` seconds of simulated time since start. */
  rate: (tSeconds: number) => number;
  /**
   * Without a seed, arrivals are exactly `rate * dt` per tick (with fractional carry). With a
   * seed, each tick's arrivals are jittered by a factor in [0.5, 1.5) from a seeded generator,
   * which keeps the mean but adds repeatable noise.
   */
  seed?: number;
  /** Simulation step; default {@linkcode DEFAULT_TICK_MS}. */
  tickMs?: number;
  /** Items in the queue at the start; default 0. */
  initial?: number;
}

/** Counters of a running queue, as served by `GET /stats`. */
export interface QueueStats {
  /** Items waiting now. */
  length: number;
  /** Items that arrived since start (including the initial ones). */
  arrived: number;
  /** Items taken by consumers since start. */
  taken: number;
  /** Consumers registered (`/hello`) and not yet gone (`/bye`). */
  consumers: number;
}

/** A running queue simulation. */
export interface QueueSim {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Items waiting now. */
  length(): number;
  /** Current counters. */
  stats(): QueueStats;
  /** Stops the clock and the HTTP server. */
  close(): Promise<void>;
}

/**
 * Demo arrival rate: 2 items/s for 60 s, 8 items/s for 60 s, 0.5 items/s for 60 s, repeating.
 */
export function steppingRate(tSeconds: number): number {
  const phase = Math.floor(Math.max(0, tSeconds) / 60) % 3;
  return [2, 8, 0.5][phase];
}

/** Milliseconds between whole-item arrivals unless `tickMs` says otherwise. */
export const DEFAULT_TICK_MS = 100;

/**
 * Starts a simulated queue with an HTTP interface on 127.0.0.1.
 *
 * @example
 * ```ts
 * const sim = await startQueueSim({ rate: steppingRate });
 * console.log(sim.url, sim.length());
 * await sim.close();
 * ```
 */
export async function startQueueSim(opts: QueueSimOptions): Promise<QueueSim> {
  const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
  if (!(tickMs > 0)) throw new Error(`tickMs must be positive, got ${tickMs}`);
  const arrivals = new ArrivalAccumulator(opts.rate, opts.seed);
  const initial = Math.max(0, Math.floor(opts.initial ?? 0));
  const state = { length: initial, arrived: initial, taken: 0, consumers: 0 };

  const timer = setInterval(() => {
    const n = arrivals.step(tickMs / 1000);
    state.length += n;
    state.arrived += n;
  }, tickMs);

  const text = (body: string, status = 200) =>
    new Response(body + "\n", { status, headers: { "content-type": "text/plain" } });

  const handler = (req: Request): Response => {
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /length":
        return text(String(state.length));
      case "GET /stats":
        return Response.json({ ...state });
      case "POST /take": {
        const raw = url.searchParams.get("n") ?? "1";
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 0) return text(`bad n: ${raw}`, 400);
        const taken = Math.min(n, state.length);
        state.length -= taken;
        state.taken += taken;
        return text(String(taken));
      }
      case "POST /hello":
        state.consumers += 1;
        return text(String(state.consumers));
      case "POST /bye":
        state.consumers = Math.max(0, state.consumers - 1);
        return text(String(state.consumers));
    }
    const known = ["/length", "/stats", "/take", "/hello", "/bye"].includes(url.pathname);
    return known ? text("method not allowed", 405) : text("not found", 404);
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  const listening = new Promise<Deno.NetAddr>((resolve, reject) => {
    try {
      server = Deno.serve({
        port: opts.port ?? 0,
        hostname: opts.hostname ?? "127.0.0.1",
        onListen: resolve,
      }, handler);
    } catch (err) {
      reject(err);
    }
  });
  let addr: Deno.NetAddr;
  try {
    addr = await listening;
  } catch (err) {
    clearInterval(timer);
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${addr.hostname}:${addr.port}`,
    length: () => state.length,
    stats: () => ({ ...state }),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await server.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * relay.mesos options that steer this queue: its length as the metric, 0 as the target, and
 * `queue_consumer.ts` processes taking `rate` items/s for `life` s as the coolers.
 *
 * @example
 * ```ts
 * await main([...queueOptions(sim.url, { rate: 5, life: 10 }), "--duration", "60"]);
 * ```
 */
export function queueOptions(url: string, consumer: { rate: number; life: number }): string[] {
  const script = new URL("./queue_consumer.ts", import.meta.url).pathname;
  return [
    "--metric",
    `${url}/length`,
    "--target",
    "0",
    "--cooler",
    `'${Deno.execPath()}' run --quiet --allow-net=127.0.0.1 --allow-env '${script}'`,
    "--env",
    `QUEUE_URL=${url}`,
    "--env",
    `CONSUMER_RATE=${consumer.rate}`,
    "--env",
    `CONSUMER_LIFE=${consumer.life}`,
    "--env",
    "HOME",
  ];
}

function argValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(name + "=")) return args[i].slice(name.length + 1);
  }
  return undefined;
}

if (import.meta.main) {
  const portArg = argValue(Deno.args, "--port") ?? "0";
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`queue_sim: bad --port ${portArg}`);
    Deno.exit(2);
  }
  const seedArg = argValue(Deno.args, "--seed");
  const initialArg = argValue(Deno.args, "--initial") ?? "0";
  const initial = Number(initialArg);
  if (!Number.isInteger(initial) || initial < 0) {
    console.error(`queue_sim: bad --initial ${initialArg}`);
    Deno.exit(2);
  }
  const sim = await startQueueSim({
    port,
    hostname: argValue(Deno.args, "--hostname") ?? "127.0.0.1",
    rate: steppingRate,
    initial,
    seed: seedArg === undefined ? undefined : Number(seedArg),
  });
  console.log(sim.url);
  const stop = () => {
    sim.close().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
