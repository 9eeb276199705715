package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * One product's part of the index ({@code products[<product>]}): the segment files by client-version cuts, the
 * file for an unknown client version, and the section's digest, which changes exactly when the section does
 * (so a change to another product leaves this one's cached dynamic answers in place).
 */
public final class Section {
    private final String digest;
    private final Cuts cuts;
    private final List<FileEntry> segments;
    private final FileEntry unversioned;
    private final List<String> whitelistIds;

    /** A file a section lists: path and the SHA-256 of its signed payload. */
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

    private Section(JSONObject document) throws MdsException {
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
        List<String> ids = new ArrayList<String>();
        JSONArray lists = document.optJSONArray("whitelists");
        for (int i = 0; lists != null && i < lists.length(); i++) ids.add(String.valueOf(lists.opt(i)));
        whitelistIds = Collections.unmodifiableList(ids);
        Object published = document.opt("digest");
        if (published instanceof String && !((String) published).isEmpty()) {
            digest = (String) published; // the publisher's SHA-256 of the section without its digest (signed with it)
        } else {
            JSONObject rest = Json.copy(document);
            rest.remove("digest");
            digest = Text.hex(Text.sha256(Text.utf8(Text.canonicalJson(rest))));
        }
    }

    /** A section of a verified index (or any document with {@code cuts}, {@code segments}, {@code unversioned}). */
    public static Section fromDocument(JSONObject document) throws MdsException {
        return new Section(document);
    }

    /** What a device compares to tell whether this product changed. */
    public String digest() {
        return digest;
    }

    /** The segment a device with {@code clientVersion} reads (null: {@code unversioned}). */
    public FileEntry segmentFor(Version clientVersion) {
        return clientVersion == null ? unversioned : segments.get(cuts.segmentIndex(clientVersion));
    }

    /** The whitelists this product's segments name (their entries are in {@link Index#whitelists()}). */
    public List<String> whitelistIds() {
        return whitelistIds;
    }

    /** A segment file, verified: signature, then its payload SHA-256 against the section's entry. */
    public static List<Candidate> readSegment(byte[] file, FileEntry entry, PublicKeys keys) throws MdsException {
        Envelope opened = Envelope.open(file, keys, "segment " + entry.path());
        if (!Text.hex(Text.sha256(opened.payload())).equals(entry.sha256())) {
            throw new MdsException(MdsException.Kind.DIGEST, "segment " + entry.path() + " is not the one the index lists");
        }
        JSONArray raw = opened.document().optJSONArray("candidates");
        List<Candidate> candidates = new ArrayList<Candidate>();
        for (int i = 0; raw != null && i < raw.length(); i++) candidates.add(Candidate.fromJson(raw.optJSONObject(i)));
        return Collections.unmodifiableList(candidates);
    }
}
