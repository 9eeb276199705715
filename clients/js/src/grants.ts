/**
 * Time-window grants (docs/delivery.md, "Grants"), as the server's `domain/grants.py`: when the dynamic
 * API gives a device a time-window place it hands back a signed grant (an envelope by the workspace's
 * manifest key) naming the app, workspace, product, candidate, the SHA-256 of the device's identity and
 * `until`. The device keeps it and re-verifies it at every decision; a grant that verifies is a place it
 * holds (chosen, no request). A grant proves nothing to the server: one that fails is simply not held.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { type PublicKeys, openEnvelope } from "./envelope.js";
import { MdsError } from "./errors.js";
import { Device, type DeviceContext } from "./targeting.js";
import { hex, utf8 } from "./text.js";

export const GRANT_TYPE = "mds-grant/1";

/** A grant document (the envelope's signed payload). */
export interface Grant {
  type: typeof GRANT_TYPE;
  appId: string;
  workspaceId: string;
  product: string;
  candidate: string;
  /** `identityHash` of the device's identity (user ID, else device ID). */
  identity: string;
  /** Epoch seconds: the window's end. */
  until: number;
  issuedAt: number;
}

/** A grant envelope as the check API returns it: `{"keyId", "payload", "sig", "v"}`. */
export type GrantEnvelope = Record<string, unknown>;

/** Why a grant is not held. Checked in this order. */
export type GrantRefusal = "signature" | "unknown-key" | "format" | "workspace" | "release" | "device" | "expired";

/** How a grant names its device: SHA-256 (hex) of its identity. */
export function identityHash(identity: string): string {
  return hex(sha256(utf8(identity)));
}

/** Read a grant document; throws `MdsError` kind `format` naming the field for anything else. */
export function readGrant(document: unknown): Grant {
  const data = (document !== null && typeof document === "object" ? document : {}) as Record<string, unknown>;
  for (const name of ["type", "appId", "workspaceId", "product", "candidate", "identity", "until", "issuedAt"]) {
    const value = data[name];
    const ok = name === "type" ? value === GRANT_TYPE : name === "until" || name === "issuedAt" ? Number.isInteger(value) : typeof value === "string" && value !== "";
    if (!ok) throw new MdsError("format", `not a grant: ${name} is ${JSON.stringify(value ?? null)}`);
  }
  return data as unknown as Grant;
}

/** Open a grant envelope (text, bytes or the parsed object): verified with the pinned keys, then read. */
export function openGrant(file: string | Uint8Array | GrantEnvelope, keys: PublicKeys): Grant {
  const raw = typeof file === "string" || file instanceof Uint8Array ? file : JSON.stringify(file);
  return readGrant(openEnvelope(raw, keys, "grant").document);
}

export interface GrantCheck {
  appId: string;
  workspaceId: string;
  product: string;
  candidate: string;
  device: Device | DeviceContext;
  /** Epoch seconds. */
  now: number;
}

/**
 * Why `file` does not give `candidate` of `product` to `device` at `now` (null: it does): the envelope
 * (`signature`, `unknown-key`, `format`), then the document (`format`), `workspace`, `release`, `device`
 * (not this device's identity, or the device has none), `expired` (`now >= until`).
 */
export function grantRefusal(file: string | Uint8Array | GrantEnvelope, keys: PublicKeys, check: GrantCheck): GrantRefusal | null {
  let grant: Grant;
  try {
    grant = openGrant(file, keys);
  } catch (error) {
    if (error instanceof MdsError && (error.kind === "signature" || error.kind === "unknown-key")) return error.kind;
    if (error instanceof MdsError) return "format";
    throw error;
  }
  return refusalOf(grant, check);
}

/** The checks of an opened grant past its signature and format. */
export function refusalOf(grant: Grant, check: GrantCheck): GrantRefusal | null {
  if (grant.appId !== check.appId || grant.workspaceId !== check.workspaceId) return "workspace";
  if (grant.product !== check.product || grant.candidate !== check.candidate) return "release";
  const device = check.device instanceof Device ? check.device : Device.fromContext(check.device);
  if (!device.identity || identityHash(device.identity) !== grant.identity) return "device";
  if (check.now >= grant.until) return "expired";
  return null;
}

/** Where a device keeps a grant: one per (product, candidate, identity hash). */
export function grantKey(product: string, candidate: string, identity: string): string {
  return `${product}|${candidate}|${identity}`;
}
