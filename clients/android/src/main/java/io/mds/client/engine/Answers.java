package io.mds.client.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/** Each product's answer from a decision (subject → candidate), the same as the server's, and config values. */
public final class Answers {
    public static final int UP_TO_DATE = 201;
    public static final String INTERVAL_KEY = "Load_Config_Interval";
    public static final double DEFAULT_INTERVAL_SECONDS = 30 * 60;

    private Answers() {}

    /** {@code product}: upgrade, config, h5 or hotpatch. */
    public static JSONObject answerFor(String product, Map<String, Candidate> chosen, Device device) {
        String userId = device.userId() == null ? "" : device.userId();
        if (product.equals("upgrade")) {
            Candidate winner = chosen.get("");
            JSONObject answer = winner == null ? Json.put(new JSONObject(), "resultStatus", UP_TO_DATE) : Json.copy(winner.payload());
            return Json.put(answer, "userId", userId);
        }
        if (product.equals("config")) {
            JSONObject configs = new JSONObject();
            for (Map.Entry<String, Candidate> entry : chosen.entrySet()) {
                if (entry.getKey().isEmpty()) {
                    JSONObject all = entry.getValue().payload().optJSONObject("configs");
                    if (all != null) for (String key : Text.keys(all)) Json.put(configs, key, all.opt(key));
                } else {
                    Json.put(configs, entry.getKey(), entry.getValue().payload());
                }
            }
            return Json.put(new JSONObject(), "configs", configs);
        }
        if (product.equals("h5")) {
            List<String> ids = new ArrayList<String>();
            for (String subject : chosen.keySet()) if (!subject.isEmpty()) ids.add(subject);
            Collections.sort(ids, new Comparator<String>() {
                @Override
                public int compare(String a, String b) {
                    return Text.compareCodePoints(a, b);
                }
            });
            JSONArray packages = new JSONArray();
            for (String id : ids) packages.put(Json.copy(chosen.get(id).payload()));
            return Json.put(Json.put(new JSONObject(), "packages", packages), "userId", userId);
        }
        if (product.equals("hotpatch")) {
            if (!chosen.isEmpty()) return Json.copy(chosen.values().iterator().next().payload());
            JSONObject none = Json.put(new JSONObject(), "patchId", JSONObject.NULL);
            return Json.put(Json.put(none, "revoked", new JSONArray()), "rollbackSeq", 0);
        }
        throw new IllegalArgumentException("unknown product " + product);
    }

    /** What a delivered {@code {value, type}} means: String, Long/Double, Boolean or parsed JSON; null if unreadable. */
    public static Object typedValue(String type, String text) {
        if (type.equals("number")) {
            try {
                double value = Double.parseDouble(Text.strip(text));
                boolean integral = value == Math.rint(value) && !text.contains(".") && !text.toLowerCase().contains("e")
                        && Math.abs(value) < 9.007199254740992E15;
                return integral ? (Object) Long.valueOf((long) value) : (Object) Double.valueOf(value);
            } catch (NumberFormatException unreadable) {
                return null;
            }
        }
        if (type.equals("boolean")) return Boolean.valueOf(text.equals("true"));
        if (type.equals("json")) {
            try {
                return Json.parse(text);
            } catch (JSONException unreadable) {
                return null;
            }
        }
        return text;
    }

    /** Seconds between config loads: {@code Load_Config_Interval} when delivered and positive, else 30 minutes. */
    public static double intervalSeconds(JSONObject configs) {
        JSONObject entry = configs.optJSONObject(INTERVAL_KEY);
        if (entry != null && entry.opt("value") instanceof String && !Text.strip(entry.optString("value")).isEmpty()) {
            try {
                double seconds = Double.parseDouble(Text.strip(entry.optString("value")));
                if (!Double.isInfinite(seconds) && !Double.isNaN(seconds) && seconds > 0) return seconds;
            } catch (NumberFormatException notNumber) {
                return DEFAULT_INTERVAL_SECONDS;
            }
        }
        return DEFAULT_INTERVAL_SECONDS;
    }
}
