package io.mds.client.h5;

import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.Transport;
import io.mds.client.amr.AmrPackage;
import io.mds.client.amr.AmrSink;
import io.mds.client.amr.AmrVerifier;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Downloads one package and verifies it while it streams ({@link AmrVerifier}), writing each verified
 * file under the new version's own keys. Nothing points at those keys yet: the caller switches to the
 * version only when this returns. On any failure the keys written so far are deleted again.
 */
final class H5Download {
    private final DeliveryClient delivery;
    private final AmrVerifier verifier;

    H5Download(DeliveryClient delivery, AmrVerifier verifier) {
        this.delivery = delivery;
        this.verifier = verifier;
    }

    /** Throws {@code network}, {@code server}, {@code signature}, {@code digest}, {@code truncated}, {@code extra}, {@code format}. */
    H5Installed fetch(final H5Package item) throws MdsException {
        final List<String> written = new ArrayList<String>();
        try {
            AmrPackage verified = stream(item, new AmrSink() {
                @Override
                public void file(String path, byte[] content) throws MdsException {
                    String key = H5Installed.keyOf(item.h5Id(), item.version(), path);
                    written.add(key);
                    delivery.write(key, content);
                }
            });
            if (!verified.h5Id().equals(item.h5Id()) || !verified.version().equals(item.version())) {
                throw new MdsException(MdsException.Kind.DIGEST, "the package is " + verified.h5Id() + " " + verified.version()
                        + ", not " + item.h5Id() + " " + item.version());
            }
            List<String> files = new ArrayList<String>(verified.files().keySet());
            written.clear();
            return new H5Installed(item.h5Id(), item.version(), item.vhost(), item.mainUrl(), files, item.asyncReqRate());
        } finally {
            for (String key : written) delivery.delete(key);
        }
    }

    private AmrPackage stream(H5Package item, AmrSink sink) throws MdsException {
        Transport.Response reply;
        try {
            reply = delivery.options().transport().send("GET", item.amrUrl(), Collections.<String, String>emptyMap(), null);
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.NETWORK, "could not reach " + item.amrUrl() + " (" + error.getMessage() + ")", error);
        }
        try {
            if (reply.status() != 200) throw MdsException.server(reply.status(), "GET " + item.amrUrl() + ": HTTP " + reply.status());
            return verifier.verify(reply.body(), item.sha256(), sink);
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.NETWORK, "the download of " + item.amrUrl() + " failed (" + error.getMessage() + ")", error);
        } finally {
            try {
                reply.close();
            } catch (IOException ignored) {
                // the package is verified or refused already; a failing close changes neither
            }
        }
    }
}
