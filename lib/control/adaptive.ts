/**
 * Relay.Mesos's default control law (v2). Each tick, in stages:
 *
 * 1. identify (`identify.ts`): learn from the start history and the metric (and the running
 *    counts, as a second candidate input) how one start moves the metric over time: delay,
 *    size, how long it acts, level or rate;
 * 2. plan (`plan.ts`): predict the metric from everything already started and choose the whole
 *    number of starts, kills or cancels now that minimises predicted |error|·time plus the price
 *    of the task-seconds, over a horizon that covers a start's effect; decided again next tick;
 * 3. guards (`guards.ts`): deadband, wrong sign, exploration while a gain is unknown,
 *    saturation, cooldowns, each with a reason code;
 * 4. limits (`limits.ts`): per tick, at once, kinds that exist.
 *
 * There is no integrator: nothing winds up while tasks cannot start. The law remembers the
 * starts it decided (the loop carries them out), so the evidence of a trigger task, whose
 * process is gone before its effect begins, is not lost. Pure: no I/O, no timers.
 * @module
 */

import type { TaskKind } from "../executor/types.ts";
import {
  Cooldowns,
  deadband,
  exploreCap,
  type Guarded,
  SaturationGuard,
  waitingForRoom,
} from "./guards.ts";
import { Identifier, type ResponseModel, type Shape } from "./identify.ts";
import { StartLedger } from "./ledger.ts";
import { applyLimits } from "./limits.ts";
import { actsAfterOf, plan, type PlanResult } from "./plan.ts";
import { describeInput, type Input, runningActing } from "./response.ts";
import { DEFAULT_TASK_COST, TUNING } from "./tuning.ts";
import type { ControlLaw, Decision, Limits, Move, Observation, ReasonCode } from "./types.ts";
import { decide } from "./types.ts";

/** Settings of {@linkcode AdaptiveLaw}. */
export interface AdaptiveOptions {
  /** First guess of one task's effect, in metric units (per second for a rate). */
  readonly initialEffect: number;
  /** Response shape: learned (`auto`) or fixed (a hint). */
  readonly response: "auto" | "level" | "rate";
  /**
   * Price of one task-second as a share of what one task's effect is worth for a second
   * (`--task-cost`); 0 buys the least error. Default {@linkcode DEFAULT_TASK_COST}.
   */
  readonly taskCost?: number;
}

export { DEFAULT_TASK_COST } from "./tuning.ts";

const KINDS = ["warmer", "cooler"] as const;
/** Sign of the effect each kind is meant to have. */
const EXPECTED: Record<TaskKind, number> = { warmer: 1, cooler: -1 };

/** A kind's gain in `model` is known once its mean, along the kind's sign, is `knownSigmas` from zero. */
function isKnown(model: ResponseModel, kind: TaskKind): boolean {
  return EXPECTED[kind] * model.gain[kind] > TUNING.knownSigmas * model.sd[kind];
}

/**
 * The gain of `kind` to plan with from `model`: the learned mean once known; while unsure, the
 * stronger end of what is plausible (fewer starts at a time), never weaker than the first guess
 * `prior`; a gain of the wrong sign that is not yet sure is no guide.
 */
function planningGain(model: ResponseModel, kind: TaskKind, prior: number): number {
  const along = EXPECTED[kind] * model.gain[kind];
  const sd = model.sd[kind];
  const magnitude = isKnown(model, kind)
    ? along
    : Math.max(prior, Math.min(along + TUNING.optimism * sd, TUNING.optimismCap * along));
  return EXPECTED[kind] * Math.max(magnitude, 1e-12);
}

/**
 * The default law.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyFacts } from "./facts.ts";
 * const limits = {
 *   maxPerTick: 0, maxRunning: 0, cooldownUp: 0, cooldownDown: 0, deadband: 0,
 *   coolerMode: "kill" as const, hasWarmer: true, hasCooler: false,
 * };
 * const law = new AdaptiveLaw(limits, { initialEffect: 1, response: "auto" });
 * const d = law.decide({ t: 0, target: 10, metric: 4, tasks: emptyFacts() });
 * assert.equal(d.warmers, 1); // nothing is known of a warmer yet: it starts one and watches
 * assert.equal(d.code, "exploring");
 * ```
 */
