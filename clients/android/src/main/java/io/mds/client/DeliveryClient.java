package io.mds.client;

import io.mds.client.engine.Answers;
import io.mds.client.engine.Candidate;
import io.mds.client.engine.Claims;
import io.mds.client.engine.Device;
import io.mds.client.engine.Envelope;
import io.mds.client.engine.Grant;
import io.mds.client.engine.Index;
import io.mds.client.engine.Json;
import io.mds.client.engine.PublicKeys;
import io.mds.client.engine.PublishedMembership;
import io.mds.client.engine.Section;
import io.mds.client.engine.Selection;
import io.mds.client.engine.Selector;
import io.mds.client.engine.Text;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The check every product makes (docs/delivery.md, "The client algorithm"; client protocol 2), as the Python
 * reference client: one conditional GET of the platform's index {@code m/<app>/<ws>/<platform>/index.json}
 * per round, verified (signature, schema, sequence not below the highest seen: rollback) and kept with its
 * ETag; on a network error, 5xx, bad signature, unknown key or rollback the last good index answers. Each
 * product decides from its section: its segment (fetched once, SHA-256 checked against the index), whitelist
 * shards only when needed, and for a matching time-window entry: a grant the device holds (verified again
 * every time) chooses it with no request, a {@code closed} entry is skipped, otherwise the dynamic API is
 * asked ({@code "protocol": 2}); its answer is reused for the same section digest and device context, and
 * the grants it hands back are kept in storage. Thread-safe: checks run one at a time.
 */
public final class DeliveryClient {
    /** The products one index covers. */
    public static final List<String> PRODUCTS = Collections.unmodifiableList(Arrays.asList("upgrade", "h5", "config", "hotpatch"));
    /** The client protocol this SDK speaks to the check API (2: one index per platform, grants). */
    public static final int PROTOCOL = 2;

    private static final String STATE = "delivery/state.json";
    private static final String GRANTS = "delivery/grants.json";
    private static final int SEGMENTS_IN_MEMORY = 32;
    private static final Set<MdsException.Kind> FALLBACK = EnumSet.of(MdsException.Kind.NETWORK, MdsException.Kind.SERVER,
            MdsException.Kind.SIGNATURE, MdsException.Kind.UNKNOWN_KEY, MdsException.Kind.FORMAT, MdsException.Kind.ROLLBACK);

