package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mds.client.amr.AmrPackage;
import io.mds.client.amr.AmrSink;
import io.mds.client.amr.AmrVerifier;
import io.mds.client.amr.RsaKey;
import io.mds.client.engine.Answers;
import io.mds.client.engine.Candidate;
import io.mds.client.engine.Claims;
import io.mds.client.engine.CompiledTarget;
import io.mds.client.engine.Cuts;
import io.mds.client.engine.Device;
import io.mds.client.engine.Envelope;
import io.mds.client.engine.Grant;
import io.mds.client.engine.Json;
import io.mds.client.engine.PublicKeys;
import io.mds.client.engine.PublishedMembership;
import io.mds.client.engine.Section;
import io.mds.client.engine.Selection;
import io.mds.client.engine.Selector;
import io.mds.client.engine.Text;
import io.mds.client.engine.Version;
import io.mds.client.engine.VersionRange;
import io.mds.client.hotpatch.HotpatchClient;
import io.mds.client.hotpatch.HotpatchSync;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import io.mds.client.upgrade.UpgradeResult;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;

/** The Android SDK runs the whole conformance kit (clients/conformance/README.md). */
class ConformanceTest {
    interface Action {
        void run() throws Exception;
    }

    private static String fieldOf(Action action) throws Exception {
        try {
            action.run();
        } catch (MdsException error) {
            return error.field();
        }
        return null;
    }

    private static PublishedMembership membership(final JSONObject data) {
        return new PublishedMembership(data.optJSONObject("whitelists"), new PublishedMembership.Files() {
            @Override
            public byte[] get(String path) {
                JSONObject files = data.optJSONObject("files");
                return files.has(path) ? Text.utf8(files.optString(path)) : null;
            }
        }, PublicKeys.fromJson(data.optJSONObject("publicKeys")));
    }

    private static List<JSONObject> list(JSONArray array) {
        List<JSONObject> out = new ArrayList<JSONObject>();
        for (int i = 0; i < array.length(); i++) out.add(array.optJSONObject(i));
        return out;
    }

    @Test
    void versions() throws Exception {
        JSONObject data = Kit.load("versions");
        for (final boolean reported : new boolean[] {false, true}) {
            for (final JSONObject c : list(data.getJSONArray(reported ? "parseReported" : "parse"))) {
                Action parse = () -> {
                    String input = c.getString("input");
                    Version v = reported ? Version.parseReported(input, "clientVersion") : Version.parse(input, "clientVersion");
                    assertEquals(c.getString("canonical"), v.canonical(), input);
                };
                if (c.has("error")) assertEquals(c.getString("error"), fieldOf(parse), c.toString());
                else parse.run();
            }
        }
        for (JSONObject c : list(data.getJSONArray("parseLenient"))) {
            Version v = Version.parseLenient(c.getString("input"));
            assertEquals(c.isNull("canonical") ? null : c.getString("canonical"), v == null ? null : v.canonical(), c.toString());
        }
        for (JSONObject c : list(data.getJSONArray("compare"))) {
            assertEquals(c.getInt("order"), Version.parse(c.getString("a"), "a").compareTo(Version.parse(c.getString("b"), "b")), c.toString());
        }
        for (JSONObject c : list(data.getJSONArray("ranges"))) {
            assertEquals(c.getBoolean("contains"), VersionRange.fromJson(c.getJSONObject("range")).contains(Version.parse(c.getString("version"), "v")), c.toString());
        }
        for (JSONObject c : list(data.getJSONArray("segments"))) {
            assertEquals(c.getInt("index"), Cuts.fromJson(c.getJSONArray("cuts")).segmentIndex(Version.parse(c.getString("version"), "v")), c.toString());
        }
    }

