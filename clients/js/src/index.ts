/** MDS device SDK: `createMds(options)` gives `upgrade`, `config`, `h5`, `hotpatch` and, for a device with a deviceId, `events`. */
import { DeliveryClient, type ClientOptions } from "./client.js";
import { ConfigClient } from "./config.js";
import { EventReporter } from "./events.js";
import { H5Client } from "./h5.js";
import { HotpatchClient } from "./hotpatch.js";
import { Device, type DeviceContext } from "./targeting.js";
import { UpgradeClient } from "./upgrade.js";

export interface MdsOptions extends ClientOptions {
  /** The current network as the OS names it (`WIFI`, `4G`, `WWAN`...). */
  networkType?: () => string | Promise<string>;
  /** The device context config loads use by default. */
  device?: () => DeviceContext;
  /** The app's H5 RSA public key (PEM), for `.amr` verification. */
  h5PublicKey?: string;
  /** key ID → PEM of the hotpatch public keys the app pins. */
  patchKeys?: Readonly<Record<string, string>>;
  /**
   * Device events (docs/events.md): on by default when `device` gives a context with a `deviceId`, then
   * `mds.events` records what the products do and `mds.events.flush()` sends it. `false`: no events.
   */
  events?: boolean;
}

export interface Mds {
  delivery: DeliveryClient;
  upgrade: UpgradeClient;
  config: ConfigClient;
  h5: H5Client;
  hotpatch: HotpatchClient;
  /** The device's event reporter: null without a `device` whose context has a `deviceId`, or with `events: false`. */
  events: EventReporter | null;
}

/** Build the SDK; restores persisted config values before it resolves. */
export async function createMds(options: MdsOptions): Promise<Mds> {
  const delivery = new DeliveryClient(options);
  const networkType = options.networkType ?? (() => "unknown");
  const device =
    options.device ??
    (() => {
      throw new Error("pass a device context, or options.device");
    });
  const events = options.events !== false && options.device && hasDeviceId(options.device) ? new EventReporter(delivery, options.device) : null;
  const config = new ConfigClient(delivery, device, events);
  await config.restore();
  return {
    delivery,
    upgrade: new UpgradeClient(delivery, networkType, events),
    config,
    h5: new H5Client(delivery, options.h5PublicKey ?? null, networkType, events),
    hotpatch: new HotpatchClient(delivery, options.patchKeys ?? {}, events),
    events,
  };
}

function hasDeviceId(device: () => DeviceContext): boolean {
  try {
    return Boolean(Device.fromContext(device()).deviceId);
  } catch {
    return false;
  }
}

export { type Answer, type ConfigValue, type Product, answerFor, intervalSeconds, typedValue } from "./answers.js";
export { type VerifiedAmr, verifyAmr } from "./amr.js";
export { type ClientOptions, DeliveryClient, type Decision, type Fetch, type FetchResponse, PRODUCTS, type Round, nextCheck } from "./client.js";
export { ConfigClient, type ConfigListener } from "./config.js";
export {
  Candidate, type CandidateJson, type Claim, type FileEntry, type IndexDocument, type Membership, NeedsServer, type Section, type WhitelistEntry,
  decideEach, decideEachNow, findSegment, productSection, readSegment, sectionDigest,
} from "./delivery.js";
export { type PublicKeys, openEnvelope, publicKeys } from "./envelope.js";
export { MdsError, type MdsErrorKind } from "./errors.js";
export {
  GRANT_TYPE, type Grant, type GrantCheck, type GrantEnvelope, type GrantRefusal, grantRefusal, identityHash, openGrant, readGrant,
} from "./grants.js";
export { type Batch, type DeviceEvent, EVENTS_SCHEMA, EventReporter, type EventType, MAX_BATCH_BYTES, MAX_EVENTS_PER_BATCH, type RecordOptions, configText, reasonText } from "./events.js";
export { H5Client, type H5Happened, type H5SyncResult, type Resolved } from "./h5.js";
export { HotpatchClient, type HotpatchSync } from "./hotpatch.js";
export { PublishedMembership, fullMatch } from "./membership.js";
export { rsaPublicKey, rsaVerify } from "./rsa.js";
export { AsyncStorageAdapter, type AsyncStorageLike, MemoryStorage, type Storage, WebStorage, type WebStorageLike } from "./storage.js";
export { BUCKETS, CompiledTarget, Device, type DeviceContext, type Platform, bucket } from "./targeting.js";
export { fromBase64, normalizeNetwork, normalizeText, reportedNetwork, toBase64 } from "./text.js";
export { UpgradeClient, type UpgradeCheck, type UpgradeMode, type UpgradeResult } from "./upgrade.js";
export { Version, VersionRange, segmentIndex } from "./versions.js";
