package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mds.client.engine.Device;
import io.mds.client.engine.Text;
import io.mds.client.upgrade.ApkDownload;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import io.mds.client.upgrade.UpgradeResult;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncated downloads, bad packages and network failures end in typed errors with the last good state kept. */
class FailureTest {
    private static final byte[] APK = new byte[5000];

    static {
        for (int i = 0; i < APK.length; i++) APK[i] = (byte) (i * 31);
    }

    /** Serves the scenario's upgrade answer from the API and the APK, cut after {@code cut} bytes once. */
    static final class ApkServer implements Transport {
        int cut = -1;
        byte[] served = APK;
        final List<String> ranges = new ArrayList<String>();

        @Override
        public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
            String range = headers.get("Range");
            ranges.add(String.valueOf(range));
            int from = range == null ? 0 : Integer.parseInt(range.substring(6, range.length() - 1));
            byte[] rest = java.util.Arrays.copyOfRange(served, from, served.length);
            final int limit = cut;
            cut = -1;
            final InputStream whole = new java.io.ByteArrayInputStream(rest);
            final InputStream stream = limit < 0 ? whole : new InputStream() {
                int sent;

                @Override
                public int read() throws IOException {
                    if (sent++ >= limit) throw new IOException("connection reset");
                    return whole.read();
                }
            };
            final int status = range == null ? 200 : 206;
            return new Response() {
                public int status() {
                    return status;
                }

                public String header(String name) {
                    return null;
                }

                public InputStream body() {
                    return stream;
                }

                public void close() {}
            };
        }
    }

    private static UpgradeCheck offered(KitNetwork network, String sha256, long size) throws Exception {
        network.apiAnswer = new JSONObject().put("resultStatus", 206).put("downloadURL", "http://cdn.kit/dl/5.apk")
                .put("taskId", "5").put("fileSha256", sha256).put("fileSize", size).put("needClientNetType", "");
        DeliveryClient delivery = new DeliveryClient(MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit").appId("A")
                .publicKey("k", Text.toBase64(new byte[32])).storage(new MemoryStorage()).transport(network).build());
        UpgradeCheck check = new UpgradeClient(delivery).check(Device.builder().platform("android").clientVersion("4.0").build());
        assertEquals(UpgradeResult.HAS_NEW_VERSION, check.result());
        return check;
    }

    @Test
    void aTruncatedDownloadIsKeptAndResumedWithRange(@TempDir File dir) throws Exception {
        UpgradeCheck check = offered(new KitNetwork(), Text.hex(Text.sha256(APK)), APK.length);
        ApkServer server = new ApkServer();
        server.cut = 1000;
        ApkDownload download = new ApkDownload(server, dir);
        MdsException error = assertThrows(MdsException.class, () -> download.download(check, null));
        assertEquals(MdsException.Kind.NETWORK, error.kind());
        assertEquals(null, download.downloaded(check));
        File apk = download.download(check, null);
        assertArrayEquals(APK, Files.readAllBytes(apk.toPath()));
        assertEquals("bytes=1000-", server.ranges.get(1));
        assertEquals(apk, download.downloaded(check)); // already downloaded: no request
        download.download(check, null);
        assertEquals(2, server.ranges.size());
    }

    @Test
    void aPackageOtherThanTheAnswerNamesIsRefusedAndDeleted(@TempDir File dir) throws Exception {
        UpgradeCheck check = offered(new KitNetwork(), Text.hex(Text.sha256(Text.utf8("another build"))), APK.length);
        ApkDownload download = new ApkDownload(new ApkServer(), dir);
        assertEquals(MdsException.Kind.DIGEST, assertThrows(MdsException.class, () -> download.download(check, null)).kind());
        assertEquals(0, dir.listFiles().length);
    }

    @Test
    void aDownloadEndingEarlyIsTruncated(@TempDir File dir) throws Exception {
        UpgradeCheck check = offered(new KitNetwork(), Text.hex(Text.sha256(APK)), APK.length + 10);
        assertEquals(MdsException.Kind.TRUNCATED, assertThrows(MdsException.class, () -> new ApkDownload(new ApkServer(), dir).download(check, null)).kind());
    }

    @Test
    void aWrongNetworkTypeRefusesTheDownload(@TempDir File dir) throws Exception {
        KitNetwork network = new KitNetwork();
        network.apiAnswer = new JSONObject().put("resultStatus", 204).put("downloadURL", "http://cdn.kit/dl/5.apk").put("needClientNetType", "WIFI");
        DeliveryClient delivery = new DeliveryClient(MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit").appId("A")
                .publicKey("k", Text.toBase64(new byte[32])).storage(new MemoryStorage()).transport(network).networkType(() -> "4G").build());
        UpgradeCheck check = new UpgradeClient(delivery).check(Device.builder().platform("android").build());
        assertTrue(!check.prompt() && !check.networkAllowed());
        assertEquals(MdsException.Kind.NETWORK_TYPE, assertThrows(MdsException.class, () -> new ApkDownload(network, dir).download(check, null)).kind());
    }

    @Test
    void aNetworkFailureOnTheFirstCheckIsHasSomeError() throws Exception {
        Transport down = (method, url, headers, body) -> {
            throw new IOException("no route to host");
        };
        DeliveryClient delivery = new DeliveryClient(MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit").appId("A")
                .publicKey("k", Text.toBase64(new byte[32])).storage(new MemoryStorage()).transport(down).build());
        UpgradeCheck check = new UpgradeClient(delivery).check(Device.builder().platform("android").build());
        assertEquals(UpgradeResult.HAS_SOME_ERROR, check.result());
        assertEquals(MdsException.Kind.NETWORK, check.error().kind());
    }
}
