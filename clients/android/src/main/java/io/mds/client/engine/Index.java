package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.json.JSONObject;

/**
 * The signed index of one (tenant, platform), schema 2 (docs/delivery.md, "Index document"): the sequence, the
 * poll cadence, when the earliest time-bounded entry ends, every product's {@link Section} and the whitelists
 * the segments name. Immutable.
 */
public final class Index {
    public static final int SCHEMA = 2;

    private final long sequence;
    private final Long pollSeconds;
    private final Long notAfter;
    private final Map<String, Section> sections;
    private final JSONObject whitelists;

    private Index(JSONObject document) throws MdsException {
        Object schema = document.opt("schema");
        if (!(schema instanceof Integer || schema instanceof Long) || ((Number) schema).longValue() != SCHEMA) {
            throw new MdsException(MdsException.Kind.FORMAT, "the index is schema " + schema + ", not " + SCHEMA);
        }
        sequence = document.optLong("sequence");
        JSONObject poll = document.optJSONObject("poll");
        pollSeconds = poll == null ? null : whole(poll.opt("seconds"));
        notAfter = whole(document.opt("notAfter"));
        Map<String, Section> found = new LinkedHashMap<String, Section>();
        JSONObject products = document.optJSONObject("products");
        for (String product : products == null ? Collections.<String>emptyList() : Text.keys(products)) {
            JSONObject section = products.optJSONObject(product);
            if (section != null) found.put(product, Section.fromDocument(section));
        }
        sections = Collections.unmodifiableMap(found);
        JSONObject lists = document.optJSONObject("whitelists");
        whitelists = lists == null ? new JSONObject() : lists;
    }

    private static Long whole(Object value) {
        return value instanceof Number ? Long.valueOf(((Number) value).longValue()) : null;
    }

    /** A verified index document; throws {@code format} for anything that is not a schema-2 index. */
    public static Index fromDocument(JSONObject document) throws MdsException {
        return new Index(document);
    }

    public long sequence() {
        return sequence;
    }

    /** Seconds a device waits between check rounds ({@code poll.seconds}), or null. */
    public Long pollSeconds() {
        return pollSeconds;
    }

    /** Epoch seconds when the earliest time-bounded entry of any product ends, or null. */
    public Long notAfter() {
        return notAfter;
    }

    /** The product's section, or null when nothing is published for it. */
    public Section section(String product) {
        return sections.get(product);
    }

    /** Whitelist ID → {@code {"type": "normal", salt, version, path}} or {@code {"type": "regex", patterns}}. */
    public JSONObject whitelists() {
        return whitelists;
    }

    /** When to check again: now + the poll interval, or {@link #notAfter()} when that is sooner and still ahead. */
    public long nextCheckAt(long now) {
        long due = pollSeconds != null && pollSeconds > 0 ? now + pollSeconds : now;
        return notAfter != null && notAfter > now ? Math.min(due, notAfter) : due;
    }
}
