package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mds.client.amr.AmrWriter;
import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import io.mds.client.engine.Grant;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import io.mds.client.h5.H5Client;
import io.mds.client.h5.H5SyncResult;
import io.mds.client.hotpatch.HotpatchClient;
import io.mds.client.hotpatch.HotpatchSync;
import io.mds.client.mpaas.MPaaSCheckVersionService;
import io.mds.client.upgrade.ApkDownload;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import io.mds.client.upgrade.UpgradeMode;
import io.mds.client.upgrade.UpgradeResult;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client protocol 2 beyond the kit: one conditional request per round for every product, grants that survive
 * a restart and belong to one device, what is kept of an API answer's grants, a failing product in a round.
 */
class ProtocolTest {
    private static final long NOW = 1_800_000_000L;
    private static final long END = NOW + 86_400;
    private static final String GET_INDEX = "GET /" + TestCdn.INDEX;

    private final TestCdn cdn = new TestCdn();
    private final double[] now = {NOW};

    private DeliveryClient client(Storage storage) {
        return new DeliveryClient(cdn.options(storage, now).build());
    }

    private static Device user(String userId) throws MdsException {
        return Device.builder().platform("android").userId(userId).deviceId("dev-" + userId).clientVersion("4.0").build();
    }

    private static JSONObject answer(JSONObject payload, String userId) {
        return Json.put(Json.copy(payload), "userId", userId);
    }

    private static List<String> segmentGets(List<String> requests) {
        List<String> out = new ArrayList<String>();
        for (String request : requests) if (request.contains("/seg/")) out.add(request);
        return out;
    }

