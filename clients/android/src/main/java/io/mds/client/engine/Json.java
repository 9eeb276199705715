package io.mds.client.engine;

import java.util.Iterator;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/** org.json without its checked exceptions where the input is known good, and JSON equality by value. */
public final class Json {
    private Json() {}

    /** Puts {@code value} (null: removes the name). */
    public static JSONObject put(JSONObject object, String name, Object value) {
        try {
            if (value == null) object.remove(name);
            else object.put(name, value);
            return object;
        } catch (JSONException error) {
            throw new IllegalArgumentException(name + ": " + error.getMessage(), error);
        }
    }

    /** A shallow copy. */
    public static JSONObject copy(JSONObject object) {
        JSONObject out = new JSONObject();
        Iterator<String> names = object.keys();
        while (names.hasNext()) {
            String name = names.next();
            put(out, name, object.opt(name));
        }
        return out;
    }

    /** The value {@code text} holds (object, array, string, number, boolean, NULL). */
    public static Object parse(String text) throws JSONException {
        Object value = new org.json.JSONTokener(text).nextValue();
        if (value instanceof String && !text.trim().startsWith("\"")) throw new JSONException("not JSON: " + text);
        return value;
    }

    /** Equal as JSON values: numbers by value, objects by name, arrays in order. */
    public static boolean same(Object a, Object b) {
        if (a == null) a = JSONObject.NULL;
        if (b == null) b = JSONObject.NULL;
        if (a instanceof Number && b instanceof Number) return ((Number) a).doubleValue() == ((Number) b).doubleValue();
        if (a instanceof JSONObject && b instanceof JSONObject) {
            JSONObject x = (JSONObject) a;
            JSONObject y = (JSONObject) b;
            if (x.length() != y.length()) return false;
            Iterator<String> names = x.keys();
            while (names.hasNext()) {
                String name = names.next();
                if (!y.has(name) || !same(x.opt(name), y.opt(name))) return false;
            }
            return true;
        }
        if (a instanceof JSONArray && b instanceof JSONArray) {
            JSONArray x = (JSONArray) a;
            JSONArray y = (JSONArray) b;
            if (x.length() != y.length()) return false;
            for (int i = 0; i < x.length(); i++) if (!same(x.opt(i), y.opt(i))) return false;
            return true;
        }
        return a.equals(b);
    }
}
