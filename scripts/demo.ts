/**
 * `deno task demo`: the queue example on this machine. A simulated work queue (fed at a rate
 * that steps between 2, 8 and 0.5 items/s) is the plant; consumer processes that take 5 items/s
 * for 10 s are the coolers; the metric is the queue's length and the target is 0. Prints one line
 * per tick, serves the web UI on http://127.0.0.1:8080/, and runs until Ctrl-C. Extra arguments go to relay.mesos, e.g. `-- --duration 60`.
 * @module
 */

import { main } from "../main.ts";
import { queueOptions, startQueueSim, steppingRate } from "./queue_sim.ts";

const sim = await startQueueSim({ rate: steppingRate, initial: 40, seed: 1 });
console.log(`demo: simulated queue at ${sim.url} (arrivals step 2 → 8 → 0.5 items/s every 60 s)`);
console.log("demo: consumers take 5 items/s for 10 s each; Ctrl-C to stop");

const controller = new AbortController();
const stop = () => controller.abort();
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

const args = [
  ...queueOptions(sim.url, { rate: 5, life: 10 }),
  ...(Deno.env.get("DENO_DIR") ? ["--env", "DENO_DIR"] : []),
  "--delay",
  "1",
  "--max-running",
  "40",
  "--on-exit",
  "kill",
  // The web UI (chart, decisions, pause/resume) on http://127.0.0.1:8080/ unless told otherwise.
  "--web",
  // `deno task demo -- --duration 60` passes the "--" through; it is not ours.
  ...(Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args),
];
const code = await main(args, controller.signal);
const stats = sim.stats();
await sim.close();
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
console.log(
  `demo: ${stats.arrived} items arrived, ${stats.taken} taken by consumers, ` +
    `${stats.length} left in the queue`,
);
Deno.exit(code);
