package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * The rule engine, read from the compiled schema-1 JSON that manifests carry (docs/targeting.md).
 * {@link #admits(Device)} checks everything but whitelists; {@link Selector} asks membership only for
 * devices everything else admits.
 */
public final class CompiledTarget {
    static final int BUCKETS = 10000;

    private final String platform;
    private final List<VersionRange> clientVersions;
    private final List<Check> checks;
    private final List<String> whitelistIds;
    private final int basisPoints; // -1: no rollout
    private final String salt;

    private static final class Check {
        final RuleType type;
        final boolean positive;
        final Set<String> values;
        final List<VersionRange> ranges;

        Check(RuleType type, boolean positive, Set<String> values, List<VersionRange> ranges) {
            this.type = type;
            this.positive = positive;
            this.values = values;
            this.ranges = ranges;
        }
    }

    private CompiledTarget(JSONObject json) throws MdsException {
        String wanted = json.optString("platform", "all");
        platform = wanted.equals("all") ? null : wanted;
        clientVersions = ranges(json.optJSONArray("clientVersions"));
        List<Check> parsed = new ArrayList<Check>();
        JSONArray rules = json.optJSONArray("rules");
        for (int i = 0; rules != null && i < rules.length(); i++) parsed.add(check(rules.optJSONObject(i)));
        checks = Collections.unmodifiableList(parsed);
        List<String> lists = new ArrayList<String>();
        JSONArray ids = json.optJSONArray("whitelistIds");
        for (int i = 0; ids != null && i < ids.length(); i++) lists.add(String.valueOf(ids.opt(i)));
        whitelistIds = Collections.unmodifiableList(lists);
        JSONObject rollout = json.optJSONObject("rollout");
        int points = rollout == null ? BUCKETS : rollout.optInt("basisPoints", BUCKETS);
        basisPoints = points >= BUCKETS ? -1 : points;
        salt = rollout == null ? "" : rollout.optString("salt", "");
    }

    /** Read the compiled schema-1 form. */
    public static CompiledTarget fromJson(Object json) throws MdsException {
        if (!(json instanceof JSONObject) || ((JSONObject) json).optInt("schema", 0) != 1) {
            throw new MdsException(MdsException.Kind.FORMAT, "a compiled target must be an object with schema 1");
        }
        return new CompiledTarget((JSONObject) json);
    }

    private static List<VersionRange> ranges(JSONArray json) throws MdsException {
        List<VersionRange> out = new ArrayList<VersionRange>();
        for (int i = 0; json != null && i < json.length(); i++) out.add(VersionRange.fromJson(json.optJSONObject(i)));
        return Collections.unmodifiableList(out);
    }

    private static Check check(JSONObject rule) throws MdsException {
        RuleType type = rule == null ? null : RuleType.of(rule.optString("type"));
        if (type == null) throw new MdsException(MdsException.Kind.FORMAT, "a compiled rule has an unknown type");
        int operation = rule.optInt("operation");
        boolean positive = operation == 1 || operation == 3;
        if (operation >= 3) return new Check(type, positive, null, ranges(rule.optJSONArray("ranges")));
        Set<String> values = new HashSet<String>();
        JSONArray raw = rule.optJSONArray("values");
        for (int i = 0; raw != null && i < raw.length(); i++) {
            String value = raw.optString(i);
            values.add(type == RuleType.OS_VERSION ? Version.parse(value, "values").key()
                    : type == RuleType.NETWORK ? Text.normalizeNetwork(value) : Text.normalizeText(value));
        }
        return new Check(type, positive, values, null);
    }

    /** {@code uint64_be(sha256(utf8(salt + ":" + identity))[0:8]) mod 10000}. */
    public static int bucket(String salt, String identity) {
        byte[] d = Text.sha256(Text.utf8(salt + ":" + identity));
        long high = 0;
        long low = 0;
        for (int i = 0; i < 4; i++) {
            high = (high << 8) | (d[i] & 255);
            low = (low << 8) | (d[i + 4] & 255);
        }
        return (int) (((high % BUCKETS) * (4294967296L % BUCKETS) + low) % BUCKETS);
    }

    public List<String> whitelistIds() {
        return whitelistIds;
    }

    /** Everything but whitelist membership: platform, client version, rules, rollout. */
    public boolean admits(Device device) {
        if (platform != null && !platform.equals(device.platform())) return false;
        if (!clientVersions.isEmpty()) {
            Version version = device.clientVersion();
            if (version == null || !inRanges(clientVersions, version.key())) return false;
        }
        for (Check check : checks) {
            String value = device.key(check.type);
            boolean inside = value != null && (check.values != null ? check.values.contains(value) : inRanges(check.ranges, value));
            if (inside != check.positive) return false;
        }
        if (basisPoints >= 0) {
            String identity = device.identity();
            if (identity == null || basisPoints == 0 || bucket(salt, identity) >= basisPoints) return false;
        }
        return true;
    }

    private static boolean inRanges(List<VersionRange> ranges, String key) {
        for (VersionRange range : ranges) if (range.containsKey(key)) return true;
        return false;
    }
}
