/**
 * Relay.Mesos's default control law. Each tick it asks: given what the tasks already started
 * (running or still in flight) will do, how many more are needed to bring the metric to the
 * target? The per-task effect comes from {@linkcode ResponseLearner}; there is no integrator, so
 * nothing winds up while tasks cannot start, and demand never piles up across ticks.
 *
 * - level response: need = error − effect still to come from tasks in flight or just started,
 *   and from tasks about to end (not replaced while the metric rests on a floor at the target);
 * - rate response: predict the metric at the end of the dead time from the drift and the tasks
 *   running or on their way (each over its known window, see `predict.ts`), then pick the number
 *   of tasks whose combined slope closes that predicted error over one task lifetime (or a few
 *   dead times when lifetimes are unknown); resting on a floor at the target (an empty queue),
 *   where nothing can go past it, over one dead time, rounding up.
 *
 * While a gain is not yet known, starts are capped to double what already runs (slow start).
 * A learned gain that collapses (an unsure estimate under a quarter of the last sure one) is
 * planned with as the last sure one.
 *
 * Saturation: when even the upper end of the learned per-task effect is under a tenth of the
 * strongest one learned lately (or a hundredth of the first guess) with four or more running,
 * more tasks have stopped moving the metric (consumers sharing a database or a few cores), and
 * dividing the error by that effect would ask for thousands. The count running then is held (logged once); now and then a
 * probe doubles it for one round, and if the metric moves as tasks did before, the doubled count
 * is held and learning starts afresh. Reaching the target ends the hold.
 * A warmer observed to lower the metric (or a cooler to raise it) is reported once and that kind
 * is no longer started.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import { type Estimate, ResponseLearner, type ResponseModel } from "./learner.ts";
import { type Activity, predictMetric } from "./predict.ts";
import type { ControlLaw, Decision, KindFacts, Limits, Observation } from "./types.ts";
import { noAction } from "./types.ts";

/** Settings of {@linkcode AdaptiveLaw}. */
export interface AdaptiveOptions {
  /** First guess of one task's effect, in metric units. */
  readonly initialEffect: number;
  /** Response shape: learned (`auto`) or fixed. */
  readonly response: "auto" | "level" | "rate";
}

/**
 * The default law.
 *
 * @example
 * ```ts
 * const law = new AdaptiveLaw(limits, { initialEffect: 1, response: "auto" });
 * const d = law.decide({ t: 0, target: 10, metric: 4, tasks: emptyFacts() });
 * d.warmers; // 1 (slow start: the effect of a warmer is not known yet)
 * ```
 */
