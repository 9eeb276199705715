package io.mds.client.h5;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** The installed file that answers one URL: what {@code shouldInterceptRequest} streams. Immutable. */
public final class H5Resource {
    private static final Map<String, String> TYPES = new HashMap<String, String>();

    static {
        String[] pairs = {"html", "text/html", "htm", "text/html", "js", "application/javascript", "css", "text/css",
            "json", "application/json", "png", "image/png", "jpg", "image/jpeg", "jpeg", "image/jpeg", "gif", "image/gif",
            "svg", "image/svg+xml", "webp", "image/webp", "ico", "image/x-icon", "woff", "font/woff", "woff2", "font/woff2",
            "ttf", "font/ttf", "txt", "text/plain", "xml", "application/xml", "mp3", "audio/mpeg", "mp4", "video/mp4"};
        for (int i = 0; i < pairs.length; i += 2) TYPES.put(pairs[i], pairs[i + 1]);
    }

    private final String h5Id;
    private final String version;
    private final String path;
    private final String storageKey;

    H5Resource(String h5Id, String version, String path, String storageKey) {
        this.h5Id = h5Id;
        this.version = version;
        this.path = path;
        this.storageKey = storageKey;
    }

    public String h5Id() {
        return h5Id;
    }

    public String version() {
        return version;
    }

    /** The path inside the package ({@code www/index.html}). */
    public String path() {
        return path;
    }

    /** The storage key of the file ({@code FileStorage.fileOf(key)} is the file on disk). */
    public String storageKey() {
        return storageKey;
    }

    /** The MIME type by file extension, {@code application/octet-stream} when unknown. */
    public String mimeType() {
        int dot = path.lastIndexOf('.');
        String type = dot < 0 ? null : TYPES.get(path.substring(dot + 1).toLowerCase(Locale.ROOT));
        return type == null ? "application/octet-stream" : type;
    }
}
