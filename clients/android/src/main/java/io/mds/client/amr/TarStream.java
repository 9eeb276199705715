package io.mds.client.amr;

import io.mds.client.MdsException;
import io.mds.client.engine.Text;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/** Reads an archive stream exactly, hashing every byte; a short read is {@code truncated}, an I/O error {@code network}. */
final class TarStream {
    private final InputStream in;
    private final MessageDigest hash = Text.sha256();
    private long size;

    TarStream(InputStream in) {
        this.in = in;
    }

    byte[] exact(int n, String what) throws MdsException {
        byte[] out = new byte[n];
        int at = 0;
        try {
            while (at < n) {
                int read = in.read(out, at, n - at);
                if (read < 0) throw new MdsException(MdsException.Kind.TRUNCATED, "the package is truncated (inside " + what + ")");
                at += read;
            }
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.NETWORK, "the package download failed inside " + what, error);
        }
        hash.update(out);
        size += n;
        return out;
    }

    /** Whether only zeros follow, to the end of the stream. */
    boolean restIsZeros() throws MdsException {
        byte[] buffer = new byte[8192];
        boolean zeros = true;
        try {
            for (int read; (read = in.read(buffer)) >= 0; ) {
                hash.update(buffer, 0, read);
                size += read;
                for (int i = 0; i < read && zeros; i++) zeros = buffer[i] == 0;
            }
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.NETWORK, "the package download failed at its end", error);
        }
        return zeros;
    }

    String digest() {
        return Text.hex(hash.digest());
    }

    long size() {
        return size;
    }
}