export class AdaptiveLaw implements ControlLaw {
  readonly name = "adaptive";
  readonly #limits: Limits;
  readonly #learner: ResponseLearner;
  readonly #warnings: string[] = [];
  readonly #wrongSign = new Set<TaskKind>();
  readonly #warned = new Set<TaskKind>();
  #lastUp = -Infinity;
  #lastDown = -Infinity;
  #lastT?: number;
  #dt = 1;
  /** Recent request-to-running delays (s); kept when the executor's window has none. */
  #startDelays: number[] = [0];
  /** Strongest confident per-task effect (magnitude) learned lately, per model and kind; decays. */
  readonly #peakGain: Record<ResponseModel, Record<TaskKind, number>> = {
    level: { warmer: 0, cooler: 0 },
    rate: { warmer: 0, cooler: 0 },
  };
  /** The last confident per-task effect (magnitude), per model and kind. */
  readonly #lastGain: Record<ResponseModel, Record<TaskKind, number>> = {
    level: { warmer: 0, cooler: 0 },
    rate: { warmer: 0, cooler: 0 },
  };
  /** Per kind, while saturated: the running count held (the count when it was first seen). */
  readonly #holding = new Map<TaskKind, Hold>();
  /** Recent samples (time, metric), newest last, for judging a probe. */
  readonly #recent: { t: number; m: number }[] = [];
  readonly #saturationWarned = new Set<TaskKind>();
  /** This law's recent starts, newest last: when the tasks still in flight were asked for. */
  readonly #asked: { t: number; kind: TaskKind; count: number }[] = [];

  constructor(limits: Limits, options: AdaptiveOptions) {
    this.#limits = limits;
    this.#learner = new ResponseLearner({ prior: options.initialEffect, mode: options.response });
  }

  /** The learner's current belief (for logs, the UI and tests). */
  estimate(): Estimate {
    return this.#learner.estimate();
  }

  takeWarnings(): string[] {
    return this.#warnings.splice(0);
  }

  decide(obs: Observation): Decision {
    const { warmer, cooler } = obs.tasks;
    if (this.#lastT !== undefined && obs.t > this.#lastT) {
      this.#dt = 0.8 * this.#dt + 0.2 * (obs.t - this.#lastT);
    }
    this.#lastT = obs.t;
    const delays = [...warmer.startDelays, ...cooler.startDelays];
    if (delays.length > 0) this.#startDelays = delays;
    this.#learner.observe(obs.t, obs.metric, warmer.running, cooler.running);
    const est = this.#learner.estimate();
    this.#checkSigns(est);
    this.#trackPeaks(est);
    this.#recent.push({ t: obs.t, m: obs.metric });
    if (this.#recent.length > 256) this.#recent.shift();
    this.#judgeProbes(obs.t, est);
    // A target reached is the end of any saturation: the tasks running were enough.
    if (obs.metric >= obs.target) this.#holding.delete("warmer");
    if (obs.metric <= obs.target) this.#holding.delete("cooler");

    const error = obs.target - obs.metric;
    // Trust a learned gain only when it is known and points the right way; else the first guess,
    // or, when the estimate is collapsing, the last known gain: a first guess fifty times weaker
    // than what was just learned would ask for fifty times the tasks.
    const gw = this.#gainInUse("warmer", est);
    const gc = -this.#gainInUse("cooler", est);
    const detail: Record<string, number | string | boolean> = {
      error: round(error),
      model: est.model,
      lag: est.lag,
      noise: round(est.noise),
    };
    // Only the gains of task kinds that can be started (or killed) say anything to a reader.
    if (this.#limits.hasWarmer) detail.gainWarmer = round(est.gainWarmer);
    if (this.#limits.hasCooler) detail.gainCooler = round(est.gainCooler);
    // With no deadband, being on target is no reason to stop: a queue at zero still needs the
    // consumers that keep it there, and tasks in flight may already be too many.
    if (this.#limits.deadband > 0 && Math.abs(error) <= this.#limits.deadband) {
      return noAction(`within deadband ±${this.#limits.deadband}`, detail);
    }

    // `need` is in the model's units: metric units (level) or metric units per second (rate).
    let need: number;
    let roundUp = false;
    if (est.model === "level") {
      const ago = this.#learner.countsAgo(est.lag) ?? { warmers: 0, coolers: 0 };
      // Resting on a floor at or above the target (an empty queue), the metric shows nothing of
      // how many tasks it takes to hold it there: replacing each task about to end would keep
      // however many happen to run, for good. They are let end; should the metric leave the
      // floor, the error says how many are needed (and gives the learner rows to learn from).
      const resting = est.floor !== undefined && obs.metric <= est.floor &&
        obs.target <= est.floor;
      const endingW = resting ? 0 : this.#ending(warmer);
      const endingC = resting ? 0 : this.#ending(cooler);
      const comingW = warmer.inflight + warmer.running - ago.warmers - endingW;
      const comingC = cooler.inflight + cooler.running - ago.coolers - endingC;
      const coming = gw * comingW + gc * comingC;
      need = error - coming;
      detail.coming = round(coming);
    } else {
      // Look ahead over the dead time: where will the metric be when a task asked for now
      // starts to act, with the tasks running or on their way, each over its known window?
      const delay = this.#deadTime(est);
      const life = fixedLifetime(
        [...warmer.lifetimes, ...cooler.lifetimes],
        [...warmer.runningAges, ...cooler.runningAges],
      );
      // A task keeps acting for its whole life, so the error is closed over about one life,
      // or a task started for a quick fix would carry the metric past the target. Resting on a
      // floor at the target (an empty queue) nothing can go past it: close it within a dead time.
      const atFloor = est.floor !== undefined && obs.target <= est.floor;
      const horizon = atFloor
        ? Math.max(delay, 2 * this.#dt)
        : life !== undefined
        ? Math.max(life, 2 * delay, 2 * this.#dt)
        : Math.max(4 * delay, 10 * this.#dt);
      const lag = est.lag * this.#dt;
      const activities = [
        ...this.#activities("warmer", warmer, gw, obs.t, lag),
        ...this.#activities("cooler", cooler, gc, obs.t, lag),
      ];
      // On the floor the drift cannot be seen (an empty queue looks the same with just
      // enough consumers as with far too many), so the last measured drift is kept. Probing
      // down to find it cost more error than it saved task-seconds in the benchmark.
      const drift = est.drift;
      const predicted = predictMetric(obs.metric, drift, activities, delay, est.floor);
      // Tasks that end before a replacement could act are left out, as in the level branch.
      const at = delay + this.#dt / 2;
      const slope = activities.reduce(
        (acc, a) => acc + (a.from <= at && at < a.until ? a.slope : 0),
        drift,
      );
      need = (obs.target - predicted) / horizon - slope;
      detail.predicted = round(predicted);
      detail.horizon = round(horizon);
      detail.drift = round(drift);
      detail.slope = round(slope);
      // At such a floor one task too many cannot push the metric past the target either:
      // round a need that stands out of the noise up, not to nearest.
      if (atFloor && -need * horizon > est.noise) roundUp = true;
    }
    detail.need = round(need);

    // Tasks still waiting for resources that the need no longer calls for are cancelled first:
    // after a starved spell only what is needed now may start.
    // Only whole tasks beyond the need are excess: those left must still be enough, or the
    // next tick would start again what this one cancelled.
    const excessWarmers = need < 0 ? Math.min(warmer.waiting, wholeTasks(-need / gw)) : 0;
    const excessCoolers = need > 0 ? Math.min(cooler.waiting, wholeTasks(need / -gc)) : 0;
    if (excessWarmers > 0 || excessCoolers > 0) {
      const kind = excessWarmers > 0 ? "warmer" : "cooler";
      const count = Math.max(excessWarmers, excessCoolers);
      return {
        warmers: 0,
        coolers: 0,
        kills: 0,
        cancel: { kind, count },
        reason: `cancel ${count} waiting ${kind}${count > 1 ? "s" : ""} no longer needed`,
        detail,
      };
    }

    // A need within two noise deviations is not evidence to act on. The need, not the error:
    // tasks known to end soon are a need the error does not show yet.
    const noiseBand = est.model === "level" ? Math.SQRT2 * est.noise : 0;
    const withinNoise = Math.abs(need) < noiseBand;
    detail.noiseBand = round(noiseBand);
    if (need > 0) {
      if (!this.#limits.hasWarmer) {
        // At or above the target, a need to warm only means more coolers than needed are on.
        return noAction(
          error > 0 ? "too cold, but no warmer" : "on target; more coolers on than needed",
          detail,
        );
      }
      if (this.#wrongSign.has("warmer")) return noAction("too cold; warmers lower it", detail);
      if (error <= 0 && !est.confidentWarmer) {
        return noAction("on target; warmer effect not known well enough to act ahead", detail);
      }
      if (withinNoise) return noAction("too cold, within noise", detail);
      if (obs.t - this.#lastUp < this.#limits.cooldownUp) return noAction("cooldown-up", detail);
      const n = this.#cap(roundTasks(need / gw), warmer, est.confidentWarmer, obs, detail, {
        doubtful: est.gainWarmer < 0,
        held: this.#held("warmer", est, warmer, obs.t),
      });
      if (n > 0) this.#lastUp = obs.t;
      this.#remember(obs.t, "warmer", n);
      return this.#result({ warmers: n, coolers: 0, kills: 0 }, "too cold", detail);
    }
    if (need < 0) {
      if (withinNoise) return noAction("too warm, within noise", detail);
      if (obs.t - this.#lastDown < this.#limits.cooldownDown) {
        return noAction("cooldown-down", detail);
      }
      if (this.#limits.coolerMode === "kill") {
        const killable = warmer.running + warmer.inflight;
        const wanted = roundUp ? Math.ceil(-need / gw - 1e-9) : roundTasks(-need / gw);
        const n = Math.min(wanted, killable);
        if (n > 0) this.#lastDown = obs.t;
        return this.#result({ warmers: 0, coolers: 0, kills: n }, "too warm", detail);
      }
      if (!this.#limits.hasCooler) {
        return noAction(
          error < 0 ? "too warm, but no cooler" : "on target; more warmers on than needed",
          detail,
        );
      }
      if (error >= 0 && !est.confidentCooler) {
        return noAction("on target; cooler effect not known well enough to act ahead", detail);
      }
      if (this.#wrongSign.has("cooler")) return noAction("too warm; coolers raise it", detail);
      const wanted = roundUp ? Math.ceil(need / gc - 1e-9) : roundTasks(need / gc);
      const n = this.#cap(wanted, cooler, est.confidentCooler, obs, detail, {
        doubtful: est.gainCooler > 0,
        held: this.#held("cooler", est, cooler, obs.t),
      });
      if (n > 0) this.#lastDown = obs.t;
      this.#remember(obs.t, "cooler", n);
      return this.#result({ warmers: 0, coolers: n, kills: 0 }, "too warm", detail);
    }
    return noAction("on target", detail);
  }

  #result(
    counts: { warmers: number; coolers: number; kills: number },
    why: string,
    detail: Record<string, number | string | boolean>,
  ): Decision {
    const total = counts.warmers + counts.coolers + counts.kills;
    const reason = total > 0
      ? `${why}, ${detail.model} model`
      : detail.saturated
      ? `${why}, but more tasks do not help (saturated)`
      : `${why}, enough tasks already coming`;
    return { ...counts, reason, detail };
  }

  /** Applies slow start, the per-tick limit and the concurrency limit. */
  #cap(
    wanted: number,
    facts: KindFacts,
    confident: boolean,
    obs: Observation,
    detail: Record<string, number | string | boolean>,
    { doubtful, held }: { doubtful: boolean; held: number | undefined },
  ): number {
    let n = wanted;
    if (held !== undefined) {
      // Saturated: replace what ends, up to the count held.
      detail.saturated = true;
      n = Math.min(n, Math.max(0, held - facts.running - facts.inflight));
    }
    if (doubtful) {
      // The tasks seem to push the wrong way: probe with one at a time until the learner knows.
      detail.probe = true;
      n = facts.inflight === 0 ? Math.min(n, 1) : 0;
    } else if (!confident) {
      const slowStart = Math.max(1, 2 * facts.running) - facts.inflight;
      if (slowStart < n) detail.slowStart = true;
      n = Math.min(n, Math.max(0, slowStart));
    }
    if (this.#limits.maxPerTick > 0) n = Math.min(n, this.#limits.maxPerTick);
    if (this.#limits.maxRunning > 0) {
      const { warmer, cooler } = obs.tasks;
      const busy = warmer.running + warmer.inflight + cooler.running + cooler.inflight;
      if (busy + n > this.#limits.maxRunning) detail.atMaxRunning = true;
      n = Math.min(n, Math.max(0, this.#limits.maxRunning - busy));
    }
    return n;
  }

  #remember(t: number, kind: TaskKind, count: number): void {
    if (count <= 0) return;
    this.#asked.push({ t, kind, count });
    if (this.#asked.length > 200) this.#asked.shift();
  }

  /**
   * When each task of a kind acts on the metric, in seconds from now: running ones from (their
   * start plus the effect lag) to the end of a fixed life when lives are fixed; those in flight
   * from when they should start, by this law's record of when it asked and the usual delay.
   */
  #activities(kind: TaskKind, facts: KindFacts, gain: number, now: number, lag: number) {
    const life = fixedLifetime(facts.lifetimes, facts.runningAges) ?? Infinity;
    const out: Activity[] = facts.runningAges.map((age) => ({
      slope: gain,
      from: lag - age,
      until: life - age + lag,
    }));
    const delay = this.#startDelay();
    let left = facts.inflight;
    for (let i = this.#asked.length - 1; i >= 0 && left > 0; i--) {
      const asked = this.#asked[i];
      if (asked.kind !== kind) continue;
      const count = Math.min(left, asked.count);
      left -= count;
      // Due in (delay − waited); once overdue, nobody knows: assume it waits as long again as
      // it is already late, but no longer than a task asked for now.
      const late = now - asked.t - delay;
      const from = (late <= 0 ? -late : Math.min(delay, late)) + lag;
      out.push({ slope: gain * count, from, until: from + life });
    }
    if (left > 0) out.push({ slope: gain * left, from: delay + lag, until: delay + lag + life });
    return out;
  }

  /** Running tasks of fixed-length life that will end before a replacement could take effect. */
  #ending(facts: KindFacts): number {
    const life = fixedLifetime(facts.lifetimes, facts.runningAges);
    if (life === undefined) return 0;
    const delay = this.#deadTime(this.#learner.estimate());
    return facts.runningAges.filter((age) => age + delay + this.#dt / 2 >= life).length;
  }

  /**
   * Usual seconds from asking for a task to its start: the lower quartile of recent delays, so
   * that tasks which waited out a starved spell (all starting together when it ends) do not
   * make every later task look slow.
   */
  #startDelay(): number {
    const sorted = [...this.#startDelays].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 4)];
  }

  /** Seconds from asking for a task to seeing its effect. */
  #deadTime(est: Estimate): number {
    return this.#startDelay() + est.lag * this.#dt;
  }

  /** The per-task effect to plan with, as a magnitude. */
  #gainInUse(kind: TaskKind, est: Estimate): number {
    const { gain, confident, prior } = sideOf(est, kind);
    if (confident && gain > 0) return gain;
    const last = this.#lastGain[est.model][kind];
    if (last > 0 && gain < last / 4) return last;
    return prior;
  }

  /**
   * The metric's slope (rate model) or mean (level model) over samples in [from, to]; undefined
   * with fewer than two.
   */
  #measure(model: ResponseModel, from: number, to: number): number | undefined {
    const window = this.#recent.filter((r) => r.t >= from && r.t <= to);
    if (window.length < 2) return undefined;
    if (model === "level") return window.reduce((a, r) => a + r.m, 0) / window.length;
    const first = window[0];
    const last = window.at(-1)!;
    return (last.m - first.m) / (last.t - first.t);
  }

  /**
   * A probe is judged once its tasks had a dead time and three ticks to act: when the metric
   * moved at least half as far as the extra tasks would have at the strongest effect learned,
   * the system takes more again. The count held doubles and the learner starts afresh, as what
   * it holds describes the saturated system.
   */
  #judgeProbes(t: number, est: Estimate): void {
    for (const [kind, hold] of this.#holding) {
      const probe = hold.probe;
      if (!probe) continue;
      const start = probe.t + this.#deadTime(est);
      if (t < start + 3 * this.#dt) continue;
      delete hold.probe;
      const after = this.#measure(est.model, start, t);
      if (probe.before === undefined || after === undefined) continue;
      const reference = Math.max(this.#peakGain[est.model][kind], this.#lastGain[est.model][kind]);
      const moved = (kind === "warmer" ? 1 : -1) * (after - probe.before);
      if (reference > 0 && moved >= 0.5 * probe.extra * reference) {
        hold.count += probe.extra;
        this.#learner.forget();
      }
    }
  }

  /** Follows the strongest confident gain per kind, forgetting it over about 150 ticks. */
  #trackPeaks(est: Estimate): void {
    const decay = Math.pow(0.5, 1 / 150);
    for (const kind of ["warmer", "cooler"] as const) {
      const { gain, confident } = sideOf(est, kind);
      const learned = confident && gain > 0 ? gain : 0;
      const peak = this.#peakGain[est.model];
      peak[kind] = Math.max(learned, peak[kind] * decay);
      if (learned > 0) this.#lastGain[est.model][kind] = learned;
    }
  }

  /**
   * The count of a kind to keep running while it is saturated (its per-task effect, even at the
   * top of its error bar, under a tenth of its recent confident peak or a hundredth of the first
   * guess), with a probe's extra tasks when one is due; undefined when it is not saturated.
   */
  #held(
    kind: TaskKind,
    est: Estimate,
    facts: KindFacts,
    t: number,
  ): number | undefined {
    const side = sideOf(est, kind);
    const gain = Math.abs(side.gain);
    const { se, prior } = side;
    const peak = this.#peakGain[est.model][kind];
    // Next to nothing at all also counts: a hundredth of the first guess (no peak is ever seen
    // when the tasks saturate the system from the first few on).
    const floor = Math.max(peak / 10, prior / 100);
    // Even its upper bound (two standard errors) under the floor: not just an unsure estimate.
    // A hold lasts until the target is reached (see decide) or a probe shows more tasks help.
    // Only with several tasks running: a queue resting empty also hides what one or two do.
    let hold = this.#holding.get(kind);
    if (!hold && (facts.running < MIN_SATURATED || !(gain + 2 * se < floor))) return undefined;
    if (!hold) {
      hold = { count: facts.running, probedAt: t };
      this.#holding.set(kind, hold);
      if (!this.#saturationWarned.has(kind)) {
        this.#saturationWarned.add(kind);
        this.#warnings.push(
          `${kind} tasks seem saturated: one more now moves the metric by ${round(gain)}, ` +
            `against ${round(Math.max(peak, prior))} learned or first guessed; holding at ` +
            `${facts.running} running instead of adding more (--max-running bounds it for sure)`,
        );
      }
    }
    // A count held still teaches nothing: now and then twice as many, once the last probe is
    // over; if they move the metric as tasks did before, that count is held (#judgeProbes).
    const every = Math.max(10 * this.#dt, 4 * this.#deadTime(est));
    if (
      !hold.probe && t - hold.probedAt >= every && facts.running + facts.inflight <= hold.count
    ) {
      hold.probedAt = t;
      const extra = Math.max(1, hold.count);
      hold.probe = { t, extra, before: this.#measure(est.model, t - every, t) };
      return hold.count + extra;
    }
    return hold.count;
  }

  #checkSigns(est: Estimate): void {
    this.#wrongSign.clear();
    const check = (kind: TaskKind, wrong: boolean, gain: number) => {
      if (!wrong) return;
      this.#wrongSign.add(kind);
      if (this.#warned.has(kind)) return;
      this.#warned.add(kind);
      this.#warnings.push(
        `${kind} tasks ${kind === "warmer" ? "LOWER" : "RAISE"} the metric (learned effect ` +
          `${round(gain)} per task): are --warmer and --cooler swapped? No ${kind}s are ` +
          `started while this holds.`,
      );
    };
    check("warmer", est.wrongSignWarmer, est.gainWarmer);
    check("cooler", est.wrongSignCooler, est.gainCooler);
  }
}

/**
 * One kind's side of an estimate, with its gain and first guess signed so that positive is the
 * direction that kind should move the metric (up for warmers, down for coolers).
 */
function sideOf(est: Estimate, kind: TaskKind) {
  const warmer = kind === "warmer";
  const sign = warmer ? 1 : -1;
  return {
    gain: sign * (warmer ? est.gainWarmer : est.gainCooler),
    se: warmer ? est.seWarmer : est.seCooler,
    prior: sign * (warmer ? est.priorWarmer : est.priorCooler),
    confident: warmer ? est.confidentWarmer : est.confidentCooler,
  };
}

/** Fewest tasks of a kind running for their lack of effect to count as saturation. */
const MIN_SATURATED = 4;

/** A count held while a kind of task seems saturated, and the probe under way, if any. */
interface Hold {
  count: number;
  probedAt: number;
  probe?: { t: number; extra: number; before: number | undefined };
}

/** Whole tasks in a fractional count. */
function wholeTasks(x: number): number {
  return Math.max(0, Math.floor(x + 1e-9));
}

/** Rounds a fractional task count: half a task or less is no task. */
function roundTasks(x: number): number {
  return Math.max(0, Math.ceil(x - 0.5 - 1e-9));
}

/**
 * The typical lifetime when tasks live about equally long (at least five seen, spread within a
 * quarter of the median, and no running task already well past it); undefined otherwise.
 */
export function fixedLifetime(
  lifetimes: readonly number[],
  runningAges: readonly number[] = [],
): number | undefined {
  if (lifetimes.length < 5) return undefined;
  const sorted = [...lifetimes].sort((a, b) => a - b);
  const lo = sorted[Math.floor(sorted.length * 0.1)];
  const hi = sorted[Math.ceil(sorted.length * 0.9) - 1];
  const mid = sorted[Math.floor(sorted.length / 2)];
  if (hi - lo > 0.25 * mid) return undefined;
  if (runningAges.some((age) => age > 1.25 * hi + 1)) return undefined;
  return mid;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
