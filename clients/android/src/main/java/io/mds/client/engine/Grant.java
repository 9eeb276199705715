package io.mds.client.engine;

import io.mds.client.MdsException;
import org.json.JSONObject;

/**
 * A time-window grant (docs/delivery.md, "Grants"): the dynamic API's signed "this device holds a place in
 * this release until then", an envelope by the workspace's manifest key over
 * {@code {"type": "mds-grant/1", appId, workspaceId, product, candidate, identity, until, issuedAt}} where
 * {@code identity} is the SHA-256 (hex) of the device's user ID, else its device ID. The device keeps it and
 * verifies it again at every check; a grant proves nothing to the server, it only saves the round trip.
 * Immutable.
 */
public final class Grant {
    public static final String TYPE = "mds-grant/1";

    /** Why a grant is not held: the kit's reason codes, in the order they are checked. */
    public static final String SIGNATURE = "signature";
    public static final String UNKNOWN_KEY = "unknown-key";
    public static final String FORMAT = "format";
    public static final String WORKSPACE = "workspace";
    public static final String RELEASE = "release";
    public static final String DEVICE = "device";
    public static final String EXPIRED = "expired";

    private final String appId;
    private final String workspaceId;
    private final String product;
    private final String candidate;
    private final String identity;
    private final long until;
    private final long issuedAt;

    private Grant(JSONObject document) throws MdsException {
        if (!TYPE.equals(document.opt("type"))) throw format("type: is " + document.opt("type") + "; a grant is " + TYPE);
        appId = text(document, "appId");
        workspaceId = text(document, "workspaceId");
        product = text(document, "product");
        candidate = text(document, "candidate");
        identity = text(document, "identity");
        until = whole(document, "until");
        issuedAt = whole(document, "issuedAt");
    }

    private static MdsException format(String message) {
        return new MdsException(MdsException.Kind.FORMAT, "not a grant: " + message);
    }

    private static String text(JSONObject document, String name) throws MdsException {
        Object value = document.opt(name);
        if (!(value instanceof String) || ((String) value).isEmpty()) throw format(name + ": is required (text)");
        return (String) value;
    }

    private static long whole(JSONObject document, String name) throws MdsException {
        Object value = document.opt(name);
        if (!(value instanceof Integer || value instanceof Long)) throw format(name + ": is required (epoch seconds)");
        return ((Number) value).longValue();
    }

    /** A grant document (already verified); throws {@code format} for anything else. */
    public static Grant fromDocument(JSONObject document) throws MdsException {
        return new Grant(document);
    }

    /** Opens a grant envelope with the pinned keys: throws {@code format}, {@code unknown-key} or {@code signature}. */
    public static Grant open(byte[] file, PublicKeys keys) throws MdsException {
        return new Grant(Envelope.open(file, keys, "grant").document());
    }

    /** How a grant names its device: SHA-256 (hex) of the identity (user ID, else device ID). */
    public static String identityHash(String identity) {
        return Text.hex(Text.sha256(Text.utf8(identity)));
    }

    /**
     * Whether the grant in {@code file} gives {@code candidateId} of {@code product} in (appId, workspaceId) to
     * {@code device} at {@code now}: null when it does, else why not ({@code signature}, {@code unknown-key},
     * {@code format}, {@code workspace}, {@code release}, {@code device}, {@code expired}; checked in that order).
     */
    public static String refusal(byte[] file, PublicKeys keys, String appId, String workspaceId, String product,
            String candidateId, Device device, long now) {
        Grant grant;
        try {
            grant = open(file, keys);
        } catch (MdsException refused) {
            return refused.kind().wire(); // signature, unknown-key or format
        }
        return grant.refusal(appId, workspaceId, product, candidateId, device, now);
    }

    /** Null when this (verified) grant gives the candidate to the device at {@code now}, else the reason code. */
    public String refusal(String appId, String workspaceId, String product, String candidateId, Device device, long now) {
        if (!this.appId.equals(appId) || !this.workspaceId.equals(workspaceId)) return WORKSPACE;
        if (!this.product.equals(product) || !this.candidate.equals(candidateId)) return RELEASE;
        String who = device.identity();
        if (who == null || !identityHash(who).equals(identity)) return DEVICE;
        if (now >= until) return EXPIRED;
        return null;
    }

    public String appId() {
        return appId;
    }

    public String workspaceId() {
        return workspaceId;
    }

    public String product() {
        return product;
    }

    /** The candidate (release) ID the place is in. */
    public String candidate() {
        return candidate;
    }

    /** SHA-256 (hex) of the holder's identity. */
    public String identity() {
        return identity;
    }

    /** Epoch seconds: the window's end (the grant is held while now &lt; until). */
    public long until() {
        return until;
    }

    public long issuedAt() {
        return issuedAt;
    }
}
