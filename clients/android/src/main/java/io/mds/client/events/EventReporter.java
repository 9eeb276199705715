package io.mds.client.events;

import io.mds.client.Decision;
import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.MdsOptions;
import io.mds.client.Transport;
import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import io.mds.client.h5.H5SyncResult;
import io.mds.client.hotpatch.HotpatchSync;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * What happened on the device, sent to {@code POST /client/v1/events} (docs/events.md, schema 1), with the
 * rules of the reference client ({@code mds/device/events.py}): each <em>fact</em> (type, release, reason,
 * value) is queued once — a device checking every 30 minutes reports "offered upgrade-task-12" once, not 48
 * times a day; the queue and the facts live in the SDK's {@link io.mds.client.Storage} (key
 * {@value #STATE}), so nothing is lost across restarts or while offline. {@link #flush} sends batches of at
 * most 50 events and 64 KB; a network error, a 5xx or a 429 keeps the queue (the same events, with the same
 * IDs, go again at the next flush), a 202 or any other 4xx (a refused batch, which retrying cannot fix) drops
 * the batch.
 *
 * <p>Opt-in: the app makes one reporter per device and hands it what the clients return —
 * {@link #checked(UpgradeCheck)}, {@link #h5Synced}, {@link #hotpatchSynced}, {@link #configLoaded} — or
 * records facts of its own ({@link #record}: a download it ran, an install the system refused), then calls
 * {@link #flush} when it suits it (app start, after a check, from a background job). Thread-safe; one
 * reporter per storage.
 */
public final class EventReporter {
    public static final int SCHEMA = 1;
    public static final int MAX_EVENTS_PER_BATCH = 50;
    /** The server's limit on one batch, as it measures it (compact ASCII JSON inside its queue message). */
    public static final int MAX_BATCH_BYTES = 64 * 1024;
    /** What the server wraps around the body before measuring it: {@code {"receivedAt":<seconds>,"batch":…}}. */
    static final int SERVER_WRAPPER = 64;
    /** The longest reason, and the longest value sent as is (longer values go as their SHA-256, as the server counts them). */
    public static final int MAX_DETAIL = 200;
    /** Events older than this the server refuses; they are dropped before sending. */
    static final long PAST_SECONDS = 30L * 86400 - 600;
    static final String STATE = "events/state.json";
    static final String PATH = "/client/v1/events";

    private static final List<String> REPORTED = Arrays.asList("upgrade-task-", "h5-task-", "hotpatch-release-");
    private static final Pattern RELEASE = Pattern.compile("(upgrade-task-|h5-task-|hotpatch-release-)\\d{1,12}|config:[A-Za-z0-9_.\\-]{1,128}");
    private static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");
    private static final Pattern DEVICE_ID = Pattern.compile("[\\x21-\\x7e]{1,128}");
    private static final Pattern LINE_BREAK = Pattern.compile("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]");
    private static final Set<String> DELIVERY = new HashSet<String>(Arrays.asList("check.answered", "prompt.shown",
            "download.started", "download.finished", "download.failed", "install.finished", "install.failed"));

    private final MdsOptions options;
    private final DeliveryClient delivery;
    private final Device device;
    private final Object stateLock = new Object();
    private final Object flushLock = new Object();

    /** Throws {@link IllegalArgumentException} when the device has no deviceId (events are per device). */
    public EventReporter(DeliveryClient delivery, Device device) {
        String id = device.deviceId();
        if (id == null || id.isEmpty()) throw new IllegalArgumentException("events need the device's deviceId");
        if (!DEVICE_ID.matcher(id).matches()) throw new IllegalArgumentException("deviceId must be 1 to 128 printable ASCII characters");
        this.delivery = delivery;
        this.options = delivery.options();
        this.device = device;
    }

    // --- recording --------------------------------------------------------------------------------

    /**
     * Queues one event unless this fact (type, release, reason, value) was queued before; true when queued.
     * {@code reason} (required for {@code *.failed}, else null) is cut to its first line, {@code #} becomes a
     * space, at most 200 characters; {@code value} (required for {@code config.active}, else null) over 200
     * characters, or holding {@code #} or control characters, is sent as {@code sha256:<hex>}.
     *
     * @throws IllegalArgumentException for an event the server would refuse (unknown type, a release that is
     *     not {@code upgrade-task-<id>}, {@code h5-task-<id>}, {@code hotpatch-release-<id>} or
     *     {@code config:<key>}, a type its product does not have, a missing or extra reason or value)
     */
    public boolean record(String type, String release, String reason, String value) throws MdsException {
        check(type, release, reason, value);
        String detailReason = reason == null ? null : reason(reason);
        String detailValue = value == null ? null : value(value);
        String fact = type + "|" + release + "|" + (detailReason == null ? "" : detailReason) + "|" + (detailValue == null ? "" : detailValue);
        synchronized (stateLock) {
            JSONObject state = state();
            JSONArray facts = state.optJSONArray("facts");
            for (int i = 0; i < facts.length(); i++) if (fact.equals(facts.optString(i))) return false;
            JSONObject event = new JSONObject();
            Json.put(event, "id", UUID.randomUUID().toString().replace("-", ""));
            Json.put(event, "type", type);
            Json.put(event, "at", (long) Math.floor(options.clock().now()));
            Json.put(event, "release", release);
            Json.put(event, "reason", detailReason);
            Json.put(event, "value", detailValue);
            facts.put(fact);
            state.optJSONArray("queue").put(event);
            save(state);
            return true;
        }
    }

    /** The reference client's {@code checked}: each release {@code decision} chose, and the prompt when the app shows it now. */
    public void checked(Decision decision, boolean prompt) throws MdsException {
        for (String release : decision.chosen().values()) {
            if (!reported(release)) continue;
            record("check.answered", release, null, null);
            if (prompt && release.startsWith("upgrade-task-")) record("prompt.shown", release, null, null);
        }
    }

    /** After {@code UpgradeClient.check}: a release offered ({@code HAS_NEW_VERSION}), and shown if {@link UpgradeCheck#prompt()}. */
    public void checked(UpgradeCheck check) throws MdsException {
        if (check.result() != UpgradeResult.HAS_NEW_VERSION) return;
        String release = check.taskId() != null && check.taskId().matches("\\d{1,12}") ? "upgrade-task-" + check.taskId() : null;
        if (release == null && check.decision() != null) {
            for (String chosen : check.decision().chosen().values()) if (chosen.startsWith("upgrade-task-")) release = chosen;
        }
        if (release == null) return;
        record("check.answered", release, null, null);
        if (check.prompt()) record("prompt.shown", release, null, null);
    }

    /**
     * After {@code H5Client.sync}/{@code syncNow} (null: no sync ran): each H5 app's release offered; a version
     * installed or staged is {@code download.finished} + {@code install.finished}, a failed one
     * {@code install.failed} with the error as reason.
     */
    public void h5Synced(Map<String, H5SyncResult> results) throws MdsException {
        if (results == null) return;
        for (H5SyncResult result : results.values()) {
            String release = result.release();
            if (release == null || !release.startsWith("h5-task-")) continue;
            record("check.answered", release, null, null);
            if (result.status() == H5SyncResult.Status.FAILED) {
                record("install.failed", release, result.error() == null ? "unknown" : result.error().getMessage(), null);
            } else if (result.status() == H5SyncResult.Status.INSTALLED || result.status() == H5SyncResult.Status.STAGED) {
                record("download.finished", release, null, null);
                record("install.finished", release, null, null);
            }
        }
    }

    /**
     * After {@code HotpatchClient.sync}/{@code applyAnswer}: the release the answer offers, and the apply of
     * its patch in this sync — {@code install.finished}, or {@code install.failed} with the error as reason.
     */
    public void hotpatchSynced(HotpatchSync sync) throws MdsException {
        JSONObject answer = sync.answer();
        Object releaseId = answer == null ? null : answer.opt("releaseId");
        if (releaseId == null || JSONObject.NULL.equals(releaseId)) return;
        String release = "hotpatch-release-" + releaseId;
        if (!RELEASE.matcher(release).matches()) return;
        record("check.answered", release, null, null);
        String patchId = String.valueOf(answer.opt("patchId"));
        for (String action : sync.actions()) {
            if (action.equals("applied " + patchId)) {
                record("install.finished", release, null, null);
            } else if (action.startsWith("refused " + patchId + ":")) {
                record("install.failed", release, sync.error() == null ? action : sync.error().getMessage(), null);
            }
        }
    }

    /** The value of {@code key} now in force: a string as is, anything else as compact JSON (as the reference client). */
    public void configActive(String key, Object value) throws MdsException {
        String text = value instanceof String ? (String) value : WireJson.write(value);
        record("config.active", "config:" + key, null, text);
    }

    /** After {@code ConfigClient.load}/{@code loadImmediately} (or at start): every value in force. */
    public void configLoaded(ConfigClient config) throws MdsException {
        for (String key : config.keys()) {
            if (!CONFIG_KEY.matcher(key).matches()) continue; // not a key events can name
            Object value = config.get(key);
            configActive(key, value == null ? config.getConfig(key) : value);
        }
    }

    // --- sending ----------------------------------------------------------------------------------

    /** Events queued and not yet sent. */
    public int pending() throws MdsException {
        synchronized (stateLock) {
            return state().optJSONArray("queue").length();
        }
    }

    /**
     * Sends what is queued, batch by batch; returns how many events the server accepted. Stops at the first
     * network error, 5xx or 429 (what was not sent stays queued); throws only when storage fails.
     */
    public int flush() throws MdsException {
        synchronized (flushLock) {
            int accepted = 0;
            while (true) {
                List<JSONObject> batch;
                String body;
                synchronized (stateLock) {
                    JSONObject state = state();
                    if (dropExpired(state)) save(state);
                    JSONArray queue = state.optJSONArray("queue");
                    if (queue.length() == 0) return accepted;
                    batch = new ArrayList<JSONObject>();
                    body = batch(queue, batch);
                }
                int status;
                byte[] reply;
                try {
                    Map<String, String> headers = new HashMap<String, String>();
                    headers.put("Content-Type", "application/json");
                    Transport.Response response = options.transport().send("POST", options.apiUrl() + PATH, headers, Text.utf8(body));
                    try {
                        status = response.status();
                        reply = DeliveryClient.readAll(response.body());
                    } finally {
                        response.close();
                    }
                } catch (IOException offline) {
                    return accepted; // kept: the same events go at the next flush
                }
                if (status >= 500 || status == 429) return accepted;
                if (status == 202) accepted += acceptedIn(reply);
                synchronized (stateLock) { // accepted, or refused for good (4xx): off the queue
                    Set<String> sent = new HashSet<String>();
                    for (JSONObject event : batch) sent.add(event.optString("id"));
                    JSONObject state = state();
                    JSONArray queue = state.optJSONArray("queue");
                    JSONArray kept = new JSONArray();
                    for (int i = 0; i < queue.length(); i++) {
                        JSONObject event = queue.optJSONObject(i);
                        if (event != null && !sent.contains(event.optString("id"))) kept.put(event);
                    }
                    Json.put(state, "queue", kept);
                    save(state);
                }
            }
        }
    }

    /** The request body of the first events of {@code queue} that fit (≤ 50, ≤ 64 KB), which go into {@code batch}. */
    private String batch(JSONArray queue, List<JSONObject> batch) {
        StringBuilder head = new StringBuilder("{\"schema\":").append(SCHEMA);
        field(head, "appId", options.appId());
        field(head, "workspaceId", options.workspaceId());
        field(head, "platform", device.platform());
        field(head, "deviceId", device.deviceId());
        field(head, "clientVersion", device.clientVersion() == null ? "0" : device.clientVersion().text());
        head.append(",\"events\":[");
        StringBuilder body = head;
        int limit = MAX_BATCH_BYTES - SERVER_WRAPPER - 2; // the closing "]}"
        for (int i = 0; i < queue.length() && batch.size() < MAX_EVENTS_PER_BATCH; i++) {
            JSONObject event = queue.optJSONObject(i);
            if (event == null) continue;
            String written = event(event);
            int size = body.length() + (batch.isEmpty() ? 0 : 1) + written.length();
            if (size > limit && !batch.isEmpty()) break; // a lone oversized event still goes (and is refused)
            if (!batch.isEmpty()) body.append(',');
            body.append(written);
            batch.add(event);
        }
        return body.append("]}").toString();
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append(",\"").append(name).append("\":");
        WireJson.quote(value, out);
    }

    /** One event in wire order: id, type, at, release, reason?, value?. */
    static String event(JSONObject event) {
        StringBuilder out = new StringBuilder("{\"id\":");
        WireJson.quote(event.optString("id"), out);
        out.append(",\"type\":");
        WireJson.quote(event.optString("type"), out);
        out.append(",\"at\":").append(event.optLong("at"));
        out.append(",\"release\":");
        WireJson.quote(event.optString("release"), out);
        if (event.has("reason")) {
            out.append(",\"reason\":");
            WireJson.quote(event.optString("reason"), out);
        }
        if (event.has("value")) {
            out.append(",\"value\":");
            WireJson.quote(event.optString("value"), out);
        }
        return out.append('}').toString();
    }

    private boolean dropExpired(JSONObject state) {
        long oldest = (long) Math.floor(options.clock().now()) - PAST_SECONDS;
        JSONArray queue = state.optJSONArray("queue");
        JSONArray kept = new JSONArray();
        for (int i = 0; i < queue.length(); i++) {
            JSONObject event = queue.optJSONObject(i);
            if (event != null && event.optLong("at") >= oldest) kept.put(event);
        }
        if (kept.length() == queue.length()) return false;
        Json.put(state, "queue", kept);
        return true;
    }

    private static int acceptedIn(byte[] reply) {
        try {
            return new JSONObject(Text.fromUtf8(reply)).optInt("accepted", 0);
        } catch (JSONException unreadable) {
            return 0;
        }
    }

    // --- rules ------------------------------------------------------------------------------------

    private static boolean reported(String release) {
        for (String prefix : REPORTED) if (release.startsWith(prefix)) return true;
        return false;
    }

    private static void check(String type, String release, String reason, String value) {
        if (type == null || !(DELIVERY.contains(type) || type.equals("config.active"))) {
            throw new IllegalArgumentException("unknown event type " + type);
        }
        if (release == null || !RELEASE.matcher(release).matches()) {
            throw new IllegalArgumentException("release must be upgrade-task-<id>, h5-task-<id>, hotpatch-release-<id> or config:<key>: " + release);
        }
        boolean config = release.startsWith("config:");
        if (config != type.equals("config.active") || (type.equals("prompt.shown") && !release.startsWith("upgrade-task-"))) {
            throw new IllegalArgumentException(type + " is not an event of " + release);
        }
        boolean failure = type.endsWith(".failed");
        if (failure != (reason != null)) throw new IllegalArgumentException(failure ? type + " needs a reason" : "a reason is only for *.failed");
        if (config != (value != null)) throw new IllegalArgumentException(config ? "config.active needs a value" : "a value is only for config.active");
    }

    /** A short, countable reason: the first line, {@code #} (the counters' separator) and control characters as spaces, ≤ 200 characters. */
    static String reason(String error) {
        String line = LINE_BREAK.split(error, 2)[0].replace('#', ' ');
        StringBuilder out = new StringBuilder();
        int count = 0;
        for (int i = 0; i < line.length() && count < MAX_DETAIL; count++) {
            int c = line.codePointAt(i);
            out.appendCodePoint(c < 0x20 ? ' ' : c);
            i += Character.charCount(c);
        }
        String reason = Text.strip(out.toString());
        return reason.isEmpty() ? "unknown" : reason;
    }

    /** The value as the server counts it: as is up to 200 characters, else (and when it could not be sent) its SHA-256. */
    static String value(String value) {
        boolean sendable = value.codePointCount(0, value.length()) <= MAX_DETAIL && value.indexOf('#') < 0;
        for (int i = 0; sendable && i < value.length(); i++) if (value.charAt(i) < 0x20) sendable = false;
        return sendable ? value : "sha256:" + Text.hex(Text.sha256(Text.utf8(value)));
    }

    private JSONObject state() throws MdsException {
        JSONObject state = delivery.readJson(STATE);
        if (state.optJSONArray("queue") == null) Json.put(state, "queue", new JSONArray());
        if (state.optJSONArray("facts") == null) Json.put(state, "facts", new JSONArray());
        return state;
    }

    private void save(JSONObject state) throws MdsException {
        delivery.writeJson(STATE, state);
    }

    /** The queued events (copies), oldest first. */
    public List<JSONObject> queued() throws MdsException {
        synchronized (stateLock) {
            JSONArray queue = state().optJSONArray("queue");
            List<JSONObject> out = new ArrayList<JSONObject>();
            for (int i = 0; i < queue.length(); i++) if (queue.optJSONObject(i) != null) out.add(Json.copy(queue.optJSONObject(i)));
            return Collections.unmodifiableList(out);
        }
    }
}
