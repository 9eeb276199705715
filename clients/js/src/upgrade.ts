/**
 * Version upgrades, as mPaaS `MPUpgradeService` apps know them: `check(device)` gives HAS_NEW_VERSION /
 * HAS_NO_NEW_VERSION / HAS_SOME_ERROR with the mode, prompt and URLs; a single reminder (202) prompts
 * once per silent period (kept on the device); `needClientNetType` limits the prompt and the download to
 * those networks; `download()` resumes by Range and checks the SHA-256 before handing the file over.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Answer } from "./answers.js";
import type { DeliveryClient, Decision, Round } from "./client.js";
import { MdsError } from "./errors.js";
import { type EventReporter, report } from "./events.js";
import { getJson, setJson } from "./storage.js";
import type { DeviceContext } from "./targeting.js";
import { hex, normalizeNetwork, reportedNetwork } from "./text.js";

export type UpgradeResult = "HAS_NEW_VERSION" | "HAS_NO_NEW_VERSION" | "HAS_SOME_ERROR";
export type UpgradeMode = "single" | "multiple" | "forced";
const MODES: Record<number, UpgradeMode> = { 202: "single", 204: "multiple", 206: "forced" };
const DAY = 86_400;

export interface UpgradeCheck {
  result: UpgradeResult;
  resultStatus: number | null;
  mode: UpgradeMode | null;
  /** Show the upgrade prompt now (forced/multiple always; single once per silent period; never off-network). */
  prompt: boolean;
  guideMemo: string;
  downloadURL: string;
  newestVersion: string;
  upgradeShortVersion: string;
  upgradeFullVersion: string;
  /** Networks the upgrade is offered on (empty: any), as canonical tokens (`4g`, `wifi`). */
  needClientNetType: string[];
  /** Whether the current network is one of them. */
  networkAllowed: boolean;
  taskId: string | null;
  fileSha256: string | null;
  fileSize: number | null;
  stale: boolean;
  answer: Answer;
  error: MdsError | null;
  /** The check behind this answer (null when it failed). */
  decision: Decision | null;
}

export interface DownloadOptions {
  onProgress?: (received: number, total: number | null) => void;
}

const PROMPTED = "upgrade/prompted.json";

export class UpgradeClient {
  constructor(
    private readonly delivery: DeliveryClient,
    private readonly networkType: () => string | Promise<string>,
    /** When set, an answer offering a release reports check.answered (and prompt.shown when `prompt`). */
    private readonly events: EventReporter | null = null,
  ) {}

  /** `round`: answer from a check round's decision (`mds.delivery.checkRound`) instead of a check of its own. */
  async check(device: DeviceContext, options: { round?: Round } = {}): Promise<UpgradeCheck> {
    let decision: Decision;
    try {
      decision = await this.delivery.decisionFor("upgrade", device, options.round);
    } catch (error) {
      if (!(error instanceof MdsError)) throw error;
      return { ...empty(), result: "HAS_SOME_ERROR", error };
    }
    const answer = decision.answer;
    const status = typeof answer.resultStatus === "number" ? answer.resultStatus : null;
    const base = { ...empty(), resultStatus: status, stale: decision.stale, answer, decision };
    if (status === 201) return { ...base, result: "HAS_NO_NEW_VERSION" };
    const mode = status === null ? undefined : MODES[status];
    if (mode === undefined) return { ...base, result: "HAS_SOME_ERROR", error: new MdsError("server", `unknown resultStatus ${status}`) };
    const nets = String(answer.needClientNetType || "").split(",").map((n) => n.trim()).filter(Boolean).map(normalizeNetwork);
    const networkAllowed = nets.length === 0 || nets.includes(reportedNetwork(await this.networkType()));
    const taskId = answer.taskId === undefined ? null : String(answer.taskId);
    const offered: UpgradeCheck = {
      ...base,
      result: "HAS_NEW_VERSION",
      mode,
      prompt: networkAllowed && (await this.prompt(mode, taskId, Number(answer.silentPeriodDays) || 3)),
      guideMemo: String(answer.guideMemo ?? ""),
      downloadURL: String(answer.downloadURL ?? ""),
      newestVersion: String(answer.newestVersion ?? ""),
      upgradeShortVersion: String(answer.upgradeShortVersion ?? ""),
      upgradeFullVersion: String(answer.upgradeFullVersion ?? ""),
      needClientNetType: nets,
      networkAllowed,
      taskId,
      fileSha256: typeof answer.fileSha256 === "string" ? answer.fileSha256 : null,
      fileSize: typeof answer.fileSize === "number" ? answer.fileSize : null,
    };
    if (this.events) await report(() => this.events!.upgradeChecked(offered));
    return offered;
  }

