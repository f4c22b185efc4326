/**
 * One error class per failure kind, each with the action that failed, readonly context and a
 * hint that tells the operator what to do next. Callers switch on `code`, never on message text.
 */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNREADABLE"
  | "SLACK_SETTINGS_INVALID"
  | "COMMAND_FAILED"
  | "NOT_ROOT"
  | "LAB_NOT_UP"
  | "LAB_STEP_FAILED"
  | "LAB_CONFLICT"
  | "REDIS_UNREACHABLE"
  | "CONTROL_PLANE_UNREACHABLE"
  | "NODE_UNKNOWN"
  | "SSH_UNREACHABLE"
  | "SSH_AUTH_FAILED"
  | "SSH_HOST_KEY_MISMATCH"
  | "SSH_HOST_KEY_UNKNOWN"
  | "SSH_COMMAND_FAILED"
  | "SSH_COMMAND_TIMEOUT"
  | "DEPLOY_REFUSED"
  | "DEPLOY_LOCKED"
  | "JOB_TIMEOUT"
  | "CONTAINER_TIMEOUT"
  | "JOB_FAILED"
  | "JOB_WEDGED"
  | "SITE_KEY_MISSING"
  | "SITE_KEY_INVALID"
  | "PAYLOAD_PATH_REFUSED"
  | "SEALED_RECORD_UNREADABLE"
  | "SEALED_RECORD_CHANGED"
  | "CONTROLLER_RUNNING"
  | "SITE_KEY_ROTATION_FAILED"
  | "AUDIT_APPEND_FAILED";

export interface HarborHaErrorOptions {
  action: string;
  hint: string;
  context?: Readonly<Record<string, unknown>>;
  cause?: unknown;
}

export class HarborHaError extends Error {
  readonly code: ErrorCode;
  readonly action: string;
  readonly hint: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: HarborHaErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HarborHaError";
    this.code = code;
    this.action = options.action;
    this.hint = options.hint;
    this.context = options.context ?? {};
  }

  /** Multi-line text for a terminal: what failed, why, and what to do. */
  describe(): string {
    return `${this.action} failed: ${this.message}\n  hint: ${this.hint}`;
  }
}

export function isHarborHaError(error: unknown): error is HarborHaError {
  return error instanceof HarborHaError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
