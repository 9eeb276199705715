package io.mds.client.hotpatch;

import io.mds.client.MdsException;
import java.util.Collections;
import java.util.List;
import org.json.JSONObject;

/** What one hotpatch sync did. Immutable. */
public final class HotpatchSync {
    private final String applied;
    private final List<String> actions;
    private final MdsException error;
    private final JSONObject answer;
    private final boolean fromCdn;
    private final boolean stale;

    HotpatchSync(String applied, List<String> actions, MdsException error, JSONObject answer, boolean fromCdn, boolean stale) {
        this.applied = applied;
        this.actions = Collections.unmodifiableList(actions);
        this.error = error;
        this.answer = answer;
        this.fromCdn = fromCdn;
        this.stale = stale;
    }

    HotpatchSync from(boolean cdn, boolean staleIndex) {
        return new HotpatchSync(applied, actions, error, answer, cdn, staleIndex);
    }

    /** The patch in force after this sync, or null. */
    public String applied() {
        return applied;
    }

    /** {@code applied <id>}, {@code removed <id>}, {@code refused <id>: <kind>}. */
    public List<String> actions() {
        return actions;
    }

    /** Why a patch was refused (typed), else null. */
    public MdsException error() {
        return error;
    }

    public JSONObject answer() {
        return answer;
    }

    public boolean isStatic() {
        return fromCdn;
    }

    public boolean stale() {
        return stale;
    }
}