    @Test
    void targeting() throws Exception {
        JSONObject data = Kit.load("targeting");
        for (JSONObject c : list(data.getJSONArray("buckets"))) {
            assertEquals(c.getInt("bucket"), CompiledTarget.bucket(c.getString("salt"), c.getString("identity")), c.toString());
        }
        for (JSONObject c : list(data.getJSONArray("networks"))) assertEquals(c.getString("token"), Text.normalizeNetwork(c.getString("input")), c.toString());
        for (JSONObject c : list(data.getJSONArray("reportedNetworks"))) {
            assertEquals(c.getString("token"), Text.reportedNetwork(c.getString("input")), c.toString());
        }
        PublishedMembership lists = membership(data);
        List<String> wrong = new ArrayList<String>();
        for (JSONObject c : list(data.getJSONArray("matches"))) {
            Device device = Device.fromContext(data.getJSONObject("devices").getJSONObject(c.getString("device")));
            JSONObject json = new JSONObject().put("id", "c").put("target", data.getJSONObject("targets").get(c.getString("target")));
            Selection selection = Selector.decideEach(Collections.singletonList(Candidate.fromJson(json)), device, lists, 0);
            if (selection.chosen().containsKey("") != c.getBoolean("matches")) wrong.add(c.getString("target") + " / " + c.getString("device"));
        }
        assertEquals(Collections.emptyList(), wrong);
        assertTrue(data.getJSONArray("matches").length() > 500);
        for (final JSONObject c : list(data.getJSONArray("deviceErrors"))) {
            assertEquals(c.getString("error"), fieldOf(() -> Device.fromContext(c.getJSONObject("device"))), c.toString());
        }
    }

    @Test
    void envelopes() throws Exception {
        JSONObject data = Kit.load("envelopes");
        for (JSONObject c : list(data.getJSONArray("cases"))) {
            PublicKeys keys = PublicKeys.fromJson(c.has("publicKeys") ? c.getJSONObject("publicKeys") : data.getJSONObject("publicKeys"));
            byte[] file = Text.utf8(c.getString("file"));
            if (c.getBoolean("valid")) {
                assertTrue(Json.same(c.get("document"), Envelope.open(file, keys, "index").document()), c.getString("name"));
            } else {
                try {
                    Envelope.open(file, keys, "index");
                    fail(c.getString("name") + " opened");
                } catch (MdsException error) {
                    assertEquals(c.getString("reason"), error.kind().wire(), c.getString("name"));
                }
            }
        }
    }

    @Test
    void delivery() throws Exception {
        JSONObject data = Kit.load("delivery");
        JSONObject segments = data.getJSONObject("segments");
        Section section = Section.fromDocument(segments.getJSONObject("index"));
        for (JSONObject c : list(segments.getJSONArray("cases"))) {
            JSONObject context = new JSONObject().put("platform", "android").put("clientVersion", c.opt("clientVersion"));
            assertEquals(c.getString("path"), section.segmentFor(Device.fromContext(context).clientVersion()).path(), c.toString());
        }
        Map<String, List<Candidate>> candidates = new LinkedHashMap<String, List<Candidate>>();
        for (String name : Text.keys(data.getJSONObject("candidates"))) {
            List<Candidate> parsed = new ArrayList<Candidate>();
            for (JSONObject c : list(data.getJSONObject("candidates").getJSONArray(name))) parsed.add(Candidate.fromJson(c));
            candidates.put(name, parsed);
        }
        int withHeld = 0;
        for (JSONObject c : list(data.getJSONArray("decisions"))) {
            Device device = Device.fromContext(data.getJSONObject("devices").getJSONObject(c.getString("device")));
            final Set<String> held = new HashSet<String>();
            JSONArray grants = c.optJSONArray("held");
            for (int i = 0; grants != null && i < grants.length(); i++) held.add(grants.getString(i));
            if (grants != null) withHeld++;
            Claims claims = candidate -> held.contains(candidate.id());
            Selection selection = Selector.decideEach(candidates.get(c.getString("candidates")), device, membership(data), c.getLong("now"), claims);
            String name = c.getString("candidates") + " / " + c.getString("device") + " / " + c.get("now") + " / held " + held;
            if (selection.askServer() != null) {
                assertEquals(c.optString("askServer"), selection.askServer().id(), name);
                continue;
            }
            assertTrue(c.has("chosen"), name + ": chose " + selection.chosen().keySet() + ", the kit asks the server");
            JSONObject chosen = new JSONObject();
            for (Map.Entry<String, Candidate> e : selection.chosen().entrySet()) chosen.put(e.getKey(), e.getValue().id());
            assertTrue(Json.same(c.getJSONObject("chosen"), chosen), name + ": " + chosen);
        }
        assertTrue(withHeld > 0, "the kit has decisions with grants held");
    }

