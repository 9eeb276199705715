package io.mds.client;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** HTTP as the SDK needs it; {@link HttpUrlTransport} is the one for Android. An I/O failure is an IOException. */
public interface Transport {
    /** {@code body} null for GET; {@code headers} as sent. The caller closes the response. */
    Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException;

    /** A status, headers and a body stream. */
    interface Response extends java.io.Closeable {
        int status();

        /** A header by case-insensitive name, or null. */
        String header(String name);

        InputStream body() throws IOException;
    }
}
