/**
 * Hotpatches, as `mds/device/hotpatch.py`: the answer's rollback directive is merged into what the device
 * keeps — the revoked patch IDs (a set that only grows) and the highest `rollbackSeq` — so no stale
 * manifest can bring a revoked patch back; a revoked applied patch is removed; a newer one is downloaded,
 * checked (size, SHA-256, RSA signature with the pinned key its `keyId` names) and only then installed;
 * the outcome is reported to the API.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Answer } from "./answers.js";
import type { DeliveryClient, Round } from "./client.js";
import { MdsError } from "./errors.js";
import { type EventReporter, reasonText, report } from "./events.js";
import { rsaPublicKey, rsaVerify } from "./rsa.js";
import { getJson, setJson } from "./storage.js";
import { Device, type DeviceContext } from "./targeting.js";
import { fromBase64, hex } from "./text.js";

interface Applied {
  patchId: string;
  order: number;
  sha256: string;
  filename: string;
  key: string;
}

interface Slot {
  applied: Applied | null;
  revoked: string[];
  rollbackSeq: number;
}

export interface HotpatchSync {
  /** The patch in force after this sync. */
  applied: string | null;
  /** `applied <id>`, `removed <id>`, `refused <id>: <error kind>`. */
  actions: string[];
  /** The failure of a refused patch, typed. */
  error: MdsError | null;
  answer: Answer;
  static: boolean;
  stale: boolean;
}

const STATE = "hotpatch/state.json";

export class HotpatchClient {
  constructor(
    private readonly delivery: DeliveryClient,
    /** key ID → PEM of the patch public keys the app pins (`GET .../hotpatch/keys`). */
    private readonly patchKeys: Readonly<Record<string, string>>,
    /** When set, an answer offering a patch reports check.answered, then install.finished or install.failed. */
    private readonly events: EventReporter | null = null,
  ) {}

  /** `round`: act on a check round's decision (`mds.delivery.checkRound`) instead of a check of its own. */
  async sync(context: DeviceContext, options: { report?: boolean; round?: Round } = {}): Promise<HotpatchSync> {
    const device = Device.fromContext(context);
    const decision = await this.delivery.decisionFor("hotpatch", device, options.round);
    const result = await this.applyAnswer(decision.answer, device, options);
    return { ...result, static: decision.static, stale: decision.stale };
  }

  /** Act on one answer (fresh, or an old one replayed: the revoked set still holds). */
  async applyAnswer(answer: Answer, context: DeviceContext | Device, options: { report?: boolean } = {}): Promise<HotpatchSync> {
    const device = context instanceof Device ? context : Device.fromContext(context);
    const state = (await getJson<Record<string, Slot>>(this.delivery.storage, STATE)) ?? {};
    const name = slotName(device);
    const slot: Slot = state[name] ?? { applied: null, revoked: [], rollbackSeq: 0 };
    state[name] = slot;
    const revoked = new Set([...slot.revoked, ...((answer.revoked as unknown[]) ?? []).map(String)]);
    slot.revoked = [...revoked].sort((a, b) => Number(a) - Number(b));
    slot.rollbackSeq = Math.max(slot.rollbackSeq, Number(answer.rollbackSeq) || 0);
    const result: HotpatchSync = { applied: null, actions: [], error: null, answer, static: true, stale: false };
    let current = slot.applied;
    if (current !== null && revoked.has(current.patchId)) {
      await this.delivery.storage.delete(current.key);
      result.actions.push(`removed ${current.patchId}`);
      slot.applied = current = null;
    }
    const wanted = answer.patchId === null || answer.patchId === undefined ? null : String(answer.patchId);
    const newer = current === null || (wanted !== current.patchId && (Number(answer.order) || 0) > current.order);
    const release = answer.releaseId === null || answer.releaseId === undefined ? null : `hotpatch-release-${answer.releaseId}`;
    if (this.events && release && wanted !== null && !revoked.has(wanted)) await report(() => this.events!.record("check.answered", release));
    if (wanted !== null && !revoked.has(wanted) && newer) {
      try {
        const installed = await this.install(answer, name);
        if (slot.applied) await this.delivery.storage.delete(slot.applied.key);
        slot.applied = installed;
        result.actions.push(`applied ${wanted}`);
      } catch (error) {
        if (!(error instanceof MdsError)) throw error;
        result.error = error;
        result.actions.push(`refused ${wanted}: ${error.kind}`);
      }
      if (options.report !== false) await this.report(device, answer, result.error);
      if (this.events && release) {
        const error = result.error;
        await report(() => (error ? this.events!.record("install.failed", release, { reason: reasonText(error.message) }) : this.events!.record("install.finished", release)));
      }
    }
    await setJson(this.delivery.storage, STATE, state);
    result.applied = slot.applied ? slot.applied.patchId : null;
    return result;
  }

  /** The installed patch file for the device's app version. */
  async patchFile(context: DeviceContext): Promise<{ patchId: string; filename: string; bytes: Uint8Array } | null> {
    const device = Device.fromContext(context);
    const slot = ((await getJson<Record<string, Slot>>(this.delivery.storage, STATE)) ?? {})[slotName(device)];
    if (!slot || !slot.applied) return null;
    const bytes = await this.delivery.storage.get(slot.applied.key);
    return bytes && { patchId: slot.applied.patchId, filename: slot.applied.filename, bytes };
  }

  private async install(answer: Answer, slot: string): Promise<Applied> {
    const pem = this.patchKeys[String(answer.keyId)];
    if (pem === undefined) throw new MdsError("unknown-key", `patch signed by key ${answer.keyId}, which this app does not pin`);
    const reply = await this.delivery.send(`${this.delivery.cdnUrl}/${answer.path}`);
    if (reply.status !== 200) throw new MdsError("server", `patch download: HTTP ${reply.status}`, { status: reply.status });
    const content = new Uint8Array(await reply.arrayBuffer());
    if (content.length !== Number(answer.size) || hex(sha256(content)) !== answer.sha256) {
      throw new MdsError("digest", "the patch file is not the one the manifest lists (size or SHA-256 differs)");
    }
    if (!rsaVerify(rsaPublicKey(pem), content, fromBase64(String(answer.signature)))) {
      throw new MdsError("signature", "the patch signature does not verify with the pinned key");
    }
    const key = `hotpatch/${slot}/${answer.patchId}/${answer.filename}`;
    await this.delivery.storage.set(key, content);
    return { patchId: String(answer.patchId), order: Number(answer.order), sha256: String(answer.sha256), filename: String(answer.filename), key };
  }

  private async report(device: Device, answer: Answer, error: MdsError | null): Promise<void> {
    const body: Record<string, string> = {
      appId: this.delivery.appId,
      workspaceId: this.delivery.workspaceId,
      deviceId: device.deviceId || device.userId || "",
      patchId: String(answer.patchId),
      outcome: error ? "failed" : "applied",
    };
    if (answer.releaseId) body.releaseId = String(answer.releaseId);
    if (error) body.reason = error.message.slice(0, 500);
    try {
      await this.delivery.send(`${this.delivery.apiUrl}/client/v1/hotpatch/report`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
    } catch {
      // a lost report must not undo an install; the next sync reports nothing new
    }
  }
}

function slotName(device: Device): string {
  return `${device.platform}-${device.clientVersion ? device.clientVersion.canonical : "unknown"}`;
}
