/** Base class: every error the program raises on purpose carries an exit status. */
export class AppError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line usage or a malformed argument (exit 2). */
export class UsageError extends AppError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A missing or invalid configuration value (exit 2). Never carries a secret's value. */
export class ConfigError extends AppError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`, 2);
  }
}

/** A session id that is well-formed but unknown to the store and to CloudTrail (exit 1). */
export class NotFoundError extends AppError {
  constructor(message: string) {
    super(message, 1);
  }
}

/**
 * STS refused (or could not be reached for) the AssumeRole of a watched account's role: that
 * account's targets cannot be polled or asked, the others go on. `cause` is STS's error.
 */
export class AssumeRoleError extends AppError {
  constructor(
    readonly roleArn: string,
    readonly account: string,
    override readonly cause: unknown,
  ) {
    const e = cause as { name?: string; message?: string };
    super(`cannot assume ${roleArn} (account ${account}): ${e?.name ?? 'Error'}: ${String(e?.message ?? cause).slice(0, 240)}`, 1);
  }
}
