package io.mds.client.engine;

import java.io.UnsupportedEncodingException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Text rules every client shares (docs/targeting.md, "Input grammar") and the byte helpers the SDK needs
 * on Android API 21 (which has no java.util.Base64 and no String.join).
 */
public final class Text {
    // Python str.strip()'s whitespace: Unicode White_Space plus \x1c-\x1f; not U+FEFF.
    private static final String SPACE = "\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680"
            + "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
    private static final Map<String, String> NETWORK_SYNONYMS = new HashMap<String, String>();
    /** The Android mPaaS SDK's {@code NetworkUtils.getNetworkType} codes, read on the device side only. */
    private static final Map<String, String> ANDROID_NETWORK_CODES = new HashMap<String, String>();
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final String B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    static {
        String[][] pairs = {{"2g", "2g"}, {"3g", "3g"}, {"4g", "4g"}, {"lte", "4g"}, {"5g", "5g"}, {"nr", "5g"},
            {"wifi", "wifi"}, {"wi-fi", "wifi"}, {"wi_fi", "wifi"}, {"wi fi", "wifi"}, {"wlan", "wifi"},
            {"wwan", "wwan"}, {"cellular", "wwan"}};
        for (String[] pair : pairs) NETWORK_SYNONYMS.put(pair[0], pair[1]);
        String[][] codes = {{"1", "2g"}, {"2", "3g"}, {"3", "wifi"}, {"4", "4g"}};
        for (String[] code : codes) ANDROID_NETWORK_CODES.put(code[0], code[1]);
    }

    private Text() {}

    /** Trimmed with Python's whitespace set. */
    public static String strip(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && SPACE.indexOf(value.charAt(start)) >= 0) start++;
        while (end > start && SPACE.indexOf(value.charAt(end - 1)) >= 0) end--;
        return value.substring(start, end);
    }

    /** How city and model compare: trimmed, Unicode default lower case (not case folding). */
    public static String normalizeText(String value) {
        return strip(value).toLowerCase(Locale.ROOT);
    }

    /** Canonical network token ({@code Wi-Fi} → {@code wifi}, {@code LTE} → {@code 4g}); others lower-cased. */
    public static String normalizeNetwork(String value) {
        String folded = normalizeText(value);
        String token = NETWORK_SYNONYMS.get(folded);
        return token == null ? folded : token;
    }

    /** The network a device reports: an Android mPaaS code ({@code 3} → {@code wifi}) or a name ({@link #normalizeNetwork}). */
    public static String reportedNetwork(String value) {
        String code = ANDROID_NETWORK_CODES.get(strip(value));
        return code == null ? normalizeNetwork(value) : code;
    }

    public static byte[] utf8(String text) {
        try {
            return text.getBytes("UTF-8");
        } catch (UnsupportedEncodingException impossible) {
            throw new AssertionError(impossible);
        }
    }

    public static String fromUtf8(byte[] bytes) {
        try {
            return new String(bytes, "UTF-8");
        } catch (UnsupportedEncodingException impossible) {
            throw new AssertionError(impossible);
        }
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new AssertionError(impossible);
        }
    }

    public static byte[] sha256(byte[] data) {
        return sha256().digest(data);
    }

    public static String hex(byte[] bytes) {
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 15];
            out[2 * i + 1] = HEX[bytes[i] & 15];
        }
        return new String(out);
    }

    /** Standard or URL-safe base64, padding optional. */
    public static byte[] fromBase64(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '=') end--;
        if (end % 4 == 1) throw new IllegalArgumentException("base64 text has a bad length");
        byte[] out = new byte[end * 3 / 4];
        int bits = 0;
        int value = 0;
        int at = 0;
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            int digit = c == '-' ? 62 : c == '_' ? 63 : B64.indexOf(c);
            if (digit < 0) throw new IllegalArgumentException("base64 text has the character " + c);
            value = (value << 6) | digit;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[at++] = (byte) (value >> bits);
            }
        }
        return out;
    }

    public static String toBase64(byte[] bytes) {
        StringBuilder out = new StringBuilder((bytes.length + 2) / 3 * 4);
        for (int i = 0; i < bytes.length; i += 3) {
            int n = (bytes[i] & 255) << 16;
            if (i + 1 < bytes.length) n |= (bytes[i + 1] & 255) << 8;
            if (i + 2 < bytes.length) n |= bytes[i + 2] & 255;
            out.append(B64.charAt((n >> 18) & 63)).append(B64.charAt((n >> 12) & 63));
            out.append(i + 1 < bytes.length ? B64.charAt((n >> 6) & 63) : '=');
            out.append(i + 2 < bytes.length ? B64.charAt(n & 63) : '=');
        }
        return out.toString();
    }

    /** Parts joined by {@code separator}. */
    public static String join(String separator, Iterable<String> parts) {
        StringBuilder out = new StringBuilder();
        for (String part : parts) {
            if (out.length() > 0) out.append(separator);
            out.append(part);
        }
        return out.toString();
    }

    /** JSON with sorted keys and no spaces (a stable cache key). */
    public static String canonicalJson(Object value) {
        if (value instanceof JSONObject) {
            JSONObject object = (JSONObject) value;
            List<String> keys = keys(object);
            Collections.sort(keys);
            StringBuilder out = new StringBuilder("{");
            for (String key : keys) {
                if (out.length() > 1) out.append(',');
                out.append(JSONObject.quote(key)).append(':').append(canonicalJson(object.opt(key)));
            }
            return out.append('}').toString();
        }
        if (value instanceof JSONArray) {
            JSONArray array = (JSONArray) value;
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < array.length(); i++) {
                if (i > 0) out.append(',');
                out.append(canonicalJson(array.opt(i)));
            }
            return out.append(']').toString();
        }
        if (value instanceof String) return JSONObject.quote((String) value);
        return String.valueOf(value);
    }

    public static List<String> keys(JSONObject object) {
        List<String> keys = new ArrayList<String>();
        Iterator<String> names = object.keys();
        while (names.hasNext()) keys.add(names.next());
        return keys;
    }

    /** Parse JSON text to a JSONObject, or a {@link IllegalArgumentException} saying why not. */
    public static JSONObject parseObject(String text) {
        try {
            return new JSONObject(text);
        } catch (JSONException error) {
            throw new IllegalArgumentException("not a JSON object: " + error.getMessage(), error);
        }
    }

    /** Python's string order: by code point, not UTF-16 unit. */
    public static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) return x < y ? -1 : 1;
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return (a.length() - i) - (b.length() - j) == 0 ? 0 : i < a.length() ? 1 : -1;
    }
}
