package io.mds.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.json.JSONObject;

/** One product check's outcome: the answer, and how it was reached. Immutable. */
public final class Decision {
    private final JSONObject answer;
    private final boolean fromCdn;
    private final Long sequence;
    private final Map<String, String> chosen;
    private final MdsException refused;
    private final List<String> requests;
    private final Long nextCheckAt;

    Decision(JSONObject answer, boolean fromCdn, Long sequence, Map<String, String> chosen, MdsException refused, List<String> requests,
            Long nextCheckAt) {
        this.answer = answer;
        this.fromCdn = fromCdn;
        this.sequence = sequence;
        this.chosen = Collections.unmodifiableMap(chosen);
        this.refused = refused;
        this.requests = Collections.unmodifiableList(requests);
        this.nextCheckAt = nextCheckAt;
    }

    /** The same decision with {@code requests} (a one-product check lists its round's requests, the index first). */
    Decision withRequests(List<String> all) {
        return new Decision(answer, fromCdn, sequence, chosen, refused, all, nextCheckAt);
    }

    /** The product's answer (mPaaS field names). */
    public JSONObject answer() {
        return answer;
    }

    /** Answered from the CDN manifests alone (no dynamic API call): also for a time-window place held by a grant. */
    public boolean isStatic() {
        return fromCdn;
    }

    /** The index sequence used, or null (nothing published). */
    public Long sequence() {
        return sequence;
    }

    /** subject → chosen candidate ID. */
    public Map<String, String> chosen() {
        return chosen;
    }

    /** Answered from the last good manifest because the fresh one was refused. */
    public boolean stale() {
        return refused != null;
    }

    /** Why the fresh index was not used (null when it was). */
    public MdsException refused() {
        return refused;
    }

    /** {@code "GET /<path> <status>"} / {@code "POST /client/v1/<product>/check <status>"}, in order. */
    public List<String> requests() {
        return requests;
    }

    /**
     * Epoch seconds when the device should check again: now + the index's {@code poll.seconds}, or the index's
     * {@code notAfter} (a time-bounded entry ends) when that is sooner and still ahead; null when there is no
     * index at all (nothing published for the workspace: the answer came from the API alone).
     */
    public Long nextCheckAt() {
        return nextCheckAt;
    }
}
