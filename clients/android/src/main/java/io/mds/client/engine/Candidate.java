package io.mds.client.engine;

import io.mds.client.MdsException;
import org.json.JSONObject;

/**
 * One release a segment offers: its target, the answer payload, whether it is a time-window entry whose
 * places the API hands out ({@code dynamic}) and whether those places are all taken ({@code closed}: only
 * devices holding a grant for it get it).
 */
public final class Candidate {
    private final String id;
    private final CompiledTarget target;
    private final JSONObject payload;
    private final boolean dynamic;
    private final boolean closed;
    private final Long notAfter;
    private final String subject;

    private Candidate(JSONObject json) throws MdsException {
        id = String.valueOf(json.opt("id"));
        target = CompiledTarget.fromJson(json.opt("target"));
        JSONObject given = json.optJSONObject("payload");
        payload = given == null ? new JSONObject() : given;
        dynamic = json.optBoolean("dynamic", false);
        closed = json.optBoolean("closed", false);
        notAfter = json.isNull("notAfter") ? null : Long.valueOf(json.optLong("notAfter"));
        subject = json.isNull("subject") ? "" : json.optString("subject", "");
    }

    public static Candidate fromJson(JSONObject json) throws MdsException {
        return new Candidate(json);
    }

    public String id() {
        return id;
    }

    public CompiledTarget target() {
        return target;
    }

    /** The answer this candidate gives (do not modify). */
    public JSONObject payload() {
        return payload;
    }

    public boolean dynamic() {
        return dynamic;
    }

    /** A dynamic entry whose places are all taken: devices without a grant skip it without asking. */
    public boolean closed() {
        return closed;
    }

    /** Epoch seconds after which it no longer applies, or null. */
    public Long notAfter() {
        return notAfter;
    }

    /** What it competes for: "" for one-answer products, the H5 ID or config key otherwise. */
    public String subject() {
        return subject;
    }

    boolean liveAt(long now) {
        return notAfter == null || now < notAfter;
    }
}
