package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Whitelist membership through what is published: salted SHA-256 hashes in 256 signed shards (one fetched
 * per list and user, only when a candidate gets that far) and regex lists' patterns (full match).
 */
public final class PublishedMembership implements Membership {
    /** A CDN file by path (verified by the caller of this interface), or null when there is none. */
    public interface Files {
        byte[] get(String path) throws MdsException;
    }

    private final JSONObject whitelists;
    private final Files files;
    private final PublicKeys keys;
    private final Map<String, Set<String>> shards = new HashMap<String, Set<String>>();
    private final Map<String, Pattern> patterns = new HashMap<String, Pattern>();

    public PublishedMembership(JSONObject whitelists, Files files, PublicKeys keys) {
        this.whitelists = whitelists;
        this.files = files;
        this.keys = keys;
    }

    @Override
    public boolean contains(String whitelistId, String identity) throws MdsException {
        JSONObject entry = whitelists.optJSONObject(whitelistId);
        if (entry == null) return false;
        if ("regex".equals(entry.optString("type"))) {
            JSONArray list = entry.optJSONArray("patterns");
            for (int i = 0; list != null && i < list.length(); i++) if (pattern(list.optString(i)).matcher(identity).matches()) return true;
            return false;
        }
        String hashed = Text.hex(Text.sha256(Text.utf8(entry.optString("salt") + ":" + identity)));
        return shard(whitelistId, entry, hashed.substring(0, 2)).contains(hashed.substring(2));
    }

    private Pattern pattern(String source) {
        Pattern compiled = patterns.get(source);
        if (compiled == null) {
            compiled = Pattern.compile(source);
            patterns.put(source, compiled);
        }
        return compiled;
    }

    private Set<String> shard(String whitelistId, JSONObject entry, String shard) throws MdsException {
        String name = whitelistId + "/" + shard;
        Set<String> loaded = shards.get(name);
        if (loaded != null) return loaded;
        String path = entry.optString("path") + shard + ".json";
        byte[] file = files.get(path);
        if (file == null) throw new MdsException(MdsException.Kind.FORMAT, "whitelist shard " + path + " is missing");
        JSONObject document = Envelope.open(file, keys, "whitelist shard " + path).document();
        if (!whitelistId.equals(document.optString("whitelistId")) || !entry.optString("version").equals(document.optString("version"))) {
            throw new MdsException(MdsException.Kind.FORMAT, "whitelist shard " + path + " belongs to another list or version");
        }
        Set<String> hashes = new HashSet<String>();
        JSONArray raw = document.optJSONArray("hashes");
        for (int i = 0; raw != null && i < raw.length(); i++) hashes.add(raw.optString(i));
        shards.put(name, hashes);
        return hashes;
    }
}
