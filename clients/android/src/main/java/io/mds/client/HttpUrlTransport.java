package io.mds.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.util.Map;

/** {@link Transport} over {@link HttpURLConnection} (Android API 1+). */
public final class HttpUrlTransport implements Transport {
    private final int timeoutMillis;

    public HttpUrlTransport(int timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
        final HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection();
        connection.setRequestMethod(method);
        connection.setConnectTimeout(timeoutMillis);
        connection.setReadTimeout(timeoutMillis);
        connection.setUseCaches(false);
        for (Map.Entry<String, String> header : headers.entrySet()) connection.setRequestProperty(header.getKey(), header.getValue());
        if (body != null) {
            connection.setDoOutput(true);
            connection.setFixedLengthStreamingMode(body.length);
            OutputStream out = connection.getOutputStream();
            try {
                out.write(body);
            } finally {
                out.close();
            }
        }
        final int status = connection.getResponseCode();
        return new Response() {
            @Override
            public int status() {
                return status;
            }

            @Override
            public String header(String name) {
                return connection.getHeaderField(name);
            }

            @Override
            public InputStream body() throws IOException {
                InputStream stream = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
                return stream == null ? new java.io.ByteArrayInputStream(new byte[0]) : stream;
            }

            @Override
            public void close() {
                connection.disconnect();
            }
        };
    }
}