export class AdaptiveLaw implements ControlLaw {
  readonly name = "adaptive";
  readonly #limits: Limits;
  readonly #opts: AdaptiveOptions;
  readonly #identifier: Identifier;
  /** Response shapes tried (`--response`). */
  readonly #shapes: readonly Shape[];
  readonly #ledger = new StartLedger(TUNING.ledgerSeconds);
  readonly #cooldowns: Cooldowns;
  readonly #saturation = new SaturationGuard();
  readonly #wrongSign = new Set<TaskKind>();
  readonly #warnings: string[] = [];
  #lastT?: number;
  #dt = 1;

  constructor(limits: Limits, opts: AdaptiveOptions) {
    this.#limits = limits;
    this.#opts = opts;
    this.#shapes = opts.response === "auto" ? ["level", "rate"] : [opts.response];
    this.#identifier = new Identifier({ prior: opts.initialEffect, shapes: this.#shapes });
    this.#cooldowns = new Cooldowns(limits);
  }

  /** What the law believes now of how a start moves the metric (the model it plans with). */
  model(): ResponseModel {
    return this.#identifier.best();
  }

  /** The `n` best models, best first: for diagnostics and tests. */
  ranking(n: number): ResponseModel[] {
    return this.#identifier.ranking(n);
  }

  takeWarnings(): string[] {
    return this.#warnings.splice(0);
  }