    /** Every product published: upgrade and hotpatch static, config and h5 with two subjects each. */
    private void publishAllFour() {
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.candidate("upgrade-task-1", null, TestCdn.upgrade("1", 204))));
        JSONObject flag = Json.put(Json.put(new JSONObject(), "value", "on"), "type", "string");
        cdn.products.put("config", new JSONArray().put(TestCdn.candidate("config-1", "feed", flag)));
        JSONObject h5 = Json.put(Json.put(new JSONObject(), "h5Id", "12345678"), "version", "1.0.0.1");
        cdn.products.put("h5", new JSONArray().put(TestCdn.candidate("h5-task-1", "12345678", h5)));
        JSONObject patch = Json.put(Json.put(new JSONObject(), "patchId", "3"), "revoked", new JSONArray());
        cdn.products.put("hotpatch", new JSONArray().put(TestCdn.candidate("hotpatch-release-3", null, patch)));
        cdn.publish();
    }

    @Test
    void aRoundOfEveryProductIsOneConditionalRequestWhenNothingChanged() throws Exception {
        publishAllFour();
        DeliveryClient delivery = client(new MemoryStorage());
        Device alice = user("alice");
        CheckRound first = delivery.checkRound(alice);
        assertEquals(Arrays.asList("upgrade", "h5", "config", "hotpatch"), new ArrayList<String>(first.decisions().keySet()));
        assertEquals(GET_INDEX + " 200", first.requests().get(0));
        assertEquals(4, segmentGets(first.requests()).size());
        assertEquals(5, first.requests().size());
        assertEquals(first.requests(), cdn.take());

        CheckRound second = delivery.checkRound(alice);
        assertEquals(Collections.singletonList(GET_INDEX + " 304"), second.requests());
        assertEquals(second.requests(), cdn.take()); // no request the round does not list
        for (String product : DeliveryClient.PRODUCTS) {
            Decision decision = second.decision(product);
            assertTrue(decision.isStatic() && !decision.stale(), product);
            assertTrue(Json.same(first.decision(product).answer(), decision.answer()), product);
            assertTrue(decision.requests().isEmpty(), product + " made requests of its own");
        }
        assertTrue(Json.same(answer(TestCdn.upgrade("1", 204), "alice"), second.decision("upgrade").answer()));
        assertEquals("on", second.decision("config").answer().getJSONObject("configs").getJSONObject("feed").getString("value"));
        assertEquals("12345678", second.decision("h5").answer().getJSONArray("packages").getJSONObject(0).getString("h5Id"));
        assertEquals("3", second.decision("hotpatch").answer().getString("patchId"));
        assertEquals(Long.valueOf(NOW + 600), second.nextCheckAt());

        // one product's check is the same one conditional request
        Decision upgrade = delivery.check("upgrade", alice);
        assertEquals(Collections.singletonList(GET_INDEX + " 304"), upgrade.requests());
        assertEquals(upgrade.requests(), cdn.take());

        // a change to config: the index and config's new segment, nothing else
        JSONObject off = Json.put(Json.put(new JSONObject(), "value", "off"), "type", "string");
        cdn.products.put("config", new JSONArray().put(TestCdn.candidate("config-2", "feed", off)));
        cdn.publish();
        CheckRound third = delivery.checkRound(alice);
        assertEquals(GET_INDEX + " 200", third.requests().get(0));
        List<String> fetched = segmentGets(third.requests());
        assertEquals(1, fetched.size());
        assertTrue(fetched.get(0).startsWith("GET /m/APP/default/config/android/seg/"), fetched.toString());
        assertEquals(fetched, third.decision("config").requests());
        assertEquals("off", third.decision("config").answer().getJSONObject("configs").getJSONObject("feed").getString("value"));
        assertEquals(Long.valueOf(2), third.decision("upgrade").sequence());
    }

    /** An open window; the API gives alice its place (206) with a grant. */
    private void openWindowGrantingTo(final String holder) {
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.window("upgrade-task-5", TestCdn.upgrade("5", 206), END, false)));
        cdn.publish();
        cdn.api = (product, body) -> {
            String userId = body.optString("userId");
            if (!userId.equals(holder)) return Json.put(Json.put(new JSONObject(), "resultStatus", 201), "userId", userId);
            JSONArray grants = new JSONArray().put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, product, "upgrade-task-5", holder, END));
            return Json.put(answer(TestCdn.upgrade("5", 206), userId), "grants", grants);
        };
    }

    private void closeWindow() {
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.window("upgrade-task-5", TestCdn.upgrade("5", 206), END, true)));
        cdn.publish();
    }

    @Test
    void aGrantIsKeptAcrossANewClientOnTheSameStorage(@TempDir File dir) throws Exception {
        openWindowGrantingTo("alice");
        Device alice = user("alice");
        Decision claimed = client(new FileStorage(dir)).check("upgrade", alice);
        assertFalse(claimed.isStatic());
        assertEquals(Arrays.asList(GET_INDEX + " 200", segmentGets(claimed.requests()).get(0), "POST /client/v1/upgrade/check 200"), claimed.requests());
        assertFalse(claimed.answer().has("grants"), "the grants are the SDK's, not the app's");
        assertTrue(Json.same(answer(TestCdn.upgrade("5", 206), "alice"), claimed.answer()));
        assertEquals(2, cdn.checks.get(0).getInt("protocol"));

        closeWindow();
        cdn.take();
        cdn.api = (product, body) -> {
            throw new AssertionError("a held place asks nothing");
        };
        // the app restarts: a new client on the same files
        DeliveryClient restarted = client(new FileStorage(dir));
        assertNull(restarted.grantRefusal("upgrade", "upgrade-task-5", alice));
        Decision held = restarted.check("upgrade", alice);
        assertTrue(held.isStatic());
        assertEquals(Collections.singletonMap("", "upgrade-task-5"), held.chosen());
        assertTrue(Json.same(answer(TestCdn.upgrade("5", 206), "alice"), held.answer()), held.answer().toString());
        assertEquals(GET_INDEX + " 200", held.requests().get(0));
        assertEquals(held.requests(), cdn.take());
        Decision again = client(new FileStorage(dir)).check("upgrade", alice);
        assertEquals(Collections.singletonList(GET_INDEX + " 304"), again.requests());
        assertEquals(206, again.answer().getInt("resultStatus"));

        // the window's end: the grant has run out, and the entry with it
        now[0] = END;
        assertEquals(Grant.EXPIRED, restarted.grantRefusal("upgrade", "upgrade-task-5", alice));
        assertEquals(201, restarted.check("upgrade", alice).answer().getInt("resultStatus"));
    }

    @Test
    void aGrantForAnotherDeviceIsNotHeld() throws Exception {
        openWindowGrantingTo("alice");
        MemoryStorage storage = new MemoryStorage(); // one storage, two users of the phone
        DeliveryClient delivery = client(storage);
        Device alice = user("alice");
        Device bob = user("bob");
        assertEquals(206, delivery.check("upgrade", alice).answer().getInt("resultStatus"));
        assertEquals("none", delivery.grantRefusal("upgrade", "upgrade-task-5", bob));

        Decision asked = delivery.check("upgrade", bob); // bob holds nothing: the open window is the API's to answer
        assertFalse(asked.isStatic());
        assertEquals(201, asked.answer().getInt("resultStatus"));

        closeWindow();
        cdn.take();
        Decision skipped = delivery.check("upgrade", bob);
        assertTrue(skipped.isStatic());
        assertEquals(201, skipped.answer().getInt("resultStatus"));
        assertEquals(GET_INDEX + " 200", skipped.requests().get(0));
        assertFalse(skipped.requests().toString().contains("POST"), skipped.requests().toString());
        assertEquals(206, delivery.check("upgrade", alice).answer().getInt("resultStatus"));

        // the same person on another phone holds it too (a grant names the user), an anonymous device does not
        Device alicesTablet = Device.builder().platform("android").userId("alice").deviceId("tablet").clientVersion("4.0").build();
        assertEquals(206, delivery.check("upgrade", alicesTablet).answer().getInt("resultStatus"));
        Device anonymous = Device.builder().platform("android").deviceId("dev-alice").clientVersion("4.0").build();
        assertEquals("none", delivery.grantRefusal("upgrade", "upgrade-task-5", anonymous)); // stored for alice only
        assertEquals(201, delivery.check("upgrade", anonymous).answer().getInt("resultStatus"));
    }

    @Test
    void aGrantTheApiHandsToAliceForSomeoneElseIsNotHers() throws Exception {
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.window("upgrade-task-5", TestCdn.upgrade("5", 206), END, false)));
        cdn.publish();
        cdn.api = (product, body) -> Json.put(answer(TestCdn.upgrade("5", 206), "alice"), "grants",
                new JSONArray().put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, "upgrade", "upgrade-task-5", "mallory", END)));
        DeliveryClient delivery = client(new MemoryStorage());
        Device alice = user("alice");
        assertEquals(206, delivery.check("upgrade", alice).answer().getInt("resultStatus"));
        assertEquals("none", delivery.grantRefusal("upgrade", "upgrade-task-5", alice));
        closeWindow();
        Decision closed = delivery.check("upgrade", alice);
        assertTrue(closed.isStatic());
        assertEquals(201, closed.answer().getInt("resultStatus"));
    }

    @Test
    void onlyGrantsForThisWorkspaceThatHaveNotRunOutAreKept() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        DeliveryClient delivery = client(storage);
        JSONArray grants = new JSONArray()
                .put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, "upgrade", "upgrade-task-5", "alice", END))
                .put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, "upgrade", "upgrade-task-6", "alice", NOW + 60))
                .put(cdn.grant(TestCdn.APP, "staging", "upgrade", "upgrade-task-7", "alice", END))
                .put(cdn.grant("OTHER", TestCdn.WORKSPACE, "upgrade", "upgrade-task-8", "alice", END))
                .put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, "upgrade", "upgrade-task-9", "alice", NOW))
                .put(Json.put(cdn.grant(TestCdn.APP, TestCdn.WORKSPACE, "upgrade", "upgrade-task-10", "alice", END), "sig", "AAAA"))
                .put("not an envelope");
        delivery.keepGrants(grants, NOW);
        String alice = Grant.identityHash("alice");
        assertEquals(Arrays.asList("upgrade|upgrade-task-5|" + alice, "upgrade|upgrade-task-6|" + alice), sorted(delivery.readJson("delivery/grants.json")));
        delivery.keepGrants(new JSONArray(), NOW + 60); // task 6's window ended: its grant goes
        assertEquals(Collections.singletonList("upgrade|upgrade-task-5|" + alice), sorted(delivery.readJson("delivery/grants.json")));
    }

    private static List<String> sorted(JSONObject object) {
        List<String> keys = Text.keys(object);
        Collections.sort(keys);
        return keys;
    }

    @Test
    void aProductWhoseApiCallFailsLeavesTheOthersAnswered() throws Exception {
        publishAllFour();
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.window("upgrade-task-5", TestCdn.upgrade("5", 206), END, false)));
        cdn.publish();
        cdn.api = (product, body) -> null; // 500
        DeliveryClient delivery = client(new MemoryStorage());
        CheckRound round = delivery.checkRound(user("alice"), "upgrade", "config");
        assertEquals(Collections.singleton("upgrade"), round.errors().keySet());
        assertEquals(500, round.errors().get("upgrade").status());
        assertEquals("on", round.decision("config").answer().getJSONObject("configs").getJSONObject("feed").getString("value"));
        assertEquals(MdsException.Kind.SERVER, assertThrows(MdsException.class, () -> round.decision("upgrade")).kind());
        assertEquals(MdsException.Kind.SERVER, assertThrows(MdsException.class, () -> delivery.check("upgrade", user("alice"))).kind());
        assertTrue(round.requests().contains("POST /client/v1/upgrade/check 500"), round.requests().toString());
    }

    @Test
    void theMpaasServiceSeesAHeldPlaceWithoutAsking(@TempDir File dir) throws Exception {
        openWindowGrantingTo("alice");
        Device alice = user("alice");
        MemoryStorage storage = new MemoryStorage();
        new UpgradeClient(client(storage)).check(alice);
        closeWindow();
        cdn.checks.clear();
        MPaaSTest.Queue main = new MPaaSTest.Queue();
        MPaaSTest.Hooks hooks = new MPaaSTest.Hooks();
        MPaaSCheckVersionService service = new MPaaSCheckVersionService(new UpgradeClient(client(storage)), new ApkDownload(cdn, dir), Runnable::run, main);
        service.checkNewVersion(alice, hooks);
        main.drain();
        assertEquals(Arrays.asList("start", "showUpgradeDialog"), hooks.called);
        assertEquals(UpgradeResult.HAS_NEW_VERSION, hooks.check.result());
        assertTrue(hooks.check.decision().isStatic());
        assertEquals("5.5", hooks.check.newestVersion());
        assertTrue(cdn.checks.isEmpty(), "no dynamic check");
    }

    @Test
    void everyProductClientTakesItsDecisionFromOneRound() throws Exception {
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.candidate("upgrade-task-1", null, TestCdn.upgrade("1", 204))));
        JSONObject flag = Json.put(Json.put(new JSONObject(), "value", "on"), "type", "string");
        cdn.products.put("config", new JSONArray().put(TestCdn.candidate("config-1", "feed", flag)));
        JSONObject h5 = Json.put(Json.put(Json.put(new JSONObject(), "h5Id", "12345678"), "version", "1.0.0.1"), "downloadNetwork", 0);
        Json.put(h5, "amrUrl", "http://cdn.test/h5/12345678-1.0.0.1.amr");
        cdn.products.put("h5", new JSONArray().put(TestCdn.candidate("h5-task-1", "12345678", h5)));
        cdn.products.put("hotpatch", new JSONArray());
        cdn.publish();
        File keys = new File(System.getProperty("mds.kit", "../conformance/vectors"), "../keys");
        String h5Key = new AmrWriter(Text.fromUtf8(new FileStorage(keys).get("rsa-h5-test.pem"))).publicPem();
        DeliveryClient delivery = new DeliveryClient(cdn.options(new MemoryStorage(), now).h5PublicKey(h5Key).networkType(() -> "4G").build());
        Device alice = user("alice");
        CheckRound round = delivery.checkRound(alice);
        cdn.take();

        UpgradeCheck upgrade = new UpgradeClient(delivery).check(round.decision("upgrade"));
        assertEquals(UpgradeMode.MULTIPLE, upgrade.mode());
        assertTrue(upgrade.prompt());
        ConfigClient config = new ConfigClient(delivery);
        assertEquals(Collections.singletonList("feed"), config.load(round.decision("config")));
        assertEquals("on", config.getConfig("feed"));
        Map<String, H5SyncResult> synced = new H5Client(delivery).sync(round.decision("h5"));
        assertEquals(H5SyncResult.Status.WAITING_FOR_WIFI, synced.get("12345678").status());
        HotpatchSync patched = new HotpatchClient(delivery).sync(round.decision("hotpatch"), alice);
        assertNull(patched.applied());
        assertTrue(patched.isStatic());
        assertEquals(Collections.emptyList(), cdn.take()); // the round's decisions needed no further request
    }

    @Test
    void whatProtocolOneKeptIsDroppedAtTheFirstRound() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        String legacy = "m/APP/default/upgrade/android/index.json";
        storage.put("files/" + legacy, Text.utf8("{}"));
        JSONObject old = new JSONObject();
        Json.put(old, "etags", Json.put(new JSONObject(), legacy, "\"e1\""));
        Json.put(old, "sequences", Json.put(new JSONObject(), legacy, 7));
        Json.put(old, "dynamic", Json.put(new JSONObject(), legacy + "@7:upgrade-task-5:0123", TestCdn.upgrade("5", 206)));
        storage.put("delivery/state.json", Text.utf8(old.toString()));
        cdn.products.put("upgrade", new JSONArray().put(TestCdn.window("upgrade-task-5", TestCdn.upgrade("5", 206), END, false)));
        cdn.publish();
        cdn.api = (product, body) -> Json.put(Json.put(new JSONObject(), "resultStatus", 201), "userId", body.optString("userId"));

        assertEquals(201, client(storage).check("upgrade", user("alice")).answer().getInt("resultStatus"));
        assertNull(storage.get("files/" + legacy));
        JSONObject state = Text.parseObject(Text.fromUtf8(storage.get("delivery/state.json")));
        assertEquals(Collections.singletonList(TestCdn.INDEX), Text.keys(state.getJSONObject("etags")));
        assertEquals(Collections.singletonList(TestCdn.INDEX), Text.keys(state.getJSONObject("sequences")));
        List<String> cached = Text.keys(state.getJSONObject("dynamic"));
        assertEquals(1, cached.size());
        assertTrue(cached.get(0).startsWith("upgrade@"), cached.toString());
    }
}
