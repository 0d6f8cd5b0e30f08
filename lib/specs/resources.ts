/**
 * The text of `--mesos-task-resources cpus=0.1,mem=64,disk=0,gpus=0`: what one task needs.
 * Pure: no I/O; a bad list is one Error line.
 * @module
 */

/** The scalar resources a task may ask for, in the order they are taken from an offer. */
export const TASK_RESOURCE_NAMES = ["cpus", "mem", "disk", "gpus"] as const;

/** What one task needs. Zero means "none of it". */
export interface TaskResources {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
}

/**
 * Parses `cpus=0.1,mem=64,disk=0,gpus=0` (missing names are 0; at least cpus or mem must be > 0).
 *
 * @example
 * ```ts
 * parseTaskResources("cpus=0.5,mem=128"); // { cpus: 0.5, mem: 128, disk: 0, gpus: 0 }
 * ```
 */
export function parseTaskResources(text: string): TaskResources {
  const out = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  const seen = new Set<string>();
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^([a-z]+)=(\d+(?:\.\d+)?)$/);
    if (!m) throw new Error(`expected NAME=NUMBER, got "${part}"`);
    const name = m[1] as (typeof TASK_RESOURCE_NAMES)[number];
    if (!TASK_RESOURCE_NAMES.includes(name)) {
      throw new Error(`unknown resource "${m[1]}" (expected cpus, mem, disk, gpus)`);
    }
    if (seen.has(name)) throw new Error(`"${name}" given twice`);
    seen.add(name);
    out[name] = Number(m[2]);
  }
  if (out.cpus <= 0 && out.mem <= 0) throw new Error("a task needs cpus or mem > 0");
  return out;
}
