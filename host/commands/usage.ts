// The error a command throws for a bad command line: printed as one line,
// exit status 2 (bad configuration values exit 1, as ConfigError).
export class UsageError extends Error {
  override name = "UsageError";
}