    private final MdsOptions options;
    private final PublicKeys keys;
    /** Verified segments by path and digest (content-addressed, so never stale), most recently used last. */
    private final Map<String, List<Candidate>> segments = new LinkedHashMap<String, List<Candidate>>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<Candidate>> eldest) {
            return size() > SEGMENTS_IN_MEMORY;
        }
    };

    public DeliveryClient(MdsOptions options) {
        this.options = options;
        this.keys = options.publicKeys();
    }

    public MdsOptions options() {
        return options;
    }

    /** The index a device of {@code platform} polls. */
    public String indexPath(String platform) {
        return "m/" + options.appId() + "/" + options.workspaceId() + "/" + platform + "/index.json";
    }

    /**
     * One product: a round of one (one conditional index request, then what the product needs); its
     * {@link Decision#requests()} are the round's. Throws when the index cannot be read and none is stored, or
     * when the product's own part failed (its segment, the dynamic API).
     */
    public synchronized Decision check(String product, Device device) throws MdsException {
        CheckRound round = checkRound(device, product);
        return round.decision(product).withRequests(round.requests());
    }

    /**
     * Several products (none given: all of {@link #PRODUCTS}) from one conditional index request: when nothing
     * changed that is the round's only request. Throws only when the index cannot be read and none is stored;
     * a product whose own part fails is in {@link CheckRound#errors()}.
     */
    public synchronized CheckRound checkRound(Device device, String... products) throws MdsException {
        List<String> asked = products.length == 0 ? PRODUCTS : Arrays.asList(products);
        List<String> requests = new ArrayList<String>();
        String path = indexPath(device.platform());
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
        long now = (long) Math.floor(options.clock().now());
        Long next = index == null ? null : Long.valueOf(index.nextCheckAt(now));
        Map<String, Decision> decisions = new LinkedHashMap<String, Decision>();
        Map<String, MdsException> errors = new LinkedHashMap<String, MdsException>();
        for (String product : asked) {
            List<String> own = new ArrayList<String>();
            try {
                decisions.put(product, decide(product, device, index, now, refused, own));
            } catch (MdsException error) {
                errors.put(product, error);
            }
            requests.addAll(own);
        }
        return new CheckRound(decisions, errors, requests, refused, next);
    }

    private Decision decide(String product, Device device, Index index, long now, MdsException refused, List<String> requests)
            throws MdsException {
        Map<String, String> chosen = new LinkedHashMap<String, String>();
        Section section = index == null ? null : index.section(product);
        if (section == null) { // nothing published for this product (yet): only the API can answer
            JSONObject answer = askServer(product, device, requests, now);
            return new Decision(answer, false, index == null ? null : index.sequence(), chosen, refused, requests,
                    index == null ? null : Long.valueOf(index.nextCheckAt(now)));
        }
        Long sequence = index.sequence();
        Long next = index.nextCheckAt(now);
        List<Candidate> candidates = segment(section.segmentFor(device.clientVersion()), requests);
        PublishedMembership membership = new PublishedMembership(index.whitelists(), files(requests), keys);
        Selection selection = Selector.decideEach(candidates, device, membership, now, claims(product, device, now));
        Candidate dynamic = selection.askServer();
        if (dynamic != null) {
            // the API's answer for this context cannot change until this product's section does (a granted place
            // stays granted, a full window is published closed) or the entry ends; any other context asks again
            String scope = product + "@" + section.digest();
            String key = scope + ":" + dynamic.id() + ":" + Text.hex(Text.sha256(Text.utf8(Text.canonicalJson(device.toContext())))).substring(0, 32);
            JSONObject cached = objectIn(state(), "dynamic").optJSONObject(key);
            if (cached != null && (dynamic.notAfter() == null || now < dynamic.notAfter())) {
                chosen.put(dynamic.subject(), dynamic.id());
                return new Decision(cached, true, sequence, chosen, refused, requests, next);
            }
            JSONObject answer = askServer(product, device, requests, now);
            remember(product, scope, key, answer);
            return new Decision(answer, false, sequence, chosen, refused, requests, next);
        }
        for (Map.Entry<String, Candidate> pick : selection.chosen().entrySet()) chosen.put(pick.getKey(), pick.getValue().id());
        return new Decision(Answers.answerFor(product, selection.chosen(), device), true, sequence, chosen, refused, requests, next);
    }

    private List<Candidate> segment(Section.FileEntry entry, List<String> requests) throws MdsException {
        String name = entry.path() + "#" + entry.sha256();
        List<Candidate> found = segments.get(name);
        if (found != null) return found;
        byte[] file = immutable(entry.path(), requests);
        if (file == null) throw new MdsException(MdsException.Kind.FORMAT, "segment " + entry.path() + " is missing");
        found = Section.readSegment(file, entry, keys);
        segments.put(name, found);
        return found;
    }

    private PublishedMembership.Files files(final List<String> requests) {
        return new PublishedMembership.Files() {
            @Override
            public byte[] get(String path) throws MdsException {
                return immutable(path, requests);
            }
        };
    }

    /** Keeps {@code answer} for {@code key}, dropping this product's answers of older sections. */
    private void remember(String product, String scope, String key, JSONObject answer) throws MdsException {
        JSONObject state = state();
        JSONObject dynamic = objectIn(state, "dynamic");
        JSONObject kept = new JSONObject();
        for (String name : Text.keys(dynamic)) {
            boolean otherProduct = !name.startsWith(product + "@");
            if (otherProduct || name.startsWith(scope + ":")) Json.put(kept, name, dynamic.opt(name));
        }
        Json.put(kept, key, answer);
        Json.put(state, "dynamic", kept);
        save(state);
    }

    // --- grants ---------------------------------------------------------------------------------------

    /** The places the device holds: a stored grant that verifies again now. Grants are read once per decision. */
    private Claims claims(final String product, final Device device, final long now) {
        return new Claims() {
            private JSONObject grants;

            @Override
            public boolean holds(Candidate candidate) throws MdsException {
                if (grants == null) grants = readJson(GRANTS);
                return refusal(grants, product, candidate.id(), device, now) == null;
            }
        };
    }

    /**
     * Whether the device holds a time-window place in {@code candidateId} of {@code product} now: null when a
     * stored grant verifies again (signature by a pinned key, this app and workspace, this release, the device's
     * identity, now &lt; until), else why not: {@code none} (no grant stored) or a {@link Grant} reason code.
     */
    public synchronized String grantRefusal(String product, String candidateId, Device device) throws MdsException {
        return refusal(readJson(GRANTS), product, candidateId, device, (long) Math.floor(options.clock().now()));
    }

    private String refusal(JSONObject grants, String product, String candidateId, Device device, long now) {
        String identity = device.identity();
        JSONObject stored = grants.optJSONObject(product + "|" + candidateId + "|" + Grant.identityHash(identity == null ? "" : identity));
        if (stored == null) return "none";
        return Grant.refusal(Text.utf8(stored.toString()), keys, options.appId(), options.workspaceId(), product, candidateId, device, now);
    }

    /** Stores the grants of an API answer that verify and are for this app and workspace; drops run-out ones. */
    void keepGrants(JSONArray envelopes, long now) throws MdsException {
        JSONObject stored = readJson(GRANTS);
        JSONObject kept = new JSONObject();
        for (String key : Text.keys(stored)) {
            JSONObject envelope = stored.optJSONObject(key);
            try {
                if (envelope != null && Grant.open(Text.utf8(envelope.toString()), keys).until() > now) Json.put(kept, key, envelope);
            } catch (MdsException unreadable) {
                // no longer verifies (a key the app stopped pinning): of no use any more
            }
        }
        for (int i = 0; i < envelopes.length(); i++) {
            JSONObject envelope = envelopes.optJSONObject(i);
            if (envelope == null) continue;
            Grant grant;
            try {
                grant = Grant.open(Text.utf8(envelope.toString()), keys);
            } catch (MdsException notOurs) {
                continue; // not signed by a pinned key, or not a grant: the device simply asks again next time
            }
            if (grant.appId().equals(options.appId()) && grant.workspaceId().equals(options.workspaceId()) && grant.until() > now) {
                Json.put(kept, grant.product() + "|" + grant.candidate() + "|" + grant.identity(), envelope);
            }
        }
        writeJson(GRANTS, kept);
    }

    private JSONObject askServer(String product, Device device, List<String> requests, long now) throws MdsException {
        String path = "/client/v1/" + product + "/check";
        JSONObject body = Json.copy(device.toContext());
        Json.put(body, "appId", options.appId());
        Json.put(body, "workspaceId", options.workspaceId());
        Json.put(body, "protocol", PROTOCOL);
        Fetched reply = post(options.apiUrl() + path, body);
        requests.add("POST " + path + " " + reply.status);
        if (reply.status != 200) {
            throw MdsException.server(reply.status, "the check API refused the request: HTTP " + reply.status + " " + Text.fromUtf8(reply.body));
        }
        JSONObject answer;
        try {
            answer = new JSONObject(Text.fromUtf8(reply.body));
        } catch (JSONException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "the check API answered something that is not JSON", error);
        }
        Object grants = answer.remove("grants");
        if (grants instanceof JSONArray && ((JSONArray) grants).length() > 0) keepGrants((JSONArray) grants, now);
        return answer;
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
        forgetProtocolOne(state, etags, sequences);
        save(state);
        return index;
    }

    /** What an earlier SDK of the app (client protocol 1) kept: per-product indexes, answers cached by their sequence. */
    private void forgetProtocolOne(JSONObject state, JSONObject etags, JSONObject sequences) throws MdsException {
        String base = "m/" + options.appId() + "/" + options.workspaceId() + "/";
        for (String product : PRODUCTS) {
            for (String platform : new String[] {"android", "ios"}) {
                String legacy = base + product + "/" + platform + "/index.json";
                if (!etags.has(legacy) && !sequences.has(legacy)) continue;
                delete("files/" + legacy);
                etags.remove(legacy);
                sequences.remove(legacy);
            }
        }
        JSONObject dynamic = state.optJSONObject("dynamic");
        for (String key : dynamic == null ? Collections.<String>emptyList() : Text.keys(dynamic)) if (key.startsWith("m/")) dynamic.remove(key);
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
