package io.mds.client;

import io.mds.client.engine.Answers;
import io.mds.client.engine.Candidate;
import io.mds.client.engine.Device;
import io.mds.client.engine.Envelope;
import io.mds.client.engine.Index;
import io.mds.client.engine.Json;
import io.mds.client.engine.PublicKeys;
import io.mds.client.engine.PublishedMembership;
import io.mds.client.engine.Selection;
import io.mds.client.engine.Selector;
import io.mds.client.engine.Text;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The check every product makes (docs/delivery.md, "The client algorithm"), as the Python reference client:
 * GET the index with If-None-Match, verify it, refuse a lower sequence (rollback) and fall back to the last
 * good index on a network error, bad signature or rollback; GET the device's segment once; decide locally,
 * fetching a whitelist shard only when needed; ask the dynamic API only when the first match is dynamic,
 * reusing that answer for the same sequence and device context. Not thread-safe: one check at a time.
 */
public final class DeliveryClient {
    private static final String STATE = "delivery/state.json";
    private static final Set<MdsException.Kind> FALLBACK = EnumSet.of(MdsException.Kind.NETWORK, MdsException.Kind.SERVER,
            MdsException.Kind.SIGNATURE, MdsException.Kind.UNKNOWN_KEY, MdsException.Kind.FORMAT, MdsException.Kind.ROLLBACK);

    private final MdsOptions options;
    private final PublicKeys keys;

    public DeliveryClient(MdsOptions options) {
        this.options = options;
        this.keys = options.publicKeys();
    }

    public MdsOptions options() {
        return options;
    }

    /** One product check; throws only when there is no last good state to answer from. */
    public synchronized Decision check(String product, Device device) throws MdsException {
        List<String> requests = new ArrayList<String>();
        String path = "m/" + options.appId() + "/" + options.workspaceId() + "/" + product + "/" + device.platform() + "/index.json";
        Index index;
        MdsException refused = null;
        try {
            index = index(path, requests);
        } catch (MdsException error) {
            if (!FALLBACK.contains(error.kind())) throw error;
            byte[] stored = read("files/" + path);
            if (stored == null) throw error;
            index = Index.fromDocument(Envelope.open(stored, keys, "index").document());
            refused = error;
        }
        if (index == null) {
            return new Decision(askServer(product, device, requests), false, null, new HashMap<String, String>(), refused, requests);
        }
        Index.FileEntry entry = index.segmentFor(device.clientVersion());
        byte[] file = immutable(entry.path(), requests);
        if (file == null) throw new MdsException(MdsException.Kind.FORMAT, "segment " + entry.path() + " is missing");
        List<Candidate> candidates = Index.readSegment(file, entry, keys);
        PublishedMembership membership = new PublishedMembership(index.whitelists(), files(requests), keys);
        long now = (long) Math.floor(options.clock().now());
        Selection selection = Selector.decideEach(candidates, device, membership, now);
        Map<String, String> chosen = new LinkedHashMap<String, String>();
        if (selection.askServer() != null) {
            Candidate dynamic = selection.askServer();
            String scope = path + "@" + index.sequence() + ":";
            String key = scope + dynamic.id() + ":" + Text.hex(Text.sha256(Text.utf8(Text.canonicalJson(device.toContext())))).substring(0, 32);
            JSONObject cached = objectIn(state(), "dynamic").optJSONObject(key);
            if (cached != null && (dynamic.notAfter() == null || now < dynamic.notAfter())) {
                chosen.put(dynamic.subject(), dynamic.id());
                return new Decision(cached, true, index.sequence(), chosen, refused, requests);
            }
            JSONObject answer = askServer(product, device, requests);
            remember(scope, key, answer);
            return new Decision(answer, false, index.sequence(), chosen, refused, requests);
        }
        for (Map.Entry<String, Candidate> pick : selection.chosen().entrySet()) chosen.put(pick.getKey(), pick.getValue().id());
        return new Decision(Answers.answerFor(product, selection.chosen(), device), true, index.sequence(), chosen, refused, requests);
    }

    private PublishedMembership.Files files(final List<String> requests) {
        return new PublishedMembership.Files() {
            @Override
            public byte[] get(String path) throws MdsException {
                return immutable(path, requests);
            }
        };
    }

    /** Keeps {@code answer} for {@code key}, dropping answers of older sequences. */
    private void remember(String scope, String key, JSONObject answer) throws MdsException {
        JSONObject state = state();
        JSONObject dynamic = objectIn(state, "dynamic");
        JSONObject kept = new JSONObject();
        for (String name : Text.keys(dynamic)) if (name.startsWith(scope)) Json.put(kept, name, dynamic.opt(name));
        Json.put(kept, key, answer);
        Json.put(state, "dynamic", kept);
        save(state);
    }

