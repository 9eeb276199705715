package io.mds.client;

import io.mds.client.engine.Grant;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * A publisher, CDN and check API in one, for tests beyond the kit: signs schema-2 indexes (one segment per
 * product, no cuts), segments and grants with an Ed25519 key of its own, serves them with ETags and 304s,
 * and answers {@code POST /client/v1/<product>/check} with what {@link #api} says. Every request is logged as
 * the SDK lists them ({@code "GET /<path> <status>"}, {@code "POST /client/v1/<product>/check <status>"}).
 */
final class TestCdn implements Transport {
    static final String APP = "APP";
    static final String WORKSPACE = "default";
    static final String KEY_ID = "testkey0";
    static final String INDEX = "m/" + APP + "/" + WORKSPACE + "/android/index.json";

    /** The check API: the answer (with any grants) for a product and request body; null answers 500. */
    interface Api {
        JSONObject answer(String product, JSONObject body) throws IOException;
    }

    private final Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(seed(), 0);
    final Map<String, byte[]> files = new HashMap<String, byte[]>();
    final Map<String, JSONArray> products = new TreeMap<String, JSONArray>();
    final List<String> log = new ArrayList<String>();
    final List<JSONObject> checks = new ArrayList<JSONObject>();
    Api api;
    long sequence;
    long pollSeconds = 600;
    Long notAfter;

    private static byte[] seed() {
        byte[] seed = new byte[32];
        for (int i = 0; i < seed.length; i++) seed[i] = (byte) (i * 7 + 1);
        return seed;
    }

    String publicKey() {
        return Text.toBase64(key.generatePublicKey().getEncoded());
    }

    MdsOptions.Builder options(Storage storage, final double[] now) {
        return MdsOptions.builder().cdnUrl("http://cdn.test").apiUrl("http://api.test").appId(APP).workspaceId(WORKSPACE)
                .publicKey(KEY_ID, publicKey()).storage(storage).transport(this).clock(() -> now[0]);
    }

    private static String b64url(byte[] raw) {
        return Text.toBase64(raw).replace('+', '-').replace('/', '_').replace("=", "");
    }

    /** The envelope of {@code document} as the publisher signs it. */
    JSONObject envelope(JSONObject document) {
        byte[] payload = Text.utf8(Text.canonicalJson(document));
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(payload, 0, payload.length);
        JSONObject envelope = new JSONObject();
        Json.put(envelope, "keyId", KEY_ID);
        Json.put(envelope, "payload", b64url(payload));
        Json.put(envelope, "sig", b64url(signer.generateSignature()));
        return Json.put(envelope, "v", 1);
    }

    /** A grant the check API hands out. */
    JSONObject grant(String appId, String workspaceId, String product, String candidate, String identity, long until) {
        JSONObject document = new JSONObject();
        Json.put(document, "type", Grant.TYPE);
        Json.put(document, "appId", appId);
        Json.put(document, "workspaceId", workspaceId);
        Json.put(document, "product", product);
        Json.put(document, "candidate", candidate);
        Json.put(document, "identity", Grant.identityHash(identity));
        Json.put(document, "until", until);
        Json.put(document, "issuedAt", until - 3600);
        return envelope(document);
    }

    /** A candidate for every device of the platform (no rules, no versions). */
    static JSONObject candidate(String id, String subject, JSONObject payload) {
        JSONObject target = new JSONObject();
        Json.put(target, "schema", 1);
        Json.put(target, "platform", "android");
        Json.put(target, "clientVersions", new JSONArray());
        Json.put(target, "rules", new JSONArray());
        Json.put(target, "whitelistIds", new JSONArray());
        JSONObject candidate = Json.put(Json.put(new JSONObject(), "id", id), "target", target);
        if (subject != null) Json.put(candidate, "subject", subject);
        return Json.put(candidate, "payload", payload);
    }

    /** A time-window entry: its places come from the check API; {@code closed} when they are all taken. */
    static JSONObject window(String id, JSONObject payload, long notAfter, boolean closed) {
        JSONObject candidate = candidate(id, null, payload);
        Json.put(candidate, "dynamic", true);
        Json.put(candidate, "notAfter", notAfter);
        return closed ? Json.put(candidate, "closed", true) : candidate;
    }

    static JSONObject upgrade(String taskId, int status) {
        JSONObject payload = new JSONObject();
        Json.put(payload, "resultStatus", status);
        Json.put(payload, "taskId", taskId);
        Json.put(payload, "newestVersion", "5." + taskId);
        Json.put(payload, "downloadURL", "https://cdn.test/dl/" + taskId + ".apk");
        Json.put(payload, "guideMemo", "update");
        return Json.put(payload, "needClientNetType", "");
    }

    /** Signs the products' segments and a new index (sequence + 1) and puts them on the CDN. */
    void publish() {
        JSONObject sections = new JSONObject();
        for (Map.Entry<String, JSONArray> product : products.entrySet()) {
            JSONObject segment = Json.put(Json.put(new JSONObject(), "schema", 1), "candidates", product.getValue());
            JSONObject envelope = envelope(segment);
            byte[] payload = Text.fromBase64(envelope.optString("payload"));
            String sha = Text.hex(Text.sha256(payload));
            String path = "m/" + APP + "/" + WORKSPACE + "/" + product.getKey() + "/android/seg/" + KEY_ID + "/" + sha + ".json";
            files.put(path, Text.utf8(envelope.toString()));
            JSONObject entry = Json.put(Json.put(new JSONObject(), "path", path), "sha256", sha);
            JSONObject section = new JSONObject();
            Json.put(section, "cuts", new JSONArray());
            Json.put(section, "segments", new JSONArray().put(entry));
            Json.put(section, "unversioned", entry);
            Json.put(section, "whitelists", new JSONArray());
            Json.put(section, "notAfter", JSONObject.NULL);
            Json.put(section, "digest", Text.hex(Text.sha256(Text.utf8(Text.canonicalJson(section)))));
            Json.put(sections, product.getKey(), section);
        }
        JSONObject index = new JSONObject();
        Json.put(index, "schema", 2);
        Json.put(index, "appId", APP);
        Json.put(index, "workspaceId", WORKSPACE);
        Json.put(index, "platform", "android");
        Json.put(index, "sequence", ++sequence);
        Json.put(index, "poll", Json.put(Json.put(new JSONObject(), "seconds", pollSeconds), "staleIfError", 604800));
        Json.put(index, "products", sections);
        Json.put(index, "whitelists", new JSONObject());
        Json.put(index, "notAfter", notAfter == null ? JSONObject.NULL : notAfter);
        files.put(INDEX, Text.utf8(envelope(index).toString()));
    }

    /** The log since the last call. */
    List<String> take() {
        List<String> out = new ArrayList<String>(log);
        log.clear();
        return out;
    }

    @Override
    public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
        URI uri = URI.create(url);
        String path = uri.getPath();
        if (uri.getHost().equals("api.test")) {
            JSONObject request = Text.parseObject(Text.fromUtf8(body));
            checks.add(request);
            String product = path.substring("/client/v1/".length(), path.length() - "/check".length());
            JSONObject answer = api == null ? null : api.answer(product, request);
            log.add("POST " + path + " " + (answer == null ? 500 : 200));
            return answer == null ? KitNetwork.response(500, Text.utf8("{}"), null) : KitNetwork.response(200, Text.utf8(answer.toString()), null);
        }
        byte[] file = files.get(path.substring(1));
        if (file == null) {
            log.add("GET " + path + " 404");
            return KitNetwork.response(404, new byte[0], null);
        }
        String etag = "\"" + Text.hex(Text.sha256(file)).substring(0, 16) + "\"";
        int status = etag.equals(headers.get("If-None-Match")) ? 304 : 200;
        log.add("GET " + path + " " + status);
        return KitNetwork.response(status, status == 304 ? new byte[0] : file, etag);
    }
}
