/**
 * The text of `--mesos-constraint FIELD:OP[:ARG]` (Marathon's vocabulary: UNIQUE, MAX_PER,
 * LIKE, UNLIKE, CLUSTER, GROUP_BY). Pure: no I/O; the parser says exactly what is wrong with a
 * constraint in one Error line. What each operator admits is lib/mesos/constraints.ts's job.
 * @module
 */

/** The operators. */
export type ConstraintOperator = "UNIQUE" | "MAX_PER" | "LIKE" | "UNLIKE" | "CLUSTER" | "GROUP_BY";

/** One parsed constraint. */
export interface Constraint {
  readonly field: string;
  readonly op: ConstraintOperator;
  /** MAX_PER's N, GROUP_BY's N. */
  readonly n?: number;
  /** LIKE / UNLIKE, anchored at both ends. */
  readonly regex?: RegExp;
  /** CLUSTER's value. */
  readonly value?: string;
  /** As given, for logs. */
  readonly text: string;
}

const OPERATORS: readonly ConstraintOperator[] = [
  "UNIQUE",
  "MAX_PER",
  "LIKE",
  "UNLIKE",
  "CLUSTER",
  "GROUP_BY",
];

/**
 * Parses `FIELD:OP[:ARG]` (the operator in any case; ARG may itself hold colons).
 * @throws Error saying what is wrong
 * @example
 * ```ts
 * parseConstraint("rack:GROUP_BY:3"); // { field: "rack", op: "GROUP_BY", n: 3, ... }
 * ```
 */
export function parseConstraint(text: string): Constraint {
  const first = text.indexOf(":");
  if (first <= 0) throw new Error(`expected FIELD:OPERATOR[:ARG], got "${text}"`);
  const field = text.slice(0, first);
  const rest = text.slice(first + 1);
  const second = rest.indexOf(":");
  const opText = (second < 0 ? rest : rest.slice(0, second)).toUpperCase();
  const arg = second < 0 ? undefined : rest.slice(second + 1);
  const op = OPERATORS.find((o) => o === opText);
  if (!op) {
    throw new Error(`"${text}": unknown operator "${opText}" (expected ${OPERATORS.join(", ")})`);
  }
  const count = (what: string, min: number): number => {
    if (arg === undefined || !/^\d+$/.test(arg) || Number(arg) < min) {
      throw new Error(`"${text}": ${op} needs ${what} (an integer >= ${min})`);
    }
    return Number(arg);
  };
  switch (op) {
    case "UNIQUE":
      if (arg !== undefined) throw new Error(`"${text}": UNIQUE takes no argument`);
      return { field, op, text };
    case "MAX_PER":
      return { field, op, n: count("N", 1), text };
    case "GROUP_BY":
      return arg === undefined ? { field, op, text } : { field, op, n: count("N", 1), text };
    case "LIKE":
    case "UNLIKE": {
      if (arg === undefined || arg === "") throw new Error(`"${text}": ${op} needs a regex`);
      let regex: RegExp;
      try {
        regex = new RegExp(`^(?:${arg})$`);
      } catch (err) {
        throw new Error(`"${text}": bad regex: ${(err as Error).message}`);
      }
      return { field, op, regex, text };
    }
    case "CLUSTER":
      return arg === undefined || arg === ""
        ? { field, op, text }
        : { field, op, value: arg, text };
  }
}
