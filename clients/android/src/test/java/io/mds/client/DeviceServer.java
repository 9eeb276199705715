package io.mds.client;

import io.mds.client.config.ConfigChangeListener;
import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import io.mds.client.events.EventReporter;
import io.mds.client.h5.H5Client;
import io.mds.client.h5.H5SyncResult;
import io.mds.client.hotpatch.HotpatchClient;
import io.mds.client.hotpatch.HotpatchSync;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Simulated phones on the SDK, driven by JSON lines on stdin (one reply line per request: {@code {"ok": value}}
 * or {@code {"error": message, "kind": wire kind}}). Used by tests/e2e/test_android_sdk.py against the real
 * local stack; each phone's state lives in files under {@code stateDir}, except phones named {@code memory:*}.
 * Checks and syncs with {@code "report": true} hand their outcome to the phone's {@link EventReporter}
 * ({@code events.*} ops: record, flush, pending, queued). {@code round} is one check round of several products
 * ({@link DeliveryClient#checkRound}); {@code grant} asks whether the phone holds a time-window place.
 */
public final class DeviceServer {
    /** One phone: its clients over one storage, and the network it is on. */
    private static final class Phone {
        final DeliveryClient delivery;
        final UpgradeClient upgrade;
        final ConfigClient config;
        final HotpatchClient hotpatch;
        final H5Client h5;
        final JSONArray events = new JSONArray();
        volatile String net = "WIFI";
        EventReporter reporter;

        Phone(MdsOptions.Builder options, Storage storage) throws MdsException {
            delivery = new DeliveryClient(options.storage(storage).networkType(new NetworkType() {
                @Override
                public String current() {
                    return net;
                }
            }).build());
            upgrade = new UpgradeClient(delivery);
            config = new ConfigClient(delivery);
            hotpatch = new HotpatchClient(delivery);
            h5 = delivery.options().h5PublicKeyPem() == null ? null : new H5Client(delivery);
        }

        /** The phone's reporter, made for the request's device the first time (one device per phone). */
        EventReporter reporter(JSONObject request) throws Exception {
            if (reporter == null) reporter = new EventReporter(delivery, device(request));
            return reporter;
        }
    }

    private final Map<String, Phone> phones = new HashMap<String, Phone>();
    private JSONObject setup;

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        DeviceServer server = new DeviceServer();
        for (String line; (line = in.readLine()) != null; ) {
            JSONObject reply = new JSONObject();
            try {
                reply.put("ok", server.handle(new JSONObject(line)));
            } catch (MdsException error) {
                reply.put("error", error.getMessage()).put("kind", error.kind().wire());
            } catch (Exception error) {
                reply.put("error", error.toString()).put("kind", JSONObject.NULL);
            }
            out.println(reply);
            out.flush();
        }
    }

    private MdsOptions.Builder options() throws Exception {
        MdsOptions.Builder options = MdsOptions.builder().cdnUrl(setup.getString("cdnUrl")).apiUrl(setup.getString("apiUrl"))
                .appId(setup.getString("appId")).workspaceId(setup.getString("workspaceId"));
        JSONObject keys = setup.getJSONObject("publicKeys");
        for (String id : Text.keys(keys)) options.publicKey(id, keys.getString(id));
        JSONObject patchKeys = setup.optJSONObject("patchKeys");
        for (String id : Text.keys(patchKeys == null ? new JSONObject() : patchKeys)) options.patchKey(id, patchKeys.getString(id));
        if (setup.has("h5PublicKey")) options.h5PublicKey(setup.getString("h5PublicKey"));
        return options;
    }

    private Phone phone(JSONObject request) throws Exception {
        String name = request.getString("phone");
        Phone found = phones.get(name);
        if (found == null) {
            Storage storage = name.startsWith("memory:") ? new MemoryStorage() : new FileStorage(new File(setup.getString("stateDir"), name));
            found = new Phone(options(), storage);
            phones.put(name, found);
        }
        if (request.has("net")) found.net = request.getString("net");
        return found;
    }

    private static Device device(JSONObject request) throws Exception {
        return Device.fromContext(request.getJSONObject("device"));
    }

    private Object handle(JSONObject request) throws Exception {
        String op = request.getString("op");
        if (op.equals("init")) {
            setup = request.getJSONObject("setup");
            return "ok";
        }
        if (op.equals("checks")) return checks(request);
        final Phone phone = phone(request);
        switch (op) {
            case "upgrade.check":
                UpgradeCheck check = phone.upgrade.check(device(request));
                if (request.optBoolean("report")) phone.reporter(request).checked(check);
                return upgrade(check);
            case "round":
                return round(phone.delivery, device(request), request.optJSONArray("products"));
            case "grant":
                String refusal = phone.delivery.grantRefusal(request.getString("product"), request.getString("candidate"), device(request));
                return refusal == null ? JSONObject.NULL : refusal;
            case "config.listen":
                phone.config.addConfigChangeListener(request.getString("key"), new ConfigChangeListener() {
                    @Override
                    public void onChange(String key, Object value) {
                        phone.events.put(new JSONArray().put(key).put(value == null ? JSONObject.NULL : value));
                    }
                });
                return "ok";
            case "config.load":
                JSONArray changed = new JSONArray(phone.config.loadImmediately(device(request)));
                if (request.optBoolean("report")) phone.reporter(request).configLoaded(phone.config);
                return changed;
            case "config.get":
                Object value = phone.config.get(request.getString("key"));
                return value == null ? JSONObject.NULL : value;
            case "config.events":
                return phone.events;
            case "h5.sync":
                Map<String, H5SyncResult> synced = phone.h5.syncNow(device(request));
                if (request.optBoolean("report")) phone.reporter(request).h5Synced(synced);
                return h5(synced);
            case "h5.installed":
                return new JSONObject(phone.h5.installed());
            case "h5.read":
                byte[] bytes = phone.h5.read(request.getString("url"));
                return bytes == null ? JSONObject.NULL : Text.toBase64(bytes);
            case "hotpatch.sync":
                HotpatchSync patched = phone.hotpatch.sync(device(request));
                if (request.optBoolean("report")) phone.reporter(request).hotpatchSynced(patched);
                return hotpatch(patched);
            case "hotpatch.replay":
                String applied = phone.hotpatch.applyAnswer(request.getJSONObject("answer"), device(request)).applied();
                return applied == null ? JSONObject.NULL : applied;
            case "events.record":
                return phone.reporter(request).record(request.getString("type"), request.getString("release"),
                        request.isNull("reason") ? null : request.getString("reason"), request.isNull("value") ? null : request.getString("value"));
            case "events.flush":
                return phone.reporter(request).flush();
            case "events.pending":
                return phone.reporter(request).pending();
            case "events.queued":
                return new JSONArray(phone.reporter(request).queued());
            default:
                throw MdsException.validation("op", "is not one of this driver's operations: " + op);
        }
    }

    /**
     * Many devices, one check each, on one shared memory storage (as many phones behind one CDN). {@code grants}
     * (optional): grant envelopes the devices were handed before (by the check API, to another client of theirs),
     * kept first as an API answer's are: only those that verify with the pinned keys count.
     */
    private JSONArray checks(JSONObject request) throws Exception {
        String product = request.getString("product");
        Phone phone = phone(new JSONObject().put("phone", "memory:" + product));
        JSONArray grants = request.optJSONArray("grants");
        if (grants != null) phone.delivery.keepGrants(grants, (long) Math.floor(phone.delivery.options().clock().now()));
        JSONArray devices = request.getJSONArray("devices");
        JSONArray answers = new JSONArray();
        for (int i = 0; i < devices.length(); i++) {
            answers.put(phone.delivery.check(product, Device.fromContext(devices.getJSONObject(i))).answer());
        }
        return answers;
    }

    private static JSONObject round(DeliveryClient delivery, Device device, JSONArray products) throws Exception {
        String[] asked = new String[products == null ? 0 : products.length()];
        for (int i = 0; i < asked.length; i++) asked[i] = products.getString(i);
        CheckRound round = delivery.checkRound(device, asked);
        JSONObject decisions = new JSONObject();
        for (Map.Entry<String, Decision> entry : round.decisions().entrySet()) {
            Decision decision = entry.getValue();
            JSONObject one = new JSONObject();
            Json.put(one, "answer", decision.answer());
            Json.put(one, "static", decision.isStatic());
            Json.put(one, "chosen", new JSONObject(decision.chosen()));
            Json.put(one, "requests", new JSONArray(decision.requests()));
            Json.put(decisions, entry.getKey(), one);
        }
        JSONObject errors = new JSONObject();
        for (Map.Entry<String, MdsException> entry : round.errors().entrySet()) Json.put(errors, entry.getKey(), entry.getValue().kind().wire());
        JSONObject out = new JSONObject();
        Json.put(out, "decisions", decisions);
        Json.put(out, "errors", errors);
        Json.put(out, "requests", new JSONArray(round.requests()));
        Json.put(out, "stale", round.stale());
        Json.put(out, "nextCheckAt", round.nextCheckAt() == null ? JSONObject.NULL : round.nextCheckAt());
        return out;
    }

    private static JSONObject upgrade(UpgradeCheck check) {
        JSONObject out = new JSONObject();
        Json.put(out, "result", check.result().name());
        Json.put(out, "mode", check.mode() == null ? JSONObject.NULL : check.mode().name());
        Json.put(out, "resultStatus", check.resultStatus());
        Json.put(out, "guideMemo", check.guideMemo());
        Json.put(out, "newestVersion", check.newestVersion());
        Json.put(out, "prompt", check.prompt());
        Json.put(out, "answer", check.answer());
        Json.put(out, "static", check.decision() == null ? JSONObject.NULL : check.decision().isStatic());
        Json.put(out, "requests", check.decision() == null ? new JSONArray() : new JSONArray(check.decision().requests()));
        Long next = check.decision() == null ? null : check.decision().nextCheckAt();
        Json.put(out, "nextCheckAt", next == null ? JSONObject.NULL : next);
        Json.put(out, "error", check.error() == null ? JSONObject.NULL : check.error().kind().wire());
        return out;
    }

    private static JSONObject h5(Map<String, H5SyncResult> results) {
        JSONObject out = new JSONObject();
        for (Map.Entry<String, H5SyncResult> result : results.entrySet()) {
            H5SyncResult r = result.getValue();
            JSONObject one = new JSONObject();
            Json.put(one, "version", r.version());
            Json.put(one, "status", r.status().name());
            Json.put(one, "error", r.error() == null ? JSONObject.NULL : r.error().kind().wire());
            Json.put(out, result.getKey(), one);
        }
        return out;
    }

    private static JSONObject hotpatch(HotpatchSync sync) {
        JSONObject out = new JSONObject();
        Json.put(out, "applied", sync.applied() == null ? JSONObject.NULL : sync.applied());
        Json.put(out, "actions", new JSONArray(sync.actions()));
        Json.put(out, "answer", sync.answer());
        Json.put(out, "static", sync.isStatic());
        return out;
    }
}
