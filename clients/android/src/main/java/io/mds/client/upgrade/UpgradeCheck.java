package io.mds.client.upgrade;

import io.mds.client.Decision;
import io.mds.client.MdsException;
import java.util.Collections;
import java.util.List;
import org.json.JSONObject;

/** One upgrade check (mPaaS {@code ClientUpgradeRes} plus what the SDK decided). Immutable. */
public final class UpgradeCheck {
    private final UpgradeResult result;
    private final UpgradeMode mode;
    private final boolean prompt;
    private final List<String> needClientNetType;
    private final boolean networkAllowed;
    private final JSONObject answer;
    private final MdsException error;
    private final Decision decision;

    UpgradeCheck(UpgradeResult result, UpgradeMode mode, boolean prompt, List<String> needClientNetType, boolean networkAllowed,
            JSONObject answer, MdsException error, Decision decision) {
        this.result = result;
        this.mode = mode;
        this.prompt = prompt;
        this.needClientNetType = Collections.unmodifiableList(needClientNetType);
        this.networkAllowed = networkAllowed;
        this.answer = answer;
        this.error = error;
        this.decision = decision;
    }

    static UpgradeCheck failed(MdsException error, Decision decision) {
        JSONObject answer = decision == null ? new JSONObject() : decision.answer();
        return new UpgradeCheck(UpgradeResult.HAS_SOME_ERROR, null, false, Collections.<String>emptyList(), true, answer, error, decision);
    }

    public UpgradeResult result() {
        return result;
    }

    /** null unless {@link UpgradeResult#HAS_NEW_VERSION}. */
    public UpgradeMode mode() {
        return mode;
    }

    /** Show the prompt now: forced/multiple always, single once per silent period, never off the allowed networks. */
    public boolean prompt() {
        return prompt;
    }

    /** The answer's resultStatus (201 up to date, 202/204/206), or 0 when the check failed. */
    public int resultStatus() {
        return answer.optInt("resultStatus", 0);
    }

    public String guideMemo() {
        return answer.optString("guideMemo", "");
    }

    public String downloadURL() {
        return answer.optString("downloadURL", "");
    }

    public String newestVersion() {
        return answer.optString("newestVersion", "");
    }

    public String upgradeShortVersion() {
        return answer.optString("upgradeShortVersion", "");
    }

    public String upgradeFullVersion() {
        return answer.optString("upgradeFullVersion", "");
    }

    public String taskId() {
        return answer.has("taskId") ? String.valueOf(answer.opt("taskId")) : null;
    }

    /** SHA-256 (hex) of the package, or null when the answer does not carry it. */
    public String fileSha256() {
        return answer.isNull("fileSha256") ? null : answer.optString("fileSha256");
    }

    /** The package size in bytes, or -1. */
    public long fileSize() {
        return answer.isNull("fileSize") ? -1 : answer.optLong("fileSize", -1);
    }

    /** Networks the upgrade is offered on (empty: any), as canonical tokens ({@code 4g}, {@code wifi}). */
    public List<String> needClientNetType() {
        return needClientNetType;
    }

    public boolean networkAllowed() {
        return networkAllowed;
    }

    /** The raw answer (mPaaS field names). */
    public JSONObject answer() {
        return answer;
    }

    /** Why the check failed ({@link UpgradeResult#HAS_SOME_ERROR}), else null. */
    public MdsException error() {
        return error;
    }

    /** The check behind this answer, or null when it failed before answering. */
    public Decision decision() {
        return decision;
    }
}