  /** Single reminders prompt once per silent period per task; the time is kept in storage. */
  private async prompt(mode: UpgradeMode, taskId: string | null, silentDays: number): Promise<boolean> {
    if (mode !== "single") return true;
    const storage = this.delivery.storage;
    const prompted = (await getJson<Record<string, number>>(storage, PROMPTED)) ?? {};
    const key = `${this.delivery.appId}/${this.delivery.workspaceId}/${taskId}`;
    const now = this.delivery.clock();
    if (prompted[key] !== undefined && now - prompted[key] < silentDays * DAY) return false;
    prompted[key] = now;
    await setJson(storage, PROMPTED, prompted);
    return true;
  }

  /**
   * Download the package of a HAS_NEW_VERSION answer. An interrupted download is kept and resumed with
   * `Range` next time (a server that ignores Range sends it whole). The bytes are returned only when
   * their SHA-256 and size equal the answer's. Throws `MdsError`: `network-type`, `network`, `server`, `digest`.
   */
  async download(check: UpgradeCheck, options: DownloadOptions = {}): Promise<Uint8Array> {
    if (check.result !== "HAS_NEW_VERSION" || !check.downloadURL) throw new MdsError("format", "this answer has nothing to download");
    if (!check.networkAllowed) throw new MdsError("network-type", `the upgrade downloads only on ${check.needClientNetType.join(", ")}`);
    const storage = this.delivery.storage;
    const partialKey = `upgrade/partial/${check.fileSha256 ?? check.taskId}`;
    let have = (await storage.get(partialKey)) ?? new Uint8Array(0);
    const headers: Record<string, string> = have.length ? { Range: `bytes=${have.length}-` } : {};
    const reply = await this.delivery.send(check.downloadURL, { headers });
    if (reply.status === 416) {
      await storage.delete(partialKey);
      return this.download(check, options);
    }
    if (reply.status === 200) have = new Uint8Array(0);
    else if (reply.status !== 206) throw new MdsError("server", `download: HTTP ${reply.status}`, { status: reply.status });
    const total = check.fileSize ?? (Number(reply.headers.get("Content-Length")) || null);
    const chunks: Uint8Array[] = [have];
    let received = have.length;
    try {
      for await (const chunk of bodyChunks(reply)) {
        chunks.push(chunk);
        received += chunk.length;
        options.onProgress?.(received, total);
      }
    } catch (error) {
      await storage.set(partialKey, join(chunks, received)); // resume from here next time
      throw new MdsError("network", `download interrupted after ${received} bytes`, { cause: error });
    }
    const file = join(chunks, received);
    await storage.delete(partialKey);
    if ((check.fileSize !== null && file.length !== check.fileSize) || (check.fileSha256 !== null && hex(sha256(file)) !== check.fileSha256)) {
      throw new MdsError("digest", "the downloaded package is not the one the answer names (size or SHA-256 differs)");
    }
    return file;
  }
}

/** The response body as chunks: streamed where the runtime streams (Node, browsers), else whole. */
export async function* bodyChunks(reply: { body?: unknown; arrayBuffer(): Promise<ArrayBuffer> }): AsyncGenerator<Uint8Array> {
  const body = reply.body as { getReader?: () => { read(): Promise<{ done: boolean; value?: Uint8Array }> } } | null | undefined;
  if (body && typeof body.getReader === "function") {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value && value.length) yield value;
    }
  }
  yield new Uint8Array(await reply.arrayBuffer());
}

function join(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function empty(): Omit<UpgradeCheck, "result"> {
  return {
    resultStatus: null, mode: null, prompt: false, guideMemo: "", downloadURL: "", newestVersion: "", upgradeShortVersion: "",
    upgradeFullVersion: "", needClientNetType: [], networkAllowed: true, taskId: null, fileSha256: null, fileSize: null,
    stale: false, answer: {}, error: null, decision: null,
  };
}
