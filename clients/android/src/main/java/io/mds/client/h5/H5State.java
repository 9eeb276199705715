package io.mds.client.h5;

import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import java.util.Map;
import java.util.TreeMap;
import org.json.JSONObject;

/**
 * Which version of each H5 app is in use ({@code installed}), which waits for the app to open it
 * ({@code pending}), and when the last sync ran — one storage value, so switching versions is one write.
 */
final class H5State {
    private static final String KEY = "h5/state.json";

    final Map<String, H5Installed> installed = new TreeMap<String, H5Installed>();
    final Map<String, H5Installed> pending = new TreeMap<String, H5Installed>();
    double lastSync = Double.NaN;

    static H5State load(DeliveryClient delivery) throws MdsException {
        JSONObject stored = delivery.readJson(KEY);
        H5State state = new H5State();
        read(stored.optJSONObject("installed"), state.installed);
        read(stored.optJSONObject("pending"), state.pending);
        if (stored.has("lastSync")) state.lastSync = stored.optDouble("lastSync");
        return state;
    }

    private static void read(JSONObject stored, Map<String, H5Installed> into) {
        if (stored == null) return;
        for (String h5Id : Text.keys(stored)) {
            JSONObject entry = stored.optJSONObject(h5Id);
            if (entry != null) into.put(h5Id, H5Installed.fromJson(h5Id, entry));
        }
    }

    void save(DeliveryClient delivery) throws MdsException {
        JSONObject out = new JSONObject();
        Json.put(out, "installed", write(installed));
        Json.put(out, "pending", write(pending));
        if (!Double.isNaN(lastSync)) Json.put(out, "lastSync", lastSync);
        delivery.writeJson(KEY, out);
    }

    private static JSONObject write(Map<String, H5Installed> entries) {
        JSONObject out = new JSONObject();
        for (H5Installed entry : entries.values()) Json.put(out, entry.h5Id, entry.toJson());
        return out;
    }

    /** The largest asyncReqRate of the installed apps: how long syncs wait after one another. */
    long asyncReqRate() {
        long rate = 0;
        for (H5Installed entry : installed.values()) rate = Math.max(rate, entry.asyncReqRate);
        return rate;
    }
}
