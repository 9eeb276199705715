/**
 * H5 offline packages: `sync(device)` brings each H5 app to the version chosen for the device — the
 * `.amr` is downloaded and verified while it streams (signature, every file, the package digest), written
 * under its own version's keys, and only then made current by one pointer write, so a bad or half
 * package never replaces a good one. Wi-Fi-only packages (`downloadNetwork` 0) wait for Wi-Fi; packages
 * installed "on open" (`installType` 0) are staged and switched to on the next `open`/`resolve`;
 * `asyncReqRate` (extend info, seconds) spaces out syncs. `resolve(url)` is the offline container's lookup.
 */
import { type VerifiedAmr, verifyAmr } from "./amr.js";
import type { DeliveryClient, Round } from "./client.js";
import { MdsError } from "./errors.js";
import { type EventReporter, report } from "./events.js";
import { type RsaPublicKey, rsaPublicKey } from "./rsa.js";
import { getJson, setJson } from "./storage.js";
import type { DeviceContext } from "./targeting.js";
import { reportedNetwork } from "./text.js";
import { bodyChunks } from "./upgrade.js";

export interface H5Package {
  h5Id: string;
  version: string;
  amrUrl: string;
  sha256?: string;
  vhost?: string;
  mainUrl?: string;
  extendInfo?: Record<string, unknown>;
  downloadNetwork?: number;
  installType?: number;
}

interface Installed {
  version: string;
  vhost: string;
  mainUrl: string;
  files: string[];
  asyncReqRate: number;
  /** The release (candidate ID, `h5-task-<id>`) that chose this version, when known. */
  release?: string;
}

interface H5State {
  installed: Record<string, Installed>;
  pending: Record<string, Installed>;
  lastSync: number | null;
}

export type H5SyncStatus = "installed" | "staged" | "current" | "waiting-for-wifi" | "failed";

export interface H5SyncResult {
  version: string;
  status: H5SyncStatus;
  error: MdsError | null;
}

export type Resolved = { offline: true; h5Id: string; version: string; path: string; key: string } | { offline: false; url: string };

/** What one sync did for one H5 app, for the events reporter. */
export interface H5Happened {
  release: string | undefined;
  downloaded: boolean;
  installed: boolean;
  error: MdsError | null;
}

const STATE = "h5/state.json";

export class H5Client {
  private readonly key: RsaPublicKey | null;

  constructor(
    private readonly delivery: DeliveryClient,
    publicKeyPem: string | null,
    private readonly networkType: () => string | Promise<string>,
    /** When set, each sync reports check.answered, download.finished + install.finished or install.failed. */
    private readonly events: EventReporter | null = null,
  ) {
    this.key = publicKeyPem ? rsaPublicKey(publicKeyPem) : null;
  }

  /**
   * Check `h5` and download/verify/install what changed. `null` when `asyncReqRate` says it is too
   * early (pass `force`). Per H5 ID: installed, staged (installs on open), current, waiting-for-wifi, failed.
   */
  async sync(device: DeviceContext, options: { force?: boolean; round?: Round } = {}): Promise<Record<string, H5SyncResult> | null> {
    if (this.key === null) throw new Error("h5 needs options.h5PublicKey (the app's H5 RSA public key PEM)");
    const state = await this.state();
    const now = this.delivery.clock();
    const rate = Math.max(0, ...Object.values(state.installed).map((i) => i.asyncReqRate));
    if (!options.force && state.lastSync !== null && now - state.lastSync < rate) return null;
    const decision = await this.delivery.decisionFor("h5", device, options.round);
    const onWifi = reportedNetwork(await this.networkType()) === "wifi";
    const results: Record<string, H5SyncResult> = {};
    const happened: H5Happened[] = [];
    for (const item of (decision.answer.packages ?? []) as H5Package[]) {
      const h5Id = String(item.h5Id);
      const version = String(item.version);
      const release = decision.chosen[h5Id];
      const seen: H5Happened = { release, downloaded: false, installed: false, error: null };
      happened.push(seen);
      if (state.installed[h5Id]?.version === version || state.pending[h5Id]?.version === version) {
        results[h5Id] = { version, status: state.installed[h5Id]?.version === version ? "current" : "staged", error: null };
        continue;
      }
      if (item.downloadNetwork === 0 && !onWifi) {
        results[h5Id] = { version, status: "waiting-for-wifi", error: null };
        continue;
      }
      try {
        const verified = await this.fetchVerified(item);
        const entry = await this.write(h5Id, item, verified);
        if (release) entry.release = release;
        seen.downloaded = true;
        if (item.installType === 0 && state.installed[h5Id]) {
          state.pending[h5Id] = entry;
          results[h5Id] = { version, status: "staged", error: null };
        } else {
          seen.installed = true;
          await this.retire(state.installed[h5Id], h5Id);
          state.installed[h5Id] = entry;
          delete state.pending[h5Id];
          results[h5Id] = { version, status: "installed", error: null };
        }
      } catch (error) {
        if (!(error instanceof MdsError)) throw error;
        results[h5Id] = { version, status: "failed", error }; // the installed version stays
        seen.error = error;
      }
    }
    for (const h5Id of Object.keys(state.installed)) {
      if (!(h5Id in results)) {
        await this.retire(state.installed[h5Id], h5Id); // no longer delivered to this device
        delete state.installed[h5Id];
        delete state.pending[h5Id];
      }
    }
    state.lastSync = now;
    await setJson(this.delivery.storage, STATE, state);
    if (this.events) await report(() => this.events!.h5Synced(happened));
    return results;
  }

