package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import io.mds.client.engine.Text;
import io.mds.client.events.EventReporter;
import io.mds.client.hotpatch.HotpatchClient;
import io.mds.client.hotpatch.HotpatchSync;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import java.io.File;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device events: each fact once, a queue that survives restarts, batches of 50 and 64 KB, retries that keep the IDs. */
class EventsTest {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{8,64}");
    private static final int SERVER_WRAPPER = "{\"receivedAt\":1800000000,\"batch\":}".length();

    /** The events API: each POST's body, answered by the script (a status, or an IOException), else 202. */
    static final class EventServer implements Transport {
        final List<String> bodies = new ArrayList<String>();
        final Deque<Object> script = new ArrayDeque<Object>();
        final List<String> urls = new ArrayList<String>();

        @Override
        public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
            assertEquals("POST", method);
            assertEquals("application/json", headers.get("Content-Type"));
            urls.add(url);
            bodies.add(Text.fromUtf8(body));
            Object next = script.poll();
            if (next instanceof IOException) throw (IOException) next;
            int status = next == null ? 202 : (Integer) next;
            int events;
            try {
                events = new JSONObject(Text.fromUtf8(body)).getJSONArray("events").length();
            } catch (JSONException error) {
                throw new AssertionError(error);
            }
            String reply = status == 202 ? "{\"accepted\":" + events + "}" : "{\"error\":\"no\"}";
            return KitNetwork.response(status, Text.utf8(reply), null);
        }

