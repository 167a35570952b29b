// Configuration errors: the one error type every config path throws. The
// messages themselves come from the module (configErrorText, docs/abi.md
// §1a): it parses every configuration format and names the user's field.

/**
 * A configuration the host or the module refused. `message` is one line:
 * "<field>: <what is wrong>" (with the byte offset for binary input).
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly field: string;

  constructor(field: string, what: string) {
    super(`${field}: ${what}`);
    this.field = field;
  }
}

/** Throws a host-side ConfigError (a file the host cannot read). */
export function fail(field: string, what: string): never {
  throw new ConfigError(field, what);
}
