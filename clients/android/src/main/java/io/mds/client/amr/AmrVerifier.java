package io.mds.client.amr;

import io.mds.client.MdsException;
import io.mds.client.engine.Text;
import java.io.InputStream;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Verifies an {@code .amr} H5 package while it streams in (docs/formats.md §2): {@code CERT.json} and its
 * RSA signature first, then every file against the manifest (size, SHA-256), canonical ustar headers and
 * zero padding, the end-of-archive blocks, and optionally the SHA-256 of all bytes from {@code h5.json}.
 * Each file reaches the {@link AmrSink} only after its own check; the caller installs only when
 * {@link #verify} returns.
 */
public final class AmrVerifier {
    private static final String MANIFEST = "CERT.json";
    private static final String SIGNATURE = "CERT.json.sig";
    private static final int MAX_MANIFEST = 32 * 1024 * 1024;
    private static final int MAX_SIGNATURE = 2048;
    private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9\\-_.~]+(?:/[A-Za-z0-9\\-_.~]+)*");
    private static final Pattern H5_ID = Pattern.compile("\\d{8}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final RsaKey key;

    public AmrVerifier(RsaKey key) {
        this.key = key;
    }

    /**
     * Throws {@link MdsException} of kind {@code signature}, {@code digest}, {@code truncated}, {@code extra},
     * {@code format}, or {@code network} when the stream fails.
     */
    public AmrPackage verify(InputStream in, String expectedSha256, AmrSink sink) throws MdsException {
        TarStream stream = new TarStream(in);
        byte[] manifestBytes = small(stream, MANIFEST, MAX_MANIFEST);
        byte[] signature = small(stream, SIGNATURE, MAX_SIGNATURE);
        if (!key.verifies(manifestBytes, signature)) {
            throw new MdsException(MdsException.Kind.SIGNATURE, "signature of " + MANIFEST + " does not match the public key; do not install it");
        }
        JSONObject manifest;
        try {
            manifest = new JSONObject(Text.fromUtf8(manifestBytes));
        } catch (JSONException error) {
            throw new MdsException(MdsException.Kind.FORMAT, MANIFEST + " is not JSON", error);
        }
        if (!"mds-amr/1".equals(manifest.opt("format"))) throw format(MANIFEST + " format is not mds-amr/1");
        Object h5Id = manifest.opt("h5Id");
        Object version = manifest.opt("version");
        if (!(h5Id instanceof String) || !H5_ID.matcher((String) h5Id).matches() || !(version instanceof String)) {
            throw format(MANIFEST + " has no valid h5Id and version");
        }
        Map<String, Object[]> expected = files(manifest.opt("files"));
        Map<String, String> verified = new LinkedHashMap<String, String>();
        for (Map.Entry<String, Object[]> file : expected.entrySet()) {
            String path = file.getKey();
            long size = (Long) file.getValue()[0];
            String name = h5Id + "/" + path;
            TarHeader info = TarHeader.next(stream, "before " + name);
            if (info == null) throw new MdsException(MdsException.Kind.TRUNCATED, "the package is missing file " + path + " listed in the manifest");
            if (!info.name.equals(name)) {
                throw new MdsException(MdsException.Kind.EXTRA, "the package has file " + info.name + " where the manifest lists " + path);
            }
            if (info.size != size) {
                throw new MdsException(MdsException.Kind.DIGEST, "file " + path + " is " + info.size + " bytes; the manifest says " + size);
            }
            byte[] content = stream.exact((int) size, name);
            String digest = Text.hex(Text.sha256(content));
            if (!digest.equals(file.getValue()[1])) {
                throw new MdsException(MdsException.Kind.DIGEST, "file " + path + " does not match its SHA-256 in the manifest");
            }
            padding(stream, size, name);
            sink.file(path, content);
            verified.put(path, digest);
        }
        TarHeader extra = TarHeader.next(stream, "after the last file");
        if (extra != null) throw new MdsException(MdsException.Kind.EXTRA, "the package has file " + extra.name + " that the manifest does not list");
        if (!stream.restIsZeros()) throw new MdsException(MdsException.Kind.EXTRA, "the package has data after the end of the archive");
        String digest = stream.digest();
        if (expectedSha256 != null && !expectedSha256.isEmpty() && !digest.equals(expectedSha256.toLowerCase())) {
            throw new MdsException(MdsException.Kind.DIGEST, "SHA-256 of the package does not match the descriptor");
        }
        return new AmrPackage((String) h5Id, (String) version, manifest, verified, digest, stream.size());
    }

    private static MdsException format(String message) {
        return new MdsException(MdsException.Kind.FORMAT, message);
    }

    private static byte[] small(TarStream stream, String name, int limit) throws MdsException {
        TarHeader info = TarHeader.next(stream, "before " + name);
        if (info == null || !info.name.equals(name)) {
            throw format("the package must start with " + MANIFEST + " and " + SIGNATURE + "; found " + (info == null ? "the end" : info.name));
        }
        if (info.size > limit) throw format(name + " is " + info.size + " bytes; at most " + limit + " are allowed");
        byte[] data = stream.exact((int) info.size, name);
        padding(stream, info.size, name);
        return data;
    }

    private static void padding(TarStream stream, long size, String name) throws MdsException {
        int pad = (int) ((TarHeader.BLOCK - size % TarHeader.BLOCK) % TarHeader.BLOCK);
        for (byte b : stream.exact(pad, name)) if (b != 0) throw format("the package has non-zero padding after " + name);
    }

    /** path → {size, sha256}, with the manifest's safety rules. */
    private static Map<String, Object[]> files(Object value) throws MdsException {
        if (!(value instanceof JSONArray)) throw format("the manifest has no files list");
        JSONArray list = (JSONArray) value;
        Map<String, Object[]> files = new LinkedHashMap<String, Object[]>();
        Set<String> seen = new HashSet<String>();
        for (int i = 0; i < list.length(); i++) {
            JSONObject entry = list.optJSONObject(i);
            Object path = entry == null ? null : entry.opt("path");
            if (!(path instanceof String) || !SAFE_PATH.matcher((String) path).matches() || ("/" + path + "/").contains("/../")) {
                throw format("the manifest lists an unsafe path " + path);
            }
            Object size = entry.opt("size");
            Object sha256 = entry.opt("sha256");
            if (!(size instanceof Integer || size instanceof Long) || ((Number) size).longValue() < 0
                    || ((Number) size).longValue() > Integer.MAX_VALUE
                    || !(sha256 instanceof String) || !SHA256.matcher((String) sha256).matches()) {
                throw format("manifest entry " + path + " has no valid size or sha256");
            }
            if (!seen.add(((String) path).toLowerCase())) throw format("the manifest lists " + path + " twice");
            files.put((String) path, new Object[] {((Number) size).longValue(), sha256});
        }
        for (String path : seen) {
            String[] parts = path.split("/");
            StringBuilder parent = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                if (i > 0) parent.append('/');
                parent.append(parts[i]);
                if (seen.contains(parent.toString())) throw format("the manifest lists " + path + " below a file");
            }
        }
        return files;
    }
}