  private async fetchVerified(item: H5Package): Promise<VerifiedAmr> {
    const reply = await this.delivery.send(item.amrUrl);
    if (reply.status !== 200) throw new MdsError("server", `GET ${item.amrUrl}: HTTP ${reply.status}`, { status: reply.status });
    const verified = await verifyAmr(bodyChunks(reply), this.key!, { expectedSha256: item.sha256 ?? null });
    if (verified.h5Id !== String(item.h5Id) || verified.version !== String(item.version)) {
      throw new MdsError("digest", `the package is ${verified.h5Id} ${verified.version}, not ${item.h5Id} ${item.version}`);
    }
    return verified;
  }

  private async write(h5Id: string, item: H5Package, verified: VerifiedAmr): Promise<Installed> {
    for (const [path, content] of verified.contents) await this.delivery.storage.set(`h5/${h5Id}/${item.version}/${path}`, content);
    const rate = Number((item.extendInfo ?? {}).asyncReqRate);
    return {
      version: String(item.version),
      vhost: String(item.vhost ?? ""),
      mainUrl: String(item.mainUrl ?? ""),
      files: [...verified.contents.keys()],
      asyncReqRate: Number.isFinite(rate) && rate > 0 ? Math.min(rate, 86_400) : 0,
    };
  }

  private async retire(entry: Installed | undefined, h5Id: string): Promise<void> {
    if (!entry) return;
    for (const path of entry.files) await this.delivery.storage.delete(`h5/${h5Id}/${entry.version}/${path}`);
  }

  /** `{h5Id: version}` in use now. */
  async installed(): Promise<Record<string, string>> {
    const state = await this.state();
    return Object.fromEntries(Object.entries(state.installed).map(([id, entry]) => [id, entry.version]));
  }

  /** The app opens an H5 app: a staged version ("install on open") becomes current first. */
  async open(h5Id: string): Promise<string | null> {
    const state = await this.state();
    const pending = state.pending[h5Id];
    if (pending) {
      const previous = state.installed[h5Id];
      state.installed[h5Id] = pending;
      delete state.pending[h5Id];
      await setJson(this.delivery.storage, STATE, state);
      await this.retire(previous, h5Id);
      const release = pending.release;
      if (this.events && release) await report(() => this.events!.record("install.finished", release));
    }
    return state.installed[h5Id]?.version ?? null;
  }

  /** `https://<h5Id>.<vhost>/<path>` → the installed file; anything else (or not installed) → online. */
  async resolve(url: string): Promise<Resolved> {
    const match = /^https?:\/\/(\d{8})\.([^/?#]+)(\/[^?#]*)?/.exec(url);
    if (match === null) return { offline: false, url };
    const [, h5Id, host, rawPath] = match;
    await this.open(h5Id);
    const entry = (await this.state()).installed[h5Id];
    const path = (rawPath && rawPath !== "/" ? rawPath : entry?.mainUrl || "/").replace(/^\//, "");
    if (!entry || entry.vhost !== host || !entry.files.includes(path)) return { offline: false, url };
    return { offline: true, h5Id, version: entry.version, path, key: `h5/${h5Id}/${entry.version}/${path}` };
  }

  /** The bytes `resolve(url)` points at, or null when the URL is served online. */
  async read(url: string): Promise<Uint8Array | null> {
    const found = await this.resolve(url);
    return found.offline ? this.delivery.storage.get(found.key) : null;
  }

  private async state(): Promise<H5State> {
    const state = (await getJson<Partial<H5State>>(this.delivery.storage, STATE)) ?? {};
    return { installed: state.installed ?? {}, pending: state.pending ?? {}, lastSync: state.lastSync ?? null };
  }
}