    @Test
    void grants() throws Exception {
        JSONObject data = Kit.load("grants");
        JSONObject app = data.getJSONObject("app");
        List<JSONObject> cases = list(data.getJSONArray("cases"));
        Set<String> reasons = new HashSet<String>();
        for (JSONObject c : cases) {
            PublicKeys keys = PublicKeys.fromJson(c.has("publicKeys") ? c.getJSONObject("publicKeys") : data.getJSONObject("publicKeys"));
            String reason = Grant.refusal(Text.utf8(c.getString("file")), keys, app.getString("appId"), app.getString("workspaceId"),
                    c.getString("product"), c.getString("candidate"), Device.fromContext(c.getJSONObject("device")), c.getLong("now"));
            assertEquals(c.getBoolean("held") ? null : c.getString("reason"), reason, c.getString("name"));
            if (reason != null) reasons.add(reason);
        }
        assertEquals(new HashSet<String>(java.util.Arrays.asList("signature", "unknown-key", "format", "workspace", "release", "device", "expired")),
                reasons, "every reason code has a case");
    }

    @Test
    void answers() throws Exception {
        JSONObject data = Kit.load("answers");
        for (JSONObject c : list(data.getJSONArray("answers"))) {
            Map<String, Candidate> chosen = new LinkedHashMap<String, Candidate>();
            for (String subject : Text.keys(c.getJSONObject("chosen"))) chosen.put(subject, Candidate.fromJson(c.getJSONObject("chosen").getJSONObject(subject)));
            JSONObject answer = Answers.answerFor(c.getString("product"), chosen, Device.fromContext(c.getJSONObject("device")));
            assertTrue(Json.same(c.get("answer"), answer), c.toString() + " got " + answer);
        }
        for (JSONObject c : list(data.getJSONArray("configValues"))) {
            assertTrue(Json.same(c.get("value"), Answers.typedValue(c.getString("type"), c.getString("text"))), c.toString());
        }
        for (JSONObject c : list(data.getJSONArray("configIntervals"))) {
            assertEquals(c.getDouble("seconds"), Answers.intervalSeconds(c.getJSONObject("configs")), c.toString());
        }
    }

    @Test
    void amr() throws Exception {
        JSONObject data = Kit.load("amr");
        for (JSONObject c : list(data.getJSONArray("cases"))) {
            RsaKey key = RsaKey.fromPem(data.getJSONObject("publicKeys").getString(c.getString("key")));
            InputStream in = new Trickle(Text.fromBase64(c.getString("amr")), 700);
            final List<String> received = new ArrayList<String>();
            AmrSink sink = (path, content) -> received.add(path);
            String expected = c.isNull("expectedSha256") ? null : c.optString("expectedSha256", null);
            try {
                AmrPackage verified = new AmrVerifier(key).verify(in, expected, sink);
                assertTrue(c.getBoolean("valid"), c.getString("name") + " verified");
                assertTrue(Json.same(c.getJSONObject("files"), new JSONObject(verified.files())), c.getString("name"));
                assertEquals(c.getString("version"), verified.version());
                assertEquals(new ArrayList<String>(verified.files().keySet()), received);
            } catch (MdsException error) {
                assertEquals(c.optString("reason"), error.kind().wire(), c.getString("name") + ": " + error.getMessage());
            }
        }
    }

    /** A stream that hands out at most {@code chunk} bytes per read (as a network does). */
    static final class Trickle extends ByteArrayInputStream {
        private final int chunk;

        Trickle(byte[] bytes, int chunk) {
            super(bytes);
            this.chunk = chunk;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            return super.read(b, off, Math.min(len, chunk));
        }
    }

    /** A device of the kit: its network, clock and storage; {@link #restart()} is a new app process on the same storage. */
    private static final class Setup {
        final KitNetwork network = new KitNetwork();
        final double[] now = new double[1];
        final MemoryStorage storage = new MemoryStorage();
        final MdsOptions options;
        DeliveryClient delivery;

        Setup(JSONObject data, NetworkType net) throws Exception {
            now[0] = data.getLong("now");
            MdsOptions.Builder builder = MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit")
                    .appId(data.getJSONObject("app").getString("appId")).workspaceId(data.getJSONObject("app").getString("workspaceId"))
                    .storage(storage).transport(network).clock(() -> now[0]).networkType(net);
            JSONObject keys = data.getJSONObject("publicKeys");
            for (String id : Text.keys(keys)) builder.publicKey(id, keys.getString(id));
            JSONObject patchKeys = data.getJSONObject("patchKeys");
            for (String id : Text.keys(patchKeys)) builder.patchKey(id, patchKeys.getString(id));
            options = builder.build();
            delivery = new DeliveryClient(options);
        }

