package io.mds.client.config;

import io.mds.client.Decision;
import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.engine.Answers;
import io.mds.client.engine.Device;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.json.JSONObject;

/**
 * Switch configuration, as mPaaS {@code MPConfigService}: typed getters with defaults, {@link #load} when the
 * refresh interval passed (30 minutes, or {@code Load_Config_Interval} seconds), {@link #loadImmediately},
 * listeners called once per real change. Values persist in app storage, so a restarted app has its last
 * values before its first load, and a failed load keeps them.
 */
public final class ConfigClient {
    private static final String VALUES = "config/values.json";

    private final DeliveryClient delivery;
    private final List<Object[]> listeners = new CopyOnWriteArrayList<Object[]>();
    private volatile JSONObject configs;
    private volatile double loadedAt = Double.NaN;

    public ConfigClient(DeliveryClient delivery) throws MdsException {
        this.delivery = delivery;
        JSONObject stored = delivery.readJson(VALUES);
        JSONObject values = stored.optJSONObject("configs");
        configs = values == null ? new JSONObject() : values;
        if (stored.has("loadedAt")) loadedAt = stored.optDouble("loadedAt");
    }

    /** The delivered text (mPaaS {@code getConfig}), or null. */
    public String getConfig(String key) {
        JSONObject entry = configs.optJSONObject(key);
        return entry == null ? null : entry.optString("value");
    }

    /** The typed value (String, Long/Double, Boolean, JSONObject/JSONArray), or null. */
    public Object get(String key) {
        JSONObject entry = configs.optJSONObject(key);
        return entry == null ? null : Answers.typedValue(entry.optString("type"), entry.optString("value"));
    }

    public String getString(String key, String fallback) {
        String text = getConfig(key);
        return text == null ? fallback : text;
    }

    public boolean getBoolean(String key, boolean fallback) {
        Object value = get(key);
        return value instanceof Boolean ? (Boolean) value : fallback;
    }

    public long getLong(String key, long fallback) {
        Object value = get(key);
        return value instanceof Number ? ((Number) value).longValue() : fallback;
    }

    public double getDouble(String key, double fallback) {
        Object value = get(key);
        return value instanceof Number ? ((Number) value).doubleValue() : fallback;
    }

    public List<String> keys() {
        List<String> keys = Text.keys(configs);
        Collections.sort(keys);
        return keys;
    }

    /** Seconds between loads. */
    public double intervalSeconds() {
        return Answers.intervalSeconds(configs);
    }

    /** Loads when the interval passed since the last load: the changed keys, or null when it was not time. */
    public List<String> load(Device device) throws MdsException {
        double now = delivery.options().clock().now();
        if (!Double.isNaN(loadedAt) && now - loadedAt < intervalSeconds()) return null;
        return loadImmediately(device);
    }

    /** Loads now; calls listeners once per changed key. On failure the stored values stay. */
    public List<String> loadImmediately(Device device) throws MdsException {
        return load(delivery.check("config", device));
    }

    /** Takes a round's config decision ({@code delivery.checkRound(device).decision("config")}) as a load. */
    public synchronized List<String> load(Decision decision) throws MdsException {
        JSONObject delivered = decision.answer().optJSONObject("configs");
        JSONObject fresh = new JSONObject();
        for (String key : Text.keys(delivered == null ? new JSONObject() : delivered)) {
            JSONObject entry = delivered.optJSONObject(key);
            if (entry == null) continue;
            Json.put(fresh, key, Json.put(Json.put(new JSONObject(), "value", entry.optString("value")), "type", entry.optString("type")));
        }
        TreeSet<String> all = new TreeSet<String>(Text.keys(fresh));
        all.addAll(Text.keys(configs));
        List<String> changed = new ArrayList<String>();
        for (String key : all) if (!Json.same(fresh.opt(key), configs.opt(key))) changed.add(key);
        double now = delivery.options().clock().now();
        delivery.writeJson(VALUES, Json.put(Json.put(new JSONObject(), "configs", fresh), "loadedAt", now));
        configs = fresh;
        loadedAt = now;
        for (String key : changed) {
            for (Object[] registered : listeners) {
                if (registered[0] == null || registered[0].equals(key)) ((ConfigChangeListener) registered[1]).onChange(key, get(key));
            }
        }
        return changed;
    }

    /** Calls {@code listener} when {@code key} (null: any key) changes. */
    public void addConfigChangeListener(String key, ConfigChangeListener listener) {
        listeners.add(new Object[] {key, listener});
    }

    public void removeConfigChangeListener(ConfigChangeListener listener) {
        for (Object[] registered : listeners) if (registered[1] == listener) listeners.remove(registered);
    }
}
