package io.mds.client.amr;

import io.mds.client.MdsException;

/** Receives each file of an {@code .amr} once it verified; nothing is final until the whole package verified. */
public interface AmrSink {
    void file(String path, byte[] content) throws MdsException;
}
