package io.mds.client.engine;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.json.JSONObject;

/** The manifest-signing keys an app pins: key ID → raw 32-byte Ed25519 public key. Immutable. */
public final class PublicKeys {
    private final Map<String, byte[]> keys;

    private PublicKeys(Map<String, byte[]> keys) {
        this.keys = Collections.unmodifiableMap(keys);
    }

    /** Key ID → base64 raw key, as {@code GET .../signing-keys} lists them. */
    public static PublicKeys fromBase64(Map<String, String> base64Keys) {
        Map<String, byte[]> keys = new HashMap<String, byte[]>();
        for (Map.Entry<String, String> entry : base64Keys.entrySet()) keys.put(entry.getKey(), Text.fromBase64(entry.getValue()));
        return new PublicKeys(keys);
    }

    public static PublicKeys fromJson(JSONObject base64Keys) {
        Map<String, String> keys = new HashMap<String, String>();
        for (String keyId : Text.keys(base64Keys)) keys.put(keyId, base64Keys.optString(keyId));
        return fromBase64(keys);
    }

    /** The key, or null when the app does not pin {@code keyId}. */
    byte[] get(String keyId) {
        byte[] key = keys.get(keyId);
        return key == null ? null : key.clone();
    }
}