        List<String> ids(int request) throws JSONException {
            List<String> ids = new ArrayList<String>();
            JSONArray events = new JSONObject(bodies.get(request)).getJSONArray("events");
            for (int i = 0; i < events.length(); i++) ids.add(events.getJSONObject(i).getString("id"));
            return ids;
        }
    }

    private final EventServer server = new EventServer();
    private final double[] now = {1800000000.75};

    private DeliveryClient delivery(Storage storage, Transport transport) {
        return new DeliveryClient(MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit/").appId("A1B2C3").workspaceId("ws")
                .publicKey("k", Text.toBase64(new byte[32])).storage(storage).transport(transport).clock(() -> now[0]).build());
    }

    private static Device device() throws MdsException {
        return Device.builder().platform("android").deviceId("dev-1").userId("alice").clientVersion("4.0.1").build();
    }

    private EventReporter reporter(Storage storage) throws MdsException {
        return new EventReporter(delivery(storage, server), device());
    }

    @Test
    void eachFactIsQueuedOnce() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        assertTrue(events.record("check.answered", "upgrade-task-12", null, null));
        assertFalse(events.record("check.answered", "upgrade-task-12", null, null));
        assertTrue(events.record("check.answered", "upgrade-task-13", null, null));
        assertTrue(events.record("install.failed", "upgrade-task-12", "disk full", null));
        assertFalse(events.record("install.failed", "upgrade-task-12", "disk full", null));
        assertTrue(events.record("install.failed", "upgrade-task-12", "no network", null));
        assertTrue(events.record("config.active", "config:feed_v2", null, "true"));
        assertFalse(events.record("config.active", "config:feed_v2", null, "true"));
        assertTrue(events.record("config.active", "config:feed_v2", null, "false"));
        assertEquals(6, events.pending());
        assertEquals(6, events.flush());
        assertFalse(events.record("check.answered", "upgrade-task-12", null, null)); // sent: still known
        assertEquals(0, events.flush());
        assertEquals(1, server.bodies.size());
    }

    @Test
    void theBatchIsSchema1WithTheDeviceAndEachEventItsOwnId() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        events.record("check.answered", "upgrade-task-12", null, null);
        events.record("download.failed", "upgrade-task-12", "network", null);
        events.record("config.active", "config:feed_v2", null, "true");
        assertEquals(3, events.flush());
        assertEquals(Arrays.asList("http://api.kit/client/v1/events"), server.urls);
        JSONObject body = new JSONObject(server.bodies.get(0));
        assertEquals(new HashSet<String>(Arrays.asList("schema", "appId", "workspaceId", "platform", "deviceId", "clientVersion", "events")),
                new HashSet<String>(Text.keys(body)));
        assertEquals(1, body.getInt("schema"));
        assertEquals("A1B2C3", body.getString("appId"));
        assertEquals("ws", body.getString("workspaceId"));
        assertEquals("android", body.getString("platform"));
        assertEquals("dev-1", body.getString("deviceId"));
        assertEquals("4.0.1", body.getString("clientVersion"));
        JSONArray sent = body.getJSONArray("events");
        Set<String> ids = new HashSet<String>();
        for (int i = 0; i < sent.length(); i++) {
            JSONObject event = sent.getJSONObject(i);
            assertTrue(ID.matcher(event.getString("id")).matches(), event.getString("id"));
            ids.add(event.getString("id"));
            assertEquals(1800000000L, event.getLong("at")); // whole seconds from the SDK's clock
        }
        assertEquals(3, ids.size());
        assertTrue(server.bodies.get(0).contains(",\"at\":1800000000,"), server.bodies.get(0));
        assertEquals("{\"type\":\"download.failed\",\"release\":\"upgrade-task-12\",\"reason\":\"network\"}",
                without(sent.getJSONObject(1), "id", "at"));
        assertEquals("true", sent.getJSONObject(2).getString("value"));
        assertFalse(sent.getJSONObject(0).has("reason") || sent.getJSONObject(0).has("value"));
    }

    private static String without(JSONObject event, String... names) throws JSONException {
        JSONObject copy = new JSONObject(event.toString());
        for (String name : names) copy.remove(name);
        return copy.toString();
    }

    @Test
    void theQueueAndTheFactsSurviveANewReporterOnTheSameStorage(@TempDir File dir) throws Exception {
        EventReporter first = reporter(new FileStorage(dir));
        first.record("check.answered", "h5-task-3", null, null);
        first.record("install.finished", "h5-task-3", null, null);
        server.script.add(new IOException("offline"));
        assertEquals(0, first.flush());
        List<String> queued = server.ids(0);

        EventReporter restarted = reporter(new FileStorage(dir)); // the app started again
        assertEquals(2, restarted.pending());
        assertFalse(restarted.record("check.answered", "h5-task-3", null, null));
        assertTrue(restarted.record("check.answered", "h5-task-4", null, null));
        assertEquals(3, restarted.flush());
        assertEquals(queued, server.ids(1).subList(0, 2));
        assertEquals(0, reporter(new FileStorage(dir)).pending());
        assertFalse(reporter(new FileStorage(dir)).record("install.finished", "h5-task-3", null, null));
    }

    @Test
    void batchesHoldAtMost50Events() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        for (int n = 0; n < 120; n++) events.record("check.answered", "upgrade-task-" + n, null, null);
        assertEquals(120, events.flush());
        assertEquals(3, server.bodies.size());
        List<String> all = new ArrayList<String>();
        int[] sizes = {50, 50, 20};
        for (int request = 0; request < 3; request++) {
            assertEquals(sizes[request], server.ids(request).size());
            all.addAll(server.ids(request));
        }
        assertEquals(120, new HashSet<String>(all).size());
        JSONArray first = new JSONObject(server.bodies.get(0)).getJSONArray("events");
        assertEquals("upgrade-task-0", first.getJSONObject(0).getString("release")); // oldest first
        assertEquals(0, events.pending());
    }

    @Test
    void batchesHoldAtMost64KbAsTheServerMeasuresThem() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        StringBuilder reason = new StringBuilder();
        for (int i = 0; i < 300; i++) reason.appendCodePoint(0x1F4A5); // 12 bytes each as ASCII JSON (two \\u escapes)
        for (int n = 0; n < 60; n++) events.record("install.failed", "upgrade-task-" + n, reason.toString(), null);
        assertEquals(60, events.flush());
        assertTrue(server.bodies.size() >= 3, "" + server.bodies.size());
        int total = 0;
        for (int request = 0; request < server.bodies.size(); request++) {
            String body = server.bodies.get(request);
            assertTrue(body.length() + SERVER_WRAPPER <= 64 * 1024, "request " + request + ": " + body.length());
            for (int i = 0; i < body.length(); i++) assertTrue(body.charAt(i) < 0x7f, "ASCII, as the server re-writes it");
            JSONArray sent = new JSONObject(body).getJSONArray("events");
            assertTrue(sent.length() < 50);
            String got = sent.getJSONObject(0).getString("reason");
            assertEquals(200, got.codePointCount(0, got.length())); // cut to 200 characters
            total += sent.length();
        }
        assertEquals(60, total);
        assertTrue(server.bodies.get(0).length() + SERVER_WRAPPER > 60 * 1024, "batches are filled"); // not cut early
    }

    @Test
    void aServerErrorA429OrNoNetworkKeepTheQueueWithTheSameIds() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        for (int n = 0; n < 70; n++) events.record("check.answered", "upgrade-task-" + n, null, null);
        server.script.add(503);
        assertEquals(0, events.flush());
        assertEquals(70, events.pending());
        server.script.add(429);
        assertEquals(0, events.flush());
        server.script.add(new IOException("connection reset"));
        assertEquals(0, events.flush());
        server.script.add(202);
        server.script.add(500); // the second batch fails: the first stays sent
        assertEquals(50, events.flush());
        assertEquals(20, events.pending());
        assertEquals(20, events.flush());
        assertEquals(0, events.pending());
        List<String> first = server.ids(0);
        for (int request = 1; request <= 3; request++) assertEquals(first, server.ids(request)); // the very same events again
        assertEquals(server.ids(4), server.ids(5));
        assertEquals(6, server.bodies.size());
        List<String> delivered = new ArrayList<String>(server.ids(3));
        delivered.addAll(server.ids(5));
        assertEquals(70, new HashSet<String>(delivered).size());
    }

    @Test
    void aRefusedBatchIsDroppedAndTheNextOneStillGoes() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        for (int n = 0; n < 60; n++) events.record("check.answered", "upgrade-task-" + n, null, null);
        server.script.add(400);
        assertEquals(10, events.flush()); // the first 50 were refused for good, the last 10 accepted
        assertEquals(0, events.pending());
        assertEquals(2, server.bodies.size());
        assertEquals(0, events.flush());
        assertEquals(2, server.bodies.size());
        events.record("check.answered", "upgrade-task-99", null, null);
        server.script.add(413);
        assertEquals(0, events.flush());
        assertEquals(0, events.pending());
    }

    @Test
    void reasonsAndValuesAreWhatTheServerCounts() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        StringBuilder longReason = new StringBuilder("E");
        for (int i = 0; i < 300; i++) longReason.append('x');
        events.record("install.failed", "upgrade-task-1", "INSTALL_FAILED #3\nat line 2", null);
        events.record("download.failed", "upgrade-task-1", longReason + "\nmore", null);
        events.record("install.failed", "h5-task-2", "\t\tdigest:\tbad", null);
        StringBuilder longValue = new StringBuilder();
        for (int i = 0; i < 201; i++) longValue.append('v');
        events.record("config.active", "config:banner", null, longValue.toString());
        events.record("config.active", "config:color", null, "#ff0000");
        List<JSONObject> queued = events.queued();
        assertEquals("INSTALL_FAILED  3", queued.get(0).getString("reason"));
        assertEquals(longReason.substring(0, 200), queued.get(1).getString("reason"));
        assertEquals("digest: bad", queued.get(2).getString("reason"));
        assertEquals("sha256:" + Text.hex(Text.sha256(Text.utf8(longValue.toString()))), queued.get(3).getString("value"));
        assertEquals("sha256:" + Text.hex(Text.sha256(Text.utf8("#ff0000"))), queued.get(4).getString("value"));
        assertFalse(events.record("install.failed", "upgrade-task-1", "INSTALL_FAILED  3", null)); // the same fact
    }

    @Test
    void eventsTheServerWouldRefuseAreNotQueued() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        assertThrows(IllegalArgumentException.class, () -> events.record("check.seen", "upgrade-task-1", null, null));
        assertThrows(IllegalArgumentException.class, () -> events.record("check.answered", "upgrade-12", null, null));
        assertThrows(IllegalArgumentException.class, () -> events.record("prompt.shown", "h5-task-1", null, null));
        assertThrows(IllegalArgumentException.class, () -> events.record("config.active", "upgrade-task-1", null, "x"));
        assertThrows(IllegalArgumentException.class, () -> events.record("install.failed", "upgrade-task-1", null, null));
        assertThrows(IllegalArgumentException.class, () -> events.record("install.finished", "upgrade-task-1", "why", null));
        assertThrows(IllegalArgumentException.class, () -> events.record("config.active", "config:k", null, null));
        assertEquals(0, events.pending());
        assertThrows(IllegalArgumentException.class,
                () -> new EventReporter(delivery(new MemoryStorage(), server), Device.builder().platform("android").userId("u").build()));
    }

    @Test
    void eventsOlderThanTheServerTakesAreDroppedUnsent() throws Exception {
        EventReporter events = reporter(new MemoryStorage());
        events.record("check.answered", "upgrade-task-1", null, null);
        now[0] += 31 * 86400;
        events.record("check.answered", "upgrade-task-2", null, null);
        assertEquals(1, events.flush());
        assertEquals(Arrays.asList(events.queued().size()), Arrays.asList(0));
        assertEquals("upgrade-task-2", new JSONObject(server.bodies.get(0)).getJSONArray("events").getJSONObject(0).getString("release"));
    }

    // --- hooks ------------------------------------------------------------------------------------

    private static List<String> facts(EventReporter events) throws MdsException, JSONException {
        List<String> out = new ArrayList<String>();
        for (JSONObject event : events.queued()) {
            out.add(event.getString("type") + " " + event.getString("release") + (event.has("reason") ? " " + event.getString("reason") : "")
                    + (event.has("value") ? " = " + event.getString("value") : ""));
        }
        return out;
    }

    @Test
    void anUpgradeOfferedAndItsPromptAreReportedOnce() throws Exception {
        KitNetwork network = new KitNetwork();
        network.apiAnswer = new JSONObject().put("resultStatus", 202).put("taskId", 12).put("downloadURL", "http://cdn.kit/5.apk");
        MemoryStorage storage = new MemoryStorage();
        UpgradeClient upgrade = new UpgradeClient(delivery(storage, network));
        EventReporter events = new EventReporter(delivery(storage, server), device());
        for (int n = 0; n < 3; n++) {
            UpgradeCheck check = upgrade.check(device());
            assertEquals(n == 0, check.prompt()); // a single reminder: once per silent period
            events.checked(check);
        }
        assertEquals(Arrays.asList("check.answered upgrade-task-12", "prompt.shown upgrade-task-12"), facts(events));
        network.apiAnswer = new JSONObject().put("resultStatus", 201);
        events.checked(upgrade.check(device()));
        assertEquals(2, events.pending());
    }

    @Test
    void aHotpatchThatFailsToApplyIsInstallFailedWithItsReason() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        HotpatchClient hotpatch = new HotpatchClient(delivery(storage, new KitNetwork()));
        EventReporter events = new EventReporter(delivery(storage, server), device());
        JSONObject answer = new JSONObject().put("patchId", "7").put("releaseId", "3").put("order", 7).put("keyId", "other")
                .put("path", "p/7.js").put("size", 1).put("sha256", "00").put("filename", "7.js").put("revoked", new JSONArray()).put("rollbackSeq", 0);
        HotpatchSync sync = hotpatch.applyAnswer(answer, device());
        events.hotpatchSynced(sync);
        assertEquals(Arrays.asList("check.answered hotpatch-release-3",
                "install.failed hotpatch-release-3 unknown-key: patch signed by key other, which this app does not pin"), facts(events));
        events.hotpatchSynced(new HotpatchClient(delivery(storage, new KitNetwork())).applyAnswer(new JSONObject().put("patchId", JSONObject.NULL), device()));
        assertEquals(2, events.pending()); // no patch offered: nothing to report
    }

    @Test
    void theConfigValuesInForceAreReportedAsTheReferenceClientWritesThem() throws Exception {
        KitNetwork network = new KitNetwork();
        JSONObject configs = new JSONObject()
                .put("feed_v2", new JSONObject().put("value", "true").put("type", "boolean"))
                .put("max_items", new JSONObject().put("value", "20").put("type", "number"))
                .put("ratio", new JSONObject().put("value", "1e20").put("type", "number"))
                .put("banner", new JSONObject().put("value", "{\"text\": \"caf\u00e9/1\", \"n\": [1, 2.5]}").put("type", "json"))
                .put("title", new JSONObject().put("value", "Hello").put("type", "string"));
        network.apiAnswer = new JSONObject().put("configs", configs);
        MemoryStorage storage = new MemoryStorage();
        ConfigClient config = new ConfigClient(delivery(storage, network));
        config.loadImmediately(device());
        EventReporter events = new EventReporter(delivery(storage, server), device());
        events.configLoaded(config);
        events.configLoaded(config);
        assertEquals(Arrays.asList("config.active config:banner = {\"text\":\"caf\\u00e9/1\",\"n\":[1,2.5]}", "config.active config:feed_v2 = true",
                "config.active config:max_items = 20", "config.active config:ratio = 1e+20", "config.active config:title = Hello"), facts(events));
    }
}
