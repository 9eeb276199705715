package io.mds.client.h5;

import io.mds.client.Decision;
import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.amr.AmrVerifier;
import io.mds.client.amr.RsaKey;
import io.mds.client.engine.Device;
import io.mds.client.engine.Text;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * H5 offline packages, as the TypeScript SDK's {@code H5Client}: {@link #sync} brings each H5 app to the
 * version chosen for the device. The {@code .amr} is verified while it streams (signature, every file, the
 * package digest) and written under its own version's keys; only then does one state write make it current,
 * so a bad or half-downloaded package never replaces a good one. Wi-Fi-only packages wait for Wi-Fi;
 * "install on open" packages are staged and switched to when the app opens the H5 app ({@link #open},
 * {@link #resolve}); {@code asyncReqRate} spaces syncs out. {@link #resolve} is what
 * {@code WebViewClient.shouldInterceptRequest} asks: the installed file for {@code https://<h5Id>.<vhost>/<path>},
 * or null to load it online.
 */
public final class H5Client {
    private static final Pattern URL = Pattern.compile("^https?://(\\d{8})\\.([^/?#]+)(/[^?#]*)?.*$");

    private final DeliveryClient delivery;
    private final H5Download download;

    /** Throws {@code format} when the options hold no valid H5 public key PEM. */
    public H5Client(DeliveryClient delivery) throws MdsException {
        String pem = delivery.options().h5PublicKeyPem();
        if (pem == null) throw new MdsException(MdsException.Kind.FORMAT, "H5 packages need MdsOptions.h5PublicKey (the app's H5 RSA public key PEM)");
        this.delivery = delivery;
        this.download = new H5Download(delivery, new AmrVerifier(RsaKey.fromPem(pem)));
    }

    /** A sync unless the last one is more recent than asyncReqRate: per H5 ID what happened, or null when it was not time. */
    public Map<String, H5SyncResult> sync(Device device) throws MdsException {
        H5State state = H5State.load(delivery);
        double now = delivery.options().clock().now();
        if (!Double.isNaN(state.lastSync) && now - state.lastSync < state.asyncReqRate()) return null;
        return syncNow(device);
    }

    /** Checks now and acts on the answer; throws only when there is no last good manifest. */
    public Map<String, H5SyncResult> syncNow(Device device) throws MdsException {
        return sync(delivery.check("h5", device));
    }

    /** Acts on a round's h5 decision ({@code delivery.checkRound(device).decision("h5")}), whatever asyncReqRate says. */
    public Map<String, H5SyncResult> sync(Decision decision) throws MdsException {
        Map<String, H5SyncResult> results = new LinkedHashMap<String, H5SyncResult>();
        for (Map.Entry<String, H5SyncResult> result : applyAnswer(decision.answer()).entrySet()) {
            results.put(result.getKey(), result.getValue().withRelease(decision.chosen().get(result.getKey())));
        }
        return results;
    }

    /** Acts on one h5 answer ({@code packages}); an app the answer no longer lists is removed. */
    public synchronized Map<String, H5SyncResult> applyAnswer(JSONObject answer) throws MdsException {
        H5State state = H5State.load(delivery);
        boolean onWifi = Text.reportedNetwork(delivery.options().networkType().current()).equals("wifi");
        Map<String, H5SyncResult> results = new LinkedHashMap<String, H5SyncResult>();
        JSONArray packages = answer.optJSONArray("packages");
        for (int i = 0; packages != null && i < packages.length(); i++) {
            H5Package item = H5Package.fromAnswer(packages.optJSONObject(i) == null ? new JSONObject() : packages.optJSONObject(i));
            results.put(item.h5Id(), apply(state, item, onWifi));
        }
        List<H5Installed> retired = new ArrayList<H5Installed>();
        for (String h5Id : new ArrayList<String>(state.installed.keySet())) {
            if (results.containsKey(h5Id)) continue;
            retired.add(state.installed.remove(h5Id));
            if (state.pending.containsKey(h5Id)) retired.add(state.pending.remove(h5Id));
        }
        state.lastSync = delivery.options().clock().now();
        state.save(delivery);
        for (H5Installed entry : retired) retire(entry);
        return results;
    }

    private H5SyncResult apply(H5State state, H5Package item, boolean onWifi) throws MdsException {
        H5Installed current = state.installed.get(item.h5Id());
        H5Installed waiting = state.pending.get(item.h5Id());
        if (current != null && current.version.equals(item.version())) {
            if (waiting != null) retire(state.pending.remove(item.h5Id())); // the answer went back to the version in use
            return new H5SyncResult(item.version(), H5SyncResult.Status.CURRENT, null);
        }
        if (waiting != null && waiting.version.equals(item.version())) return new H5SyncResult(item.version(), H5SyncResult.Status.STAGED, null);
        if (item.wifiOnly() && !onWifi) return new H5SyncResult(item.version(), H5SyncResult.Status.WAITING_FOR_WIFI, null);
        H5Installed fetched;
        try {
            fetched = download.fetch(item);
        } catch (MdsException refused) {
            return new H5SyncResult(item.version(), H5SyncResult.Status.FAILED, refused); // the version in use stays
        }
        if (item.installOnOpen() && current != null) {
            state.pending.put(item.h5Id(), fetched);
            state.save(delivery);
            if (waiting != null) retire(waiting);
            return new H5SyncResult(item.version(), H5SyncResult.Status.STAGED, null);
        }
        state.installed.put(item.h5Id(), fetched);
        state.pending.remove(item.h5Id());
        state.save(delivery);
        if (current != null) retire(current);
        if (waiting != null) retire(waiting);
        return new H5SyncResult(item.version(), H5SyncResult.Status.INSTALLED, null);
    }

    private void retire(H5Installed entry) throws MdsException {
        for (String path : entry.files) delivery.delete(entry.keyOf(path));
    }

    /** {@code h5Id → version} in use now. */
    public Map<String, String> installed() throws MdsException {
        Map<String, String> out = new TreeMap<String, String>();
        for (H5Installed entry : H5State.load(delivery).installed.values()) out.put(entry.h5Id, entry.version);
        return Collections.unmodifiableMap(out);
    }

    /** The app opens an H5 app: a staged version becomes the one in use first. The version in use, or null. */
    public synchronized String open(String h5Id) throws MdsException {
        H5State state = H5State.load(delivery);
        H5Installed waiting = state.pending.remove(h5Id);
        if (waiting != null) {
            H5Installed previous = state.installed.put(h5Id, waiting);
            state.save(delivery);
            if (previous != null) retire(previous);
        }
        H5Installed current = state.installed.get(h5Id);
        return current == null ? null : current.version;
    }

    /**
     * The installed file for {@code https://<h5Id>.<vhost>/<path>} (the bare host: the main URL), opening the
     * H5 app first; null when the URL is not an installed file (the WebView then loads it online).
     */
    public H5Resource resolve(String url) throws MdsException {
        Matcher match = URL.matcher(url);
        if (!match.matches()) return null;
        String h5Id = match.group(1);
        open(h5Id);
        H5Installed entry = H5State.load(delivery).installed.get(h5Id);
        if (entry == null || !entry.vhost.equals(match.group(2))) return null;
        String raw = match.group(3);
        String path = (raw != null && !raw.equals("/") ? raw : entry.mainUrl.isEmpty() ? "/" : entry.mainUrl).substring(1);
        if (!entry.files.contains(path)) return null;
        return new H5Resource(h5Id, entry.version, path, entry.keyOf(path));
    }

    /** The bytes {@link #resolve} points at, or null when the URL is served online. */
    public byte[] read(String url) throws MdsException {
        H5Resource found = resolve(url);
        return found == null ? null : delivery.read(found.storageKey());
    }
}
