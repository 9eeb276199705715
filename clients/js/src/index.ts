/** MDS device SDK: `createMds(options)` gives `upgrade`, `config`, `h5` and `hotpatch`. */
import { DeliveryClient, type ClientOptions } from "./client.js";
import { ConfigClient } from "./config.js";
import { H5Client } from "./h5.js";
import { HotpatchClient } from "./hotpatch.js";
import type { DeviceContext } from "./targeting.js";
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
}

export interface Mds {
  delivery: DeliveryClient;
  upgrade: UpgradeClient;
  config: ConfigClient;
  h5: H5Client;
  hotpatch: HotpatchClient;
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
  const config = new ConfigClient(delivery, device);
  await config.restore();
  return {
    delivery,
    upgrade: new UpgradeClient(delivery, networkType),
    config,
    h5: new H5Client(delivery, options.h5PublicKey ?? null, networkType),
    hotpatch: new HotpatchClient(delivery, options.patchKeys ?? {}),
  };
}

export { type Answer, type ConfigValue, type Product, answerFor, intervalSeconds, typedValue } from "./answers.js";
export { type VerifiedAmr, verifyAmr } from "./amr.js";
export { type ClientOptions, DeliveryClient, type Decision, type Fetch, type FetchResponse } from "./client.js";
export { ConfigClient, type ConfigListener } from "./config.js";
export { Candidate, type CandidateJson, type IndexDocument, type Membership, NeedsServer, decideEach, decideEachNow, findSegment, readSegment } from "./delivery.js";
export { type PublicKeys, openEnvelope, publicKeys } from "./envelope.js";
export { MdsError, type MdsErrorKind } from "./errors.js";
export { H5Client, type H5SyncResult, type Resolved } from "./h5.js";
export { HotpatchClient, type HotpatchSync } from "./hotpatch.js";
export { PublishedMembership, fullMatch } from "./membership.js";
export { rsaPublicKey, rsaVerify } from "./rsa.js";
export { AsyncStorageAdapter, type AsyncStorageLike, MemoryStorage, type Storage, WebStorage, type WebStorageLike } from "./storage.js";
export { BUCKETS, CompiledTarget, Device, type DeviceContext, type Platform, bucket } from "./targeting.js";
export { fromBase64, normalizeNetwork, normalizeText, reportedNetwork, toBase64 } from "./text.js";
export { UpgradeClient, type UpgradeCheck, type UpgradeMode, type UpgradeResult } from "./upgrade.js";
export { Version, VersionRange, segmentIndex } from "./versions.js";
