package io.mds.client.engine;

import io.mds.client.MdsException;
import org.json.JSONObject;

/** Versions from {@code min} to {@code max} (null: unbounded), inclusive unless said otherwise. */
public final class VersionRange {
    private final String min;
    private final String max;
    private final boolean minInclusive;
    private final boolean maxInclusive;

    private VersionRange(String min, String max, boolean minInclusive, boolean maxInclusive) {
        this.min = min;
        this.max = max;
        this.minInclusive = minInclusive;
        this.maxInclusive = maxInclusive;
    }

    /** {@code {"min", "max", "minInclusive"?, "maxInclusive"?}} as compiled targets carry it. */
    public static VersionRange fromJson(JSONObject json) throws MdsException {
        String low = bound(json, "min");
        String high = bound(json, "max");
        String min = low == null ? null : Version.parse(low, "min").key();
        String max = high == null ? null : Version.parse(high, "max").key();
        return new VersionRange(min, max, min == null || json.optBoolean("minInclusive", true),
                max == null || json.optBoolean("maxInclusive", true));
    }

    private static String bound(JSONObject json, String name) {
        if (json.isNull(name)) return null;
        String value = json.optString(name, "");
        return value.isEmpty() ? null : value;
    }

    public boolean containsKey(String key) {
        if (min != null) {
            int c = key.compareTo(min);
            if (c < 0 || (c == 0 && !minInclusive)) return false;
        }
        if (max != null) {
            int c = key.compareTo(max);
            if (c > 0 || (c == 0 && !maxInclusive)) return false;
        }
        return true;
    }

    public boolean contains(Version version) {
        return containsKey(version.key());
    }
}
