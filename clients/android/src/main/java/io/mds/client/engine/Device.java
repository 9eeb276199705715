package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.Locale;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * What a device reports (mPaaS names), read with the input grammar (docs/targeting.md): values Python
 * treats as absent ({@code 0}, {@code false}, {@code ""}, {@code []}, {@code {}}) are absent, except IDs;
 * integer IDs are read as decimal text up to 2^53 − 1. Immutable; build one with {@link #builder()}.
 */
public final class Device {
    private static final long MAX_SAFE = 9007199254740991L;

    private final String platform;
    private final String userId;
    private final String deviceId;
    private final Version clientVersion;
    private final Version osVersion;
    private final String model;
    private final String city;
    private final String netType;
    private final String channel;
    private final String[] keys = new String[RuleType.values().length];

    private Device(JSONObject context) throws MdsException {
        Object platformValue = context.opt("platform");
        if (platformValue == null || JSONObject.NULL.equals(platformValue) || "".equals(platformValue)) {
            throw MdsException.validation("platform", "is required");
        }
        String parsed = platformValue instanceof String ? Text.strip((String) platformValue).toLowerCase(Locale.ROOT) : "";
        if (!parsed.equals("android") && !parsed.equals("ios")) {
            throw MdsException.validation("platform", parsed.equals("all") ? "must be android or ios" : "must be one of: android, ios, all");
        }
        platform = parsed;
        userId = identity(context.opt("userId"), "userId");
        deviceId = identity(context.opt("deviceId"), "deviceId");
        model = optionalText(context, "model");
        city = optionalText(context, "city");
        Object net = context.opt("netType"); // the Android SDK's network code may come as a JSON number
        netType = (net instanceof Integer || net instanceof Long) && ((Number) net).longValue() >= 0 ? String.valueOf(net)
                : optionalText(context, "netType");
        channel = optionalText(context, "channel");
        clientVersion = optionalText(context, "clientVersion") == null ? null
                : Version.parseReported((String) context.opt("clientVersion"), "clientVersion");
        String os = optionalText(context, "osVersion");
        osVersion = os == null ? null : Version.parseLenient(os);
        keys[RuleType.CITY.ordinal()] = city == null ? null : emptyToNull(Text.normalizeText(city));
        keys[RuleType.MODEL.ordinal()] = model == null ? null : emptyToNull(Text.normalizeText(model));
        keys[RuleType.NETWORK.ordinal()] = netType == null ? null : emptyToNull(Text.reportedNetwork(netType));
        keys[RuleType.OS_VERSION.ordinal()] = osVersion == null ? null : osVersion.key();
    }

    /** Read a device context as JSON (throws {@link MdsException.Kind#VALIDATION} naming the field). */
    public static Device fromContext(JSONObject context) throws MdsException {
        return new Device(context);
    }

    public static Builder builder() {
        return new Builder();
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }

    /** What Python's {@code value or None} treats as absent. */
    static boolean absent(Object value) {
        if (value == null || JSONObject.NULL.equals(value) || Boolean.FALSE.equals(value) || "".equals(value)) return true;
        if (value instanceof Number && !(value instanceof Boolean)) return ((Number) value).doubleValue() == 0;
        if (value instanceof JSONArray) return ((JSONArray) value).length() == 0;
        return value instanceof JSONObject && ((JSONObject) value).length() == 0;
    }

    private static String identity(Object value, String field) throws MdsException {
        if (value == null || JSONObject.NULL.equals(value) || "".equals(value)) return null;
        if (value instanceof Integer || value instanceof Long) {
            long number = ((Number) value).longValue();
            if (Math.abs(number) > MAX_SAFE) {
                throw MdsException.validation(field, "an integer ID must be at most " + MAX_SAFE + "; send it as a string");
            }
            return Long.toString(number);
        }
        if (!(value instanceof String)) throw MdsException.validation(field, "must be a string");
        return (String) value;
    }

    private static String optionalText(JSONObject context, String field) throws MdsException {
        Object value = context.opt(field);
        if (absent(value)) return null;
        if (!(value instanceof String)) throw MdsException.validation(field, "must be a string");
        return (String) value;
    }

    public String platform() {
        return platform;
    }

    public String userId() {
        return userId;
    }

    public String deviceId() {
        return deviceId;
    }

    public Version clientVersion() {
        return clientVersion;
    }

    public Version osVersion() {
        return osVersion;
    }

    public String model() {
        return model;
    }

    public String city() {
        return city;
    }

    public String netType() {
        return netType;
    }

    /** Who rollouts and whitelists look at: the user ID, else the device ID, else null. */
    public String identity() {
        return userId != null && !userId.isEmpty() ? userId : deviceId != null && !deviceId.isEmpty() ? deviceId : null;
    }

    /** The normalised value a rule of {@code type} compares, or null. */
    String key(RuleType type) {
        return keys[type.ordinal()];
    }

    /** The context as the dynamic check API reads it (values as this client understood them). */
    public JSONObject toContext() {
        JSONObject out = new JSONObject();
        Json.put(out, "platform", platform);
        Json.put(out, "clientVersion", clientVersion == null ? null : clientVersion.text());
        Json.put(out, "userId", userId);
        Json.put(out, "deviceId", deviceId);
        Json.put(out, "osVersion", osVersion == null ? null : osVersion.text());
        Json.put(out, "model", model);
        Json.put(out, "city", city);
        Json.put(out, "netType", netType);
        Json.put(out, "channel", channel);
        return out;
    }

    /** Builds a device context from typed values (each optional but the platform). */
    public static final class Builder {
        private final JSONObject context = new JSONObject();

        private Builder() {}

        public Builder platform(String value) {
            return set("platform", value);
        }

        public Builder userId(String value) {
            return set("userId", value);
        }

        public Builder deviceId(String value) {
            return set("deviceId", value);
        }

        public Builder clientVersion(String value) {
            return set("clientVersion", value);
        }

        public Builder osVersion(String value) {
            return set("osVersion", value);
        }

        public Builder model(String value) {
            return set("model", value);
        }

        public Builder city(String value) {
            return set("city", value);
        }

        public Builder netType(String value) {
            return set("netType", value);
        }

        public Builder channel(String value) {
            return set("channel", value);
        }

        private Builder set(String name, String value) {
            Json.put(context, name, value);
            return this;
        }

        public Device build() throws MdsException {
            return new Device(context);
        }
    }
}
