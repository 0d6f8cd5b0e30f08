/**
 * Every tuning constant of the adaptive law, in one table, each with the reason for its value.
 * None of them knows a plant: they are statements about time scales, confidence and numerics
 * that hold for any metric, because the law works in the metric's own units (gains, noise and
 * drift are learned) and in seconds of the loop's own clock.
 * @module
 */

export const TUNING = {
  // --- identification -----------------------------------------------------------------------
  /**
   * Effect delays tried, seconds from a task's start request to its first effect. Half a
   * second apart up to 4 s, so a short delay (a trigger's sleep, a process start-up) is within
   * a quarter second of a candidate: at ticks of half a second, a delay a second off puts a
   * whole tick of effect before or after the truth, at each end of every start, and the fits
   * then trade a wrong duration or gain for it. Then roughly geometric, so a delay of 30 s is
   * within a step of one as well.
   */
  delays: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 12, 16, 20, 24] as readonly number[],
  /**
   * Warm-ups tried for the running-count input: seconds a task runs before it acts. Half a
   * second apart up to 2 s, so a process start-up of under a second or two (a runtime, a
   * JVM, slower on a loaded machine) is within a quarter second of a candidate: counted as
   * acting a whole second too early, starting consumers read as weak and the arrivals as
   * strong. Then roughly geometric, like the delays.
   */
  warmups: [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12] as readonly number[],
  /**
   * Effect durations tried for a start's box response (seconds; Infinity = lasts): steps of
   * about a fifth, so a replacement planned from the learned end comes at most a few seconds
   * early or late for effects of half a minute.
   */
  durations: [
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    12,
    14,
    16,
    18,
    20,
    23,
    26,
    30,
    35,
    40,
    48,
    56,
    64,
    80,
    96,
    128,
    Infinity,
  ] as readonly number[],
  /** Shortest box a rate response may have (seconds): shorter is a level step per tick. */
  rateMinDuration: 3,
  /** Decay time constants tried for a start's response (random lives). */
  decays: [4, 8, 16, 32, 64, 128] as readonly number[],
  /**
   * Memory of the model-selection score, in samples: long enough that one outlier does not
   * switch models, short enough to follow a change of plant within a minute at 1 s ticks.
   */
  scoreMemory: 40,
  /**
   * A challenger must be this much less surprised per sample (nats) to replace the chosen
   * model: about one sample in twenty clearly better, so noise alone does not flip models.
   */
  switchMargin: 0.05,
  /** …for this many informative samples in a row: one lucky sample is not a new plant. */
  switchSamples: 5,
  /**
   * Surprise added per sample to more elaborate inputs (running with warm-up, start boxes,
   * decays), so that of two models that explain the data equally the simpler one wins. Each
   * step from running is larger than the switch margin, so a running model that explains as
   * well takes over again: in closed loop the law's own starts can keep a wrong timing from
   * being refuted.
   */
  complexity: { running: 0, warmup: 0.06, box: 0.12, decay: 0.15 },
  /**
   * Smallest noise (standard deviation of one tick's unexplained change) a fit may claim, as a
   * share of the first guess of a task's effect: a model is never sure to better than that.
   */
  noiseFloor: 0.05,
  /** Memory of the noise estimate, in samples. */
  noiseMemory: 30,
  /**
   * Per-sample random walk of a gain, relative to its size: 1 % lets a gain drift by about a
   * sixth over five minutes of 1 s ticks, so noisy samples do not make it wander, and a steady
   * state without new evidence does not forget it.
   */
  gainWalk: 0.01,
  /**
   * Per-sample random walk of the outside drift (a queue's arrivals, a load), relative to the
   * noise: arrivals can step at any time, and the drift must follow within a few samples.
   */
  driftWalk: 0.25,
  /** Prior standard deviation of a gain, as a multiple of the first guess (`--initial-effect`). */
  priorGainSpread: 10,
  /** A drift change is declared after this many surprises beyond `changeSigmas` of one sign. */
  changeRun: 2,
  changeSigmas: 2,
  /** Innovations beyond this many standard deviations are clipped (a load step, a glitch). */
  outlierSigmas: 4,
  /** Samples of a value seen exactly before it counts as a floor the metric rests on… */
  floorRepeats: 3,
  /** …while coolers act or were started within this many seconds. */
  floorPush: 30,
  /**
   * Most samples resting on a would-be floor that are kept to learn again, censored, once it
   * is one: a floor is known within a few pushed touches, and a value rested on for longer
   * without becoming one (nothing pushing) is a level. A full window is dropped and a new one
   * begins, so what is held stays bounded however long the metric rests.
   */
  floorReplayMax: 30,
  /** Oldest start kept in the ledger (seconds): the longest delay plus the longest box. */
  ledgerSeconds: 24 + 128,

  // --- planning -----------------------------------------------------------------------------
  /**
   * Longest look-ahead (seconds). Covers a start's delay and a useful part of its effect; the
   * plan is made again every tick, so looking further only adds guesses about the future.
   */
  horizonMax: 120,
  /** Shortest look-ahead, in ticks. */
  horizonMinTicks: 3,
  /** Time steps of the prediction per tick. */
  stepsPerTick: 2,
  /** At most this many starts are weighed in one tick (a hard ceiling with no limits set). */
  maxStartsPerTick: 1000,
  /** At most this many kills or cancels are weighed in one tick (the newest tasks). */
  maxRemovalsWeighed: 400,
  /**
   * How much of its uncertainty a gain is planned with towards the stronger side while it is
   * unsure, capped at this many times the mean and never under the first guess. A cap of 1
   * plans with the mean: the exploration cap already paces starts while a gain is unsure, and
   * halving the first starts (a cap of 2) made a plain "two tasks, please" take three ticks.
   */
  optimism: 1,
  optimismCap: 1,

  // --- exploration and guards ---------------------------------------------------------------
  /**
   * A gain is known once its mean is this many standard deviations from zero. Until then starts
   * go out in rounds (slow start on starts, not on running counts, so a trigger whose process
   * ends at once still ramps): see `probeGap` and `exploreGrowth`.
   */
  knownSigmas: 3,
  /**
   * While a gain is unknown, tasks count as helping once it is learned at this share of the
   * first guess or more; under it, only one probe per `probeGap` goes out (a warm-up: running,
   * not yet acting, so the gain first looks like zero).
   */
  helpingShare: 0.5,
  /** First starts allowed while nothing is known. */
  exploreFirst: 1,
  /**
   * Growth of the exploration cap while the gain is unknown: half as many again per second as
   * were started in the last effect window (per second, not per tick, so that a faster
   * `--delay` does not explore faster in time than the tasks can show their effect).
   */
  exploreGrowth: 0.5,
  /**
   * While unknown and the plan waits on a clear error, a probe of starts is made when none of
   * that kind was started for this many seconds: long enough to see the last probe's first
   * effect at the usual delays, short enough not to stall.
   */
  probeGap: 4,
  /** A kind is called the wrong way round once its gain is this many sigmas past zero. */
  wrongSignSigmas: 4,
  /** Surprise per sample added to a model whose gain points the wrong way (see identify.ts). */
  wrongSignPenalty: 1,
  /**
   * Surprise per sample added to a running-count model blind to a kind that was started (its
   * tasks are not seen running, see identify.ts): as heavy as a wrong sign, since planned with
   * it the law cannot act with that kind…
   */
  blindPenalty: 1,
  /**
   * …once a fit on starts leans to the kind helping by this many standard deviations: two, the
   * usual lean (as the saturation guard's wrong-sign lean), before the gain is known (three).
   */
  blindEvidence: 2,
  /**
   * A wrong-signed model alone decides when it is this much less surprised per sample (nats)
   * than the model planned with: it explains the data far better, not merely as well.
   */
  wrongSignClear: 2,
  /** …and only from models that have seen this many informative samples… */
  wrongSignSamples: 20,
  /**
   * …and whose effect of this many separate starts has begun: a gain learned from one or two
   * starts may be an outside change that came at the same time (arrivals that stepped up as
   * the first coolers' effect was due); with three, one such coincidence no longer decides.
   */
  wrongSignStarts: 3,
  /**
   * Saturation: tasks stop helping when the gain's optimistic end falls under this share of
   * the strongest gain learned lately, with at least `saturationMinTasks` acting.
   */
  saturationShare: 0.25,
  saturationMinTasks: 4,
  /** Half-life (seconds) of the strongest gain remembered for the saturation test. */
  peakHalfLife: 300,
  /**
   * The ramp: starts of a kind that do not act yet (this tick's and those still within a
   * start's delay) are at most what acts of it, so the count at most doubles per delay, or
   * this many: a few at a time are allowed from nothing.
   */
  rampMin: 4,
  /**
   * A task waits for room (no offer fits, no slot is free) once it has waited more than this
   * many times the quickest recent start of its kind, plus a tick: twice, so that offers that
   * come once a second, or a start slower than the last one, are not taken for a lack of room.
   */
  roomWaitFactor: 2,
  /**
   * Recent lives within this share of their mean are one fixed life (a task's work plus its
   * start-up, which varies by a few percent); a task running past it by more shows they are not.
   */
  fixedLifeSpread: 0.1,
  /** Seconds between probes while saturated; a probe allows this factor more tasks. */
  probeEvery: 30,
  probeFactor: 1.5,
  /**
   * Samples of a hold since its count was last set, before its own evidence may raise it: a probe's
   * tasks show over several ticks, and a slope fitted to a handful of noisy ones is not one.
   */
  saturationEvidenceSamples: 10,
  /**
   * The hold's slope counts as help only this many standard errors above nothing: two, so that
   * about one noisy fit in forty raises a hold that should stand.
   */
  saturationEvidenceSigmas: 2,
} as const;

/**
 * The default price of a task-second: a quarter of its effect. A task is started when it
 * removes at least that share of its own effect from the error: draining a backlog at once is
 * worth it, keeping a task for a rounding error is not. (The option table's default of
 * `--task-cost` is this constant.)
 */
export const DEFAULT_TASK_COST = 0.25;
