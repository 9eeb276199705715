package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/** A product's signed index: its sequence, the segment files by client-version cuts, and the whitelists. */
public final class Index {
    private final long sequence;
    private final Cuts cuts;
    private final List<FileEntry> segments;
    private final FileEntry unversioned;
    private final JSONObject whitelists;

    /** A file an index lists: path and the SHA-256 of its signed payload. */
    public static final class FileEntry {
        private final String path;
        private final String sha256;

        FileEntry(JSONObject json) throws MdsException {
            if (json == null) throw new MdsException(MdsException.Kind.FORMAT, "an index entry is missing");
            path = json.optString("path");
            sha256 = json.optString("sha256");
        }

        public String path() {
            return path;
        }

        public String sha256() {
            return sha256;
        }
    }

    private Index(JSONObject document) throws MdsException {
        sequence = document.optLong("sequence");
        JSONArray rawCuts = document.optJSONArray("cuts");
        cuts = Cuts.fromJson(rawCuts == null ? new JSONArray() : rawCuts);
        List<FileEntry> entries = new ArrayList<FileEntry>();
        JSONArray raw = document.optJSONArray("segments");
        for (int i = 0; raw != null && i < raw.length(); i++) entries.add(new FileEntry(raw.optJSONObject(i)));
        if (entries.size() != (rawCuts == null ? 0 : rawCuts.length()) + 1) {
            throw new MdsException(MdsException.Kind.FORMAT, "the index has " + entries.size() + " segments for its cuts");
        }
        segments = entries;
        unversioned = new FileEntry(document.optJSONObject("unversioned"));
        JSONObject lists = document.optJSONObject("whitelists");
        whitelists = lists == null ? new JSONObject() : lists;
    }

    public static Index fromDocument(JSONObject document) throws MdsException {
        return new Index(document);
    }

    public long sequence() {
        return sequence;
    }

    /** The segment a device with {@code clientVersion} reads (null: {@code unversioned}). */
    public FileEntry segmentFor(Version clientVersion) {
        return clientVersion == null ? unversioned : segments.get(cuts.segmentIndex(clientVersion));
    }

    /** Whitelist ID → {@code {"type": "normal", salt, version, path}} or {@code {"type": "regex", patterns}}. */
    public JSONObject whitelists() {
        return whitelists;
    }

    /** A segment file, verified: signature, then its payload SHA-256 against this index's entry. */
    public static List<Candidate> readSegment(byte[] file, FileEntry entry, PublicKeys keys) throws MdsException {
        Envelope opened = Envelope.open(file, keys, "segment " + entry.path());
        if (!Text.hex(Text.sha256(opened.payload())).equals(entry.sha256())) {
            throw new MdsException(MdsException.Kind.DIGEST, "segment " + entry.path() + " is not the one the index lists");
        }
        JSONArray raw = opened.document().optJSONArray("candidates");
        List<Candidate> candidates = new ArrayList<Candidate>();
        for (int i = 0; raw != null && i < raw.length(); i++) candidates.add(Candidate.fromJson(raw.optJSONObject(i)));
        return candidates;
    }
}
