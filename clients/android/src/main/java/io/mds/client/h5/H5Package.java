package io.mds.client.h5;

import io.mds.client.MdsException;
import org.json.JSONObject;

/** One package of an h5 answer ({@code packages[]}: what the device should have of one H5 app). Immutable. */
public final class H5Package {
    private static final long MAX_ASYNC_REQ_RATE = 86400;

    private final String h5Id;
    private final String version;
    private final String amrUrl;
    private final String sha256;
    private final String vhost;
    private final String mainUrl;
    private final long asyncReqRate;
    private final boolean wifiOnly;
    private final boolean installOnOpen;

    private H5Package(JSONObject item) {
        h5Id = item.optString("h5Id");
        version = item.optString("version");
        amrUrl = item.optString("amrUrl");
        sha256 = item.isNull("sha256") ? null : item.optString("sha256");
        vhost = item.optString("vhost");
        mainUrl = item.optString("mainUrl");
        JSONObject extend = item.optJSONObject("extendInfo");
        long rate = extend == null ? 0 : extend.optLong("asyncReqRate", 0);
        asyncReqRate = Math.max(0, Math.min(rate, MAX_ASYNC_REQ_RATE));
        wifiOnly = item.optInt("downloadNetwork", 1) == 0;
        installOnOpen = item.optInt("installType", 0) == 0;
    }

    /** Reads one answer item; throws {@code format} when it names no H5 ID, version or package URL. */
    public static H5Package fromAnswer(JSONObject item) throws MdsException {
        H5Package read = new H5Package(item);
        String missing = read.h5Id.isEmpty() ? "h5Id" : read.version.isEmpty() ? "version" : read.amrUrl.isEmpty() ? "amrUrl" : null;
        if (missing != null) throw new MdsException(MdsException.Kind.FORMAT, "an h5 answer package has no " + missing);
        return read;
    }

    public String h5Id() {
        return h5Id;
    }

    public String version() {
        return version;
    }

    /** Where the {@code .amr} is (absolute URL). */
    public String amrUrl() {
        return amrUrl;
    }

    /** SHA-256 (hex) of the whole {@code .amr} from its descriptor, or null. */
    public String sha256() {
        return sha256;
    }

    public String vhost() {
        return vhost;
    }

    /** The entry page of a normal package ({@code /www/index.html}), or empty. */
    public String mainUrl() {
        return mainUrl;
    }

    /** Extend info {@code asyncReqRate}: seconds between syncs (0–86400). */
    public long asyncReqRate() {
        return asyncReqRate;
    }

    /** Download network 0: only on Wi-Fi. */
    public boolean wifiOnly() {
        return wifiOnly;
    }

    /** Install 0 "on open": a new version waits until the app next opens the H5 app; 1 preload: at once. */
    public boolean installOnOpen() {
        return installOnOpen;
    }
}