        DeliveryClient restart() {
            delivery = new DeliveryClient(options);
            return delivery;
        }

        /** Every dynamic check went out with the client protocol. */
        void assertProtocol(String name) {
            for (JSONObject body : network.checks) assertEquals(2, body.optInt("protocol"), name + ": " + body);
        }
    }

    @Test
    void upgradeScenarios() throws Exception {
        JSONObject data = Kit.load("scenarios");
        JSONObject group = data.getJSONObject("upgrade");
        int restarts = 0;
        for (JSONObject scenario : list(group.getJSONArray("scenarios"))) {
            Setup setup = new Setup(data, () -> "WIFI");
            UpgradeClient upgrade = new UpgradeClient(setup.delivery);
            JSONObject api = scenario.optJSONObject("api");
            setup.network.apiAnswer = api == null ? null : api.getJSONObject("answer");
            List<JSONObject> steps = list(scenario.getJSONArray("steps"));
            for (int n = 0; n < steps.size(); n++) {
                JSONObject step = steps.get(n);
                String name = scenario.getString("name") + " step " + n;
                if (step.optBoolean("restart")) { // the app was restarted: nothing in memory survives, storage does
                    upgrade = new UpgradeClient(setup.restart());
                    restarts++;
                }
                setup.network.files = step.getJSONObject("cdn");
                setup.now[0] = step.has("now") ? step.getLong("now") : data.getLong("now");
                Device device = Device.fromContext(step.has("device") ? step.getJSONObject("device") : group.getJSONObject("device"));
                UpgradeCheck check = upgrade.check(device);
                JSONObject expect = step.getJSONObject("expect");
                if (expect.has("error")) {
                    assertEquals(UpgradeResult.HAS_SOME_ERROR, check.result(), name);
                    assertEquals(expect.getString("error"), check.error().kind().wire(), name);
                    continue;
                }
                Decision decision = check.decision();
                assertNotNull(decision, name + ": " + check.error());
                JSONObject got = new JSONObject().put("answer", decision.answer()).put("static", decision.isStatic())
                        .put("stale", decision.stale()).put("prompt", check.prompt()).put("requests", new JSONArray(decision.requests()))
                        .put("refused", decision.refused() == null ? JSONObject.NULL : decision.refused().kind().wire())
                        .put("nextCheckAt", decision.nextCheckAt() == null ? JSONObject.NULL : decision.nextCheckAt());
                for (String key : Text.keys(expect)) assertTrue(Json.same(expect.get(key), got.get(key)), name + " " + key + ": " + got.get(key));
                setup.assertProtocol(name);
            }
        }
        assertTrue(restarts > 0, "the kit has restart steps");
    }

    @Test
    void hotpatchScenarios() throws Exception {
        JSONObject data = Kit.load("scenarios");
        JSONObject group = data.getJSONObject("hotpatch");
        for (JSONObject scenario : list(group.getJSONArray("scenarios"))) {
            Setup setup = new Setup(data, () -> "WIFI");
            HotpatchClient patches = new HotpatchClient(setup.delivery);
            Device device = Device.fromContext(group.getJSONObject("device"));
            List<JSONObject> steps = list(scenario.getJSONArray("steps"));
            for (int n = 0; n < steps.size(); n++) {
                JSONObject step = steps.get(n);
                if (step.optBoolean("restart")) patches = new HotpatchClient(setup.restart());
                if (step.has("cdn")) setup.network.files = step.getJSONObject("cdn");
                HotpatchSync result = step.has("replay") ? patches.applyAnswer(step.getJSONObject("replay"), device) : patches.sync(device);
                JSONObject got = new JSONObject().put("applied", result.applied() == null ? JSONObject.NULL : result.applied())
                        .put("actions", new JSONArray(result.actions())).put("stale", result.stale()).put("static", result.isStatic());
                JSONObject expect = step.getJSONObject("expect");
                for (String key : Text.keys(expect)) {
                    assertTrue(Json.same(expect.get(key), got.get(key)), scenario.getString("name") + " step " + n + " " + key + ": " + got.get(key));
                }
            }
        }
    }
}