  decide(obs: Observation): Decision {
    if (this.#lastT !== undefined && obs.t > this.#lastT) this.#dt = obs.t - this.#lastT;
    this.#lastT = obs.t;
    this.#ledger.prune(obs.t);

    // 1. Identify.
    this.#identifier.observe({
      t: obs.t,
      metric: obs.metric,
      ages: { warmer: obs.tasks.warmer.runningAges, cooler: obs.tasks.cooler.runningAges },
    }, this.#ledger);
    const model = this.#identifier.best();

    const error = obs.target - obs.metric;
    const gains = this.#planningGains(model, obs, error);

    // 2. Plan, with every kind that exists and is not known to push the wrong way.
    const startable: Partial<Record<TaskKind, number>> = {};
    if (this.#limits.hasWarmer && !this.#wrongSign.has("warmer")) {
      startable.warmer = TUNING.maxStartsPerTick;
    }
    if (
      this.#limits.hasCooler && this.#limits.coolerMode === "launch" &&
      !this.#wrongSign.has("cooler")
    ) startable.cooler = TUNING.maxStartsPerTick;
    const canKill = this.#limits.coolerMode === "kill" && this.#limits.hasWarmer &&
      !this.#wrongSign.has("warmer");
    const targetAt = obs.targetAt ?? (() => obs.target);
    const planWith = (m: ResponseModel, gain: Record<TaskKind, number>) =>
      plan({
        t: obs.t,
        dt: this.#dt,
        metric: obs.metric,
        targetAt,
        model: m,
        tasks: obs.tasks,
        ledger: this.#ledger,
        gain,
        taskCost: this.#opts.taskCost ?? DEFAULT_TASK_COST,
        startable,
        canKill,
      });
    const planned = planWith(model, gains.plan);

    // 3. Guards, then 4. limits: each may cut the move and says why.
    let move: Move = planned.move;
    let code: ReasonCode = "plan";
    let note: string | undefined;
    const cut = (g: Guarded) => {
      if (g.code) {
        code = g.code;
        note = g.note;
      }
      move = g.move;
    };
    cut(this.#disputed(move, model, planWith));
    cut(this.#probe(move, obs, planned, gains.known, error));
    cut(keepWaitingUnknown(move, gains.known));
    cut(deadband(move, error, this.#limits.deadband));
    cut(this.#restingOnFloor(move, obs, model, planned));
    cut(this.#explorationCap(move, obs, planned, gains));
    cut(this.#ramp(move, obs, planned));
    if (move.type === "start") cut(waitingForRoom(move, obs.tasks[move.kind], this.#dt));
    cut(this.#saturation.check(move, obs.t, (k) => obs.tasks[k].running + obs.tasks[k].inflight));
    cut(this.#cooldowns.check(move, obs.t));
    cut(applyLimits(move, obs, this.#limits));

    // Carry the decision into the law's own record.
    switch (move.type) {
      case "start":
        this.#ledger.record(move.kind, obs.t, move.n);
        break;
      case "cancel":
        this.#ledger.withdraw(move.kind, move.n);
        break;
      case "kill":
        this.#ledger.withdraw("warmer", Math.min(move.n, obs.tasks.warmer.inflight));
        break;
    }
    if (move.type !== "wait") this.#cooldowns.done(move, obs.t);

    const detail = this.#detail(model, planned, error, gains);
    return decide(move, code, this.#reason(move, code, note, planned, obs, startable), detail);
  }

  /**
   * Gains to plan with: the learned ones, made optimistic (stronger) while unsure, the first
   * guess while nothing is learned; a kind found pushing the wrong way is reported once.
   */
  #planningGains(model: ResponseModel, obs: Observation, error: number) {
    const plan: Record<TaskKind, number> = { warmer: 0, cooler: 0 };
    const known: Record<TaskKind, boolean> = { warmer: false, cooler: false };
    const alongOf: Record<TaskKind, number> = { warmer: 0, cooler: 0 };
    for (const kind of KINDS) {
      const s = EXPECTED[kind];
      const g = model.gain[kind];
      const sd = model.sd[kind];
      const along = s * g;
      alongOf[kind] = along;
      // Judged only while none of the kind waits to start (a starved cluster makes every
      // start look useless), and taken back when the data stop saying so.
      if (obs.tasks[kind].waiting === 0 && this.#isUsed(kind, obs)) {
        const wrong = this.#wrongWay(kind, obs.t);
        if (wrong && !this.#wrongSign.has(kind)) {
          this.#wrongSign.add(kind);
          this.#warnings.push(
            `${kind}s move the metric the wrong way (learned ${
              fmt(wrong.gain[kind])
            } per ${kind}, ${wrong.shape}): no more ${kind}s will be started`,
          );
        } else if (!wrong && this.#wrongSign.has(kind)) {
          this.#wrongSign.delete(kind);
          this.#warnings.push(
            `${kind}s no longer look like they move the metric the wrong way: starting them again`,
          );
        }
      }
      known[kind] = isKnown(model, kind);
      plan[kind] = planningGain(model, kind, this.#opts.initialEffect);
      const tasks = obs.tasks[kind].running + obs.tasks[kind].inflight;
      const magnitudeNow = Math.max(along, 0);
      // A gain clearly the wrong way (in the model planned with, or in the best of either
      // shape) is the wrong-sign guard's business, not saturation.
      const tasksActing = along < -sd || this.#leansWrong(kind) ? 0 : tasks;
      if (
        this.#saturation.observe(
          kind,
          obs.t,
          model.shape,
          magnitudeNow,
          known[kind],
          tasksActing,
          error,
        )
      ) {
        this.#warnings.push(
          `${kind}s seem saturated: the learned effect per ${kind} fell to ${
            fmt(Math.max(along, 0))
          } (${model.shape}); holding at ${tasks} and probing now and then`,
        );
      }
    }
    return { plan, known, along: alongOf };
  }

  /**
   * While a kind's gain is not known, its starts go out in rounds, each at most as many again as
   * all started lately, so rounds double; once the data lean the wrong way (more of them, no
   * better), only probes go on.
   */
  #explorationCap(
    move: Move,
    obs: Observation,
    planned: PlanResult,
    gains: { known: Record<TaskKind, boolean>; along: Record<TaskKind, number> },
  ): Guarded {
    if (move.type !== "start" || gains.known[move.kind]) return { move };
    const since = obs.t - Math.max(planned.actsAfter + this.#dt, TUNING.delays.at(-1)!);
    // Before the first evidence of any effect (the gain as vague as the first guess), the
    // first starts are watched for a probe gap; after it, rounds are ticks.
    // No sign of help (the gain learned under half the first guess while its effect may
    // still be on its way, as with a warm-up, or too weak to see in the noise yet): a round
    // per probe gap, each as many again as started lately, so weak tasks still add up to a
    // visible effect. Otherwise the rounds grow by half each tick until the gain is known
    // and the plan takes over.
    const helping = gains.along[move.kind] >= TUNING.helpingShare * this.#opts.initialEffect;
    const watched = this.#ledger.countSince(move.kind, obs.t - TUNING.probeGap + 1e-9) > 0;
    const recent = this.#ledger.countSince(move.kind, since);
    const cap = !helping && watched
      ? 0
      : !helping
      ? Math.max(TUNING.exploreFirst, recent)
      : exploreCap(recent, this.#dt);
    if (move.n <= cap) return { move };
    return {
      move: cap > 0 ? { ...move, n: cap } : { type: "wait" },
      code: "exploring",
      note: cap > 0
        ? `the ${move.kind}s' effect is not known yet: at most ${cap} now`
        : `the ${move.kind}s' effect is not known yet: watching the last ones`,
    };
  }

  /**
   * A burst that the fit now ranked best does not call for waits: while a challenger leads the
   * model planned with but has not yet led long enough to replace it, and it knows what a
   * start of this kind does, more than one start goes out only as far as it, planned with
   * itself, asks for too (at least one, so that the model planned with is still tested).
   * Rises that one fit reads as new arrivals another explains by what it knows of the
   * tasks (consumers that ended earlier than the model planned with says): on a trigger's
   * queue, arrivals of 14/s learned from such a rise started ten consumers in 2.5 s while a
   * leading box of the consumers' true length asked for one at a time. A challenger that has
   * learned nothing of the kind's effect (a running count, for tasks never seen running) has
   * no say.
   */
  #disputed(
    move: Move,
    model: ResponseModel,
    planWith: (m: ResponseModel, gain: Record<TaskKind, number>) => PlanResult,
  ): Guarded {
    if (move.type !== "start" || move.n <= 1) return { move };
    const leader = this.#identifier.leader();
    if (leader.input === model.input && leader.shape === model.shape) return { move };
    const kind = move.kind;
    if (!isKnown(leader, kind)) return { move };
    const prior = this.#opts.initialEffect;
    const other = planWith(leader, {
      warmer: planningGain(leader, "warmer", prior),
      cooler: planningGain(leader, "cooler", prior),
    }).move;
    const n = Math.max(1, other.type === "start" && other.kind === kind ? other.n : 0);
    if (n >= move.n) return { move };
    return {
      move: { ...move, n },
      code: "disputed",
      note: `the fit now ranked best (${describeInput(leader.input)}, ${leader.shape}), ` +
        `not yet planned with, calls for ${n}`,
    };
  }

  /**
   * The ramp: the starts that do not act yet (these and those still within a start's delay)
   * are at most as many as act now, so the count at most doubles per delay, and a gain learned
   * too small, or tasks that stopped helping, cannot ask for thousands at once. Counted per
   * tick, a delay of four ticks let the count double four times before any start could show
   * whether the model was right.
   *
   * It waits for whichever expects the later effect: the model planned with, or the fit now
   * ranked best that has not yet led long enough to replace it. A warm-up found while the plan
   * still counts tasks as acting once they run would otherwise let the count double every tick
   * until the switch.
   */
  #ramp(move: Move, obs: Observation, planned: PlanResult): Guarded {
    if (move.type !== "start") return { move };
    const leader = this.#identifier.leader();
    const leaderAfter = actsAfterOf(leader.input, planned.startDelay);
    const slower = leaderAfter > planned.actsAfter;
    const after = slower ? leaderAfter : planned.actsAfter;
    const acting = slower
      ? this.#actingNow(leader.input, move.kind, obs)
      : planned.engaged[move.kind];
    const coming = this.#ledger.countSince(move.kind, obs.t - after + 1e-9);
    const cap = Math.max(0, Math.max(TUNING.rampMin, Math.ceil(acting)) - coming);
    if (move.n <= cap) return { move };
    return {
      move: cap > 0 ? { ...move, n: cap } : { type: "wait" },
      code: "ramp",
      note: coming > 0
        ? `${coming} ${move.kind}${coming > 1 ? "s" : ""} started and not acting yet: ` +
          `at most ${cap} more now (at most as many again as act)`
        : `at most ${cap} more ${move.kind}s now (double what acts)`,
    };
  }

  /** Tasks of `kind` acting now through `input`, as the plan counts those of its model. */
  #actingNow(input: Input, kind: TaskKind, obs: Observation): number {
    return input.type === "running"
      ? runningActing(obs.tasks[kind].runningAges, input.warmup)
      : this.#ledger.index(kind).acting(input, obs.t);
  }

  /**
   * On a floor at the target (an empty queue with the target at empty), how much cooling is
   * too much cannot be seen: the metric cannot show it, and a plan would replace every cooler
   * about to end. Through a level model no cooler is started there; when the metric leaves the
   * floor, the plan acts on what it sees. A rate model, which predicts the regrowth from its
   * drift, starts once the queue is predicted off the floor when a start now would first act.
   */
  #restingOnFloor(
    move: Move,
    obs: Observation,
    model: ResponseModel,
    planned: PlanResult,
  ): Guarded {
    const floor = this.#identifier.floor();
    if (
      move.type !== "start" || move.kind !== "cooler" || floor === undefined ||
      !this.#identifier.restsOnFloor(obs.metric) || obs.target > floor
    ) return { move };
    // A rate model sees the regrowth coming from its drift: it may start once the queue is
    // predicted off the floor (by more than its own noise) when a start now first acts.
    if (model.shape === "rate" && planned.predictedWait > floor + model.noise) {
      return { move };
    }
    return {
      move: { type: "wait" },
      code: "floor",
      note: `resting on the floor (${fmt(floor)}) at the target: more coolers would not show`,
    };
  }

  /**
   * Exploration: while the kind that would move the metric towards the target is not known,
   * and the plan (with a model that may say starts do nothing) waits on a clear error, a few
   * starts are made now and then, so that the data can tell.
   */
  #probe(
    move: Move,
    obs: Observation,
    planned: PlanResult,
    known: Record<TaskKind, boolean>,
    error: number,
  ): Guarded {
    if (move.type !== "wait") return { move };
    const kind: TaskKind | undefined = error > 0 && this.#limits.hasWarmer
      ? "warmer"
      : error < 0 && this.#limits.hasCooler && this.#limits.coolerMode === "launch"
      ? "cooler"
      : undefined;
    if (!kind || known[kind] || this.#wrongSign.has(kind)) return { move };
    // A clear error that is not going away: beyond the deadband, and predicted to be at least
    // as large when a start now could first act (a model that fits badly has a large noise
    // of its own, so that is not the yardstick here).
    const ahead = Math.abs(planned.predictedWait - obs.target);
    if (Math.abs(error) <= this.#limits.deadband || ahead < Math.abs(error) || ahead === 0) {
      return { move };
    }
    if (this.#ledger.countSince(kind, obs.t - TUNING.probeGap) > 0) return { move };
    const window = obs.t - Math.max(planned.actsAfter + this.#dt, TUNING.delays.at(-1)!);
    // A probe is for evidence, not for the whole need: a few tasks.
    const n = Math.min(
      exploreCap(this.#ledger.countSince(kind, window), this.#dt),
      TUNING.rampMin,
      Math.max(1, Math.ceil(Math.abs(error) / this.#opts.initialEffect)),
    );
    return {
      move: { type: "start", kind, n },
      code: "exploring",
      note: `the ${kind}s' effect is not known yet: ${n} to see what they do`,
    };
  }

  /**
   * A kind pushes the wrong way only when the best model of every shape (ranked without the
   * penalty a wrong sign gets when choosing the model to plan with) says so with confidence
   * from enough samples and enough starts, or the data prefer that explanation to the model
   * planned with by far: one shape alone, on closed-loop data, can fake a wrong sign, and the
   * kind is then no longer started for good. Returns the fit the verdict rests on (its gain is
   * what the warning reports, not the model planned with's), or undefined.
   */
  #wrongWay(kind: TaskKind, t: number): ResponseModel | undefined {
    const wrong = (m: ResponseModel | undefined) =>
      m !== undefined && m.samples >= TUNING.wrongSignSamples &&
      EXPECTED[kind] * m.gain[kind] < -TUNING.wrongSignSigmas * m.sd[kind] &&
      this.#startsBegun(kind, m.input, t) >= TUNING.wrongSignStarts;
    // The best explanation of the data, ranked without that penalty, must be a wrong-signed
    // one; it is enough alone when it explains the data far better than the model planned
    // with, else every shape must agree.
    const plain = this.#identifier.ranking(1, false)[0];
    if (!wrong(plain)) return undefined;
    if (plain.score + TUNING.wrongSignClear < this.#identifier.best().score) return plain;
    return this.#shapes.every((shape) => wrong(this.#identifier.bestOf(shape))) ? plain : undefined;
  }

  /**
   * Starts of `kind` (counted once per tick that started any) whose effect has begun by `t`
   * through `input`: the independent events a learned gain rests on. One start's delayed
   * effect and a change from outside at the same time cannot be told apart.
   */
  #startsBegun(kind: TaskKind, input: Input, t: number): number {
    const delay = actsAfterOf(input, 0);
    return this.#ledger.entries(kind).filter((e) => e.t + delay <= t).length;
  }

  /** True when the best model of some shape says, with two sigmas, that the kind pushes the wrong way. */
  #leansWrong(kind: TaskKind): boolean {
    return this.#shapes.some((shape) => {
      const m = this.#identifier.bestOf(shape);
      return m !== undefined && m.samples >= TUNING.wrongSignSamples &&
        EXPECTED[kind] * m.gain[kind] < -2 * m.sd[kind];
    });
  }

  #isUsed(kind: TaskKind, obs: Observation): boolean {
    return this.#ledger.countSince(kind, -Infinity) > 0 || obs.tasks[kind].running > 0;
  }

  /**
   * Why, in words that match the numbers: what the metric will be when a start now first acts
   * (with the move and without), and which guard or limit changed the plan. The action itself
   * is the decision's; the reason does not repeat it.
   */
  #reason(
    move: Move,
    code: ReasonCode,
    note: string | undefined,
    planned: PlanResult,
    obs: Observation,
    startable: Partial<Record<TaskKind, number>>,
  ): string {
    const ahead = `${fmt(planned.actsAfter + this.#dt)} s`;
    const target = (obs.targetAt ?? (() => obs.target))(obs.t + planned.actsAfter + this.#dt);
    const what = (m: Move) =>
      m.type === "start"
        ? `start ${m.n} ${m.kind}${m.n > 1 ? "s" : ""}`
        : m.type === "kill"
        ? `stop ${m.n} warmer${m.n > 1 ? "s" : ""}`
        : m.type === "cancel"
        ? `cancel ${m.n} waiting ${m.kind}${m.n > 1 ? "s" : ""}`
        : "wait";
    const predicted = `metric ${fmt(obs.metric)}, in ${ahead} ${fmt(planned.predictedWait)} ` +
      `without action (target ${fmt(target)})`;
    if (code !== "plan") {
      const wanted = what(planned.move);
      return `${note ?? code}${wanted !== what(move) ? ` (the plan was: ${wanted})` : ""}; ` +
        predicted;
    }
    if (move.type === "wait") {
      const off = target - planned.predictedWait;
      if (Math.abs(off) < 1e-9) return `on target; ${predicted}`;
      const up = off > 0;
      const canUp = startable.warmer !== undefined;
      const canDown = startable.cooler !== undefined ||
        (this.#limits.coolerMode === "kill" &&
          obs.tasks.warmer.running + obs.tasks.warmer.inflight > 0);
      if (up && !canUp) return `too cold, and no warmer can be started; ${predicted}`;
      if (!up && !canDown) return `too warm, and nothing can cool; ${predicted}`;
      return `no move pays for itself; ${predicted}`;
    }
    return `${predicted}, ${fmt(planned.predicted)} with it`;
  }

  #detail(
    model: ResponseModel,
    planned: PlanResult,
    error: number,
    gains: { plan: Record<TaskKind, number>; known: Record<TaskKind, boolean> },
  ): Decision["detail"] {
    const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : String(x));
    return {
      error: r(error),
      shape: model.shape,
      input: describeInput(model.input),
      drift: r(model.drift),
      sdDrift: r(model.sd.drift),
      gainWarmer: r(model.gain.warmer),
      gainCooler: r(model.gain.cooler),
      sdWarmer: r(model.sd.warmer),
      sdCooler: r(model.sd.cooler),
      knownWarmer: gains.known.warmer,
      knownCooler: gains.known.cooler,
      noise: r(model.noise),
      horizon: r(planned.horizon),
      actsAfter: r(planned.actsAfter),
      predicted: r(planned.predicted),
      predictedWait: r(planned.predictedWait),
      ...(model.floor === undefined ? {} : { floor: model.floor }),
    };
  }
}

/** A waiting task of a kind whose effect is not known yet is kept: it may show what it does. */
function keepWaitingUnknown(move: Move, known: Record<TaskKind, boolean>): Guarded {
  if (move.type !== "cancel" || known[move.kind]) return { move };
  return {
    move: { type: "wait" },
    code: "exploring",
    note: `keeping the waiting ${move.kind}s: their effect is not known yet`,
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2).replace(/\.?0+$/, "");
}
