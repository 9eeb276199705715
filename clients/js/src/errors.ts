/** Every failure of the SDK is an `MdsError` whose `kind` names what failed. */
export type MdsErrorKind =
  | "network" // the CDN or API could not be reached
  | "server" // the server answered with an error (HTTP status, refused request)
  | "signature" // a signature does not verify with the pinned key
  | "unknown-key" // signed by a key the app does not pin
  | "format" // not the document or archive it should be
  | "rollback" // an index older than one already seen
  | "digest" // bytes differ from the SHA-256 / size they were published with
  | "truncated" // a package ended early
  | "extra" // a package holds more than its manifest lists
  | "validation" // bad input from the app (a device context field)
  | "network-type"; // not allowed on the current network (needClientNetType, Wi-Fi-only packages)

export class MdsError extends Error {
  readonly kind: MdsErrorKind;
  /** The input field at fault, for `validation` errors (e.g. `clientVersion`). */
  readonly field?: string;
  /** HTTP status, for `server` errors. */
  readonly status?: number;

  constructor(kind: MdsErrorKind, message: string, options: { field?: string; status?: number; cause?: unknown } = {}) {
    super(`${kind}: ${message}`);
    this.name = "MdsError";
    this.kind = kind;
    this.field = options.field;
    this.status = options.status;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export function validation(field: string, rule: string): MdsError {
  return new MdsError("validation", `${field} ${rule}`, { field });
}
