/**
 * The one error type of bad input: its message is one line and starts with the option,
 * variable or key at fault. The CLI prints it and exits with the usage code.
 * @module
 */

/** Bad input. The message is one line and starts with the option, variable or key at fault. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
