/**
 * An in-memory executor for loop tests: records what the loop asked for and lets the test move
 * tasks between states by hand.
 * @module
 */

import type { Clock } from "../../lib/clock.ts";
import type {
  Executor,
  ExitMode,
  TaskEvent,
  TaskKind,
  TaskState,
  TaskView,
} from "../../lib/executor/types.ts";

export class FakeExecutor implements Executor {
  readonly name = "fake";
  readonly launches: { kind: TaskKind; count: number }[] = [];
  readonly kills: string[][] = [];
  shutdownMode?: ExitMode;
  failNextLaunch = false;
  readonly #tasks = new Map<string, TaskView>();
  readonly #listeners = new Set<(e: TaskEvent) => void>();
  #next = 0;

  constructor(private readonly clock: Clock, private readonly startAs: TaskState = "running") {}

  launch(kind: TaskKind, count: number): string[] {
    if (this.failNextLaunch) {
      this.failNextLaunch = false;
      throw new Error("no capacity");
    }
    this.launches.push({ kind, count });
    const ids = [];
    for (let i = 0; i < count; i++) {
      const id = `fake-${kind}-${this.#next++}`;
      const now = this.clock.now();
      this.#tasks.set(id, {
        id,
        kind,
        state: this.startAs,
        requestedAt: now,
        ...(this.startAs === "running" ? { startedAt: now } : {}),
      });
      ids.push(id);
    }
    return ids;
  }

  kill(ids: readonly string[]): void {
    this.kills.push([...ids]);
    for (const id of ids) this.set(id, "killed");
  }

  set(id: string, state: TaskState): void {
    const task = this.#tasks.get(id);
    if (!task) return;
    const next = { ...task, state, endedAt: this.clock.now() };
    this.#tasks.set(id, next);
    for (const l of this.#listeners) l({ task: next, previous: task.state });
  }

  tasks(): TaskView[] {
    return [...this.#tasks.values()];
  }

  onTaskEvent(listener: (event: TaskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  shutdown(mode: ExitMode): Promise<void> {
    this.shutdownMode = mode;
    return Promise.resolve();
  }
}