    private JSONObject askServer(String product, Device device, List<String> requests) throws MdsException {
        String path = "/client/v1/" + product + "/check";
        JSONObject body = Json.copy(device.toContext());
        Json.put(body, "appId", options.appId());
        Json.put(body, "workspaceId", options.workspaceId());
        Fetched reply = post(options.apiUrl() + path, body);
        requests.add("POST " + path + " " + reply.status);
        if (reply.status != 200) {
            throw MdsException.server(reply.status, "the check API refused the request: HTTP " + reply.status + " " + Text.fromUtf8(reply.body));
        }
        try {
            return new JSONObject(Text.fromUtf8(reply.body));
        } catch (JSONException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "the check API answered something that is not JSON", error);
        }
    }

    private Index index(String path, List<String> requests) throws MdsException {
        JSONObject state = state();
        JSONObject etags = objectIn(state, "etags");
        JSONObject sequences = objectIn(state, "sequences");
        byte[] stored = read("files/" + path);
        Map<String, String> headers = new HashMap<String, String>();
        String etag = etags.optString(path, "");
        if (!etag.isEmpty() && stored != null) headers.put("If-None-Match", etag);
        Fetched reply = get(options.cdnUrl() + "/" + path, headers);
        requests.add("GET /" + path + " " + reply.status);
        if (reply.status == 404) return null;
        if (reply.status == 304 && stored != null) return Index.fromDocument(Envelope.open(stored, keys, "index").document());
        if (reply.status != 200) throw MdsException.server(reply.status, "GET " + path + ": HTTP " + reply.status);
        Index index = Index.fromDocument(Envelope.open(reply.body, keys, "index").document());
        long seen = sequences.optLong(path, 0);
        if (index.sequence() < seen) {
            throw new MdsException(MdsException.Kind.ROLLBACK, "index sequence " + index.sequence() + " is older than " + seen + " (rollback refused)");
        }
        write("files/" + path, reply.body);
        Json.put(etags, path, reply.etag == null ? "" : reply.etag);
        Json.put(sequences, path, index.sequence());
        save(state);
        return index;
    }

    /** An immutable CDN file (segment, shard): fetched once, then read from storage. */
    private byte[] immutable(String path, List<String> requests) throws MdsException {
        byte[] stored = read("files/" + path);
        if (stored != null) return stored;
        Fetched reply = get(options.cdnUrl() + "/" + path, Collections.<String, String>emptyMap());
        requests.add("GET /" + path + " " + reply.status);
        if (reply.status == 404) return null;
        if (reply.status != 200) throw MdsException.server(reply.status, "GET " + path + ": HTTP " + reply.status);
        write("files/" + path, reply.body);
        return reply.body;
    }

    private static JSONObject objectIn(JSONObject state, String name) {
        JSONObject found = state.optJSONObject(name);
        if (found == null) {
            found = new JSONObject();
            Json.put(state, name, found);
        }
        return found;
    }

    /** A whole response. */
    static final class Fetched {
        final int status;
        final String etag;
        final byte[] body;

        Fetched(int status, String etag, byte[] body) {
            this.status = status;
            this.etag = etag;
            this.body = body;
        }
    }

    Fetched get(String url, Map<String, String> headers) throws MdsException {
        return fetch("GET", url, headers, null);
    }

    Fetched post(String url, JSONObject body) throws MdsException {
        Map<String, String> headers = new HashMap<String, String>();
        headers.put("Content-Type", "application/json");
        return fetch("POST", url, headers, Text.utf8(body.toString()));
    }

    private Fetched fetch(String method, String url, Map<String, String> headers, byte[] body) throws MdsException {
        try {
            Transport.Response reply = options.transport().send(method, url, headers, body);
            try {
                return new Fetched(reply.status(), reply.header("ETag"), readAll(reply.body()));
            } finally {
                reply.close();
            }
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.NETWORK, "could not reach " + url + " (" + error.getMessage() + ")", error);
        }
    }

    /** A file by URL: 200 or a typed error (network, server). */
    public byte[] download(String url) throws MdsException {
        Fetched reply = get(url, Collections.<String, String>emptyMap());
        if (reply.status != 200) throw MdsException.server(reply.status, "GET " + url + ": HTTP " + reply.status);
        return reply.body;
    }

    /** POSTs JSON; the status must be 2xx. */
    public void postJson(String url, JSONObject body) throws MdsException {
        Fetched reply = post(url, body);
        if (reply.status / 100 != 2) throw MdsException.server(reply.status, "POST " + url + ": HTTP " + reply.status);
    }

    /** Reads {@code in} to its end and closes it (the SDK's one copy; {@code readAllBytes} needs API 33). */
    public static byte[] readAll(InputStream in) throws IOException {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            for (int read; (read = in.read(buffer)) >= 0; ) out.write(buffer, 0, read);
            return out.toByteArray();
        } finally {
            in.close();
        }
    }

    /** Storage, with its I/O failures as MdsException (kind format: the app's own storage is broken). */
    public byte[] read(String key) throws MdsException {
        try {
            return options.storage().get(key);
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "app storage cannot read " + key, error);
        }
    }

    public void write(String key, byte[] value) throws MdsException {
        try {
            options.storage().put(key, value);
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "app storage cannot write " + key, error);
        }
    }

    public void delete(String key) throws MdsException {
        try {
            options.storage().delete(key);
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "app storage cannot delete " + key, error);
        }
    }

    /** A JSON document kept in storage (an empty object when there is none). */
    public JSONObject readJson(String key) throws MdsException {
        byte[] raw = read(key);
        if (raw == null) return new JSONObject();
        try {
            return new JSONObject(Text.fromUtf8(raw));
        } catch (JSONException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "app storage holds a damaged " + key, error);
        }
    }

    public void writeJson(String key, JSONObject value) throws MdsException {
        write(key, Text.utf8(value.toString()));
    }

    private JSONObject state() throws MdsException {
        return readJson(STATE);
    }

    private void save(JSONObject state) throws MdsException {
        writeJson(STATE, state);
    }
}
