package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A version (docs/targeting.md, "Versions"). Its {@link #key()} sorts exactly like the padded part-by-part
 * order: each part is {@code <length letter><digits without leading zeros><lower-case suffix>\u0001}, trailing
 * {@code 0} parts removed; so comparing keys is comparing versions.
 */
public final class Version implements Comparable<Version> {
    private static final int MAX_LENGTH = 64;
    private static final int MAX_DIGITS = 18;
    private static final Pattern PART = Pattern.compile("[0-9A-Za-z]+");
    private static final Pattern LEADING = Pattern.compile("^[0-9]+(?:\\.[0-9]+)*");
    private static final String RULE = "must be dot-separated parts of ASCII letters and digits, e.g. 10.1.32";

    private final String key;
    private final String text;
    private final String canonical;

    private Version(String key, String text, String canonical) {
        this.key = key;
        this.text = text;
        this.canonical = canonical;
    }

    /** A version we are given (package versions, rule values): strict. */
    public static Version parse(String text, String field) throws MdsException {
        if (text == null) throw MdsException.validation(field, "must be a version string, e.g. 10.1.32");
        Object parsed = parseText(text);
        if (parsed instanceof String) throw MdsException.validation(field, (String) parsed);
        return (Version) parsed;
    }

    /** The client version a device reports: a leading {@code v} and a {@code -pre} / {@code +build} tail dropped. */
    public static Version parseReported(String text, String field) throws MdsException {
        if (text == null) throw MdsException.validation(field, "must be a version string, e.g. 10.1.32");
        String bare = undecorated(text);
        if (bare.isEmpty() || bare.charAt(0) < '0' || bare.charAt(0) > '9') {
            throw MdsException.validation(field, "must start with a digit, e.g. 10.1.32");
        }
        return parse(bare, field);
    }

    /** An OS version: the exact parse, else its leading {@code digits(.digits)*}, else null (unknown). */
    public static Version parseLenient(String text) {
        if (text == null) return null;
        String trimmed = dropV(Text.strip(text));
        if (trimmed.isEmpty() || trimmed.charAt(0) < '0' || trimmed.charAt(0) > '9') return null;
        Object exact = parseText(trimmed);
        if (exact instanceof Version) return (Version) exact;
        Matcher prefix = LEADING.matcher(trimmed);
        if (!prefix.find()) return null;
        Object found = parseText(prefix.group());
        return found instanceof Version ? (Version) found : null;
    }

    private static String dropV(String text) {
        boolean v = text.length() > 1 && (text.charAt(0) == 'v' || text.charAt(0) == 'V');
        return v && text.charAt(1) >= '0' && text.charAt(1) <= '9' ? text.substring(1) : text;
    }

    private static String undecorated(String text) {
        String bare = dropV(Text.strip(text));
        for (int i = 0; i < bare.length(); i++) {
            if (bare.charAt(i) == '-' || bare.charAt(i) == '+') return bare.substring(0, i);
        }
        return bare;
    }

    /** A Version, or the rule the text breaks. */
    private static Object parseText(String raw) {
        String text = Text.strip(raw);
        if (text.length() > MAX_LENGTH) return "must be at most " + MAX_LENGTH + " characters";
        List<String[]> parts = new ArrayList<String[]>();
        for (String part : dropV(text).split("\\.", -1)) {
            if (!PART.matcher(part).matches()) return RULE;
            int cut = 0;
            while (cut < part.length() && part.charAt(cut) >= '0' && part.charAt(cut) <= '9') cut++;
            int lead = 0;
            while (lead < cut - 1 && part.charAt(lead) == '0') lead++;
            String number = cut == 0 ? "0" : part.substring(lead, cut);
            if (number.length() > MAX_DIGITS) return "number parts must have at most " + MAX_DIGITS + " digits";
            parts.add(new String[] {number, part.substring(cut).toLowerCase(Locale.ROOT)});
        }
        while (!parts.isEmpty()) {
            String[] last = parts.get(parts.size() - 1);
            if (!last[0].equals("0") || !last[1].isEmpty()) break;
            parts.remove(parts.size() - 1);
        }
        StringBuilder key = new StringBuilder();
        StringBuilder canonical = new StringBuilder();
        for (String[] part : parts) {
            key.append((char) (0x40 + part[0].length())).append(part[0]).append(part[1]).append('\u0001');
            if (canonical.length() > 0) canonical.append('.');
            canonical.append(part[0]).append(part[1]);
        }
        return new Version(key.toString(), text, parts.isEmpty() ? "0" : canonical.toString());
    }

    /** Sorts like the version. */
    public String key() {
        return key;
    }

    /** The text as read (trimmed). */
    public String text() {
        return text;
    }

    /** The shortest text with this value: {@code 1.0.0} → {@code 1}, {@code 01.2A} → {@code 1.2a}. */
    public String canonical() {
        return canonical;
    }

    @Override
    public int compareTo(Version other) {
        return Integer.signum(key.compareTo(other.key));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Version && ((Version) other).key.equals(key);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
